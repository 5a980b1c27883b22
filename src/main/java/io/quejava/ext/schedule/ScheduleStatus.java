package io.quejava.ext.schedule;

import java.time.Instant;

/** A {@code que_schedules} row as read: the schedule and where it stands. Immutable. */
public final class ScheduleStatus {
  private final Schedule schedule;
  private final boolean enabled;
  private final Instant nextRunAt;
  private final Instant lastRunAt;
  private final String lastError;
  private final Instant createdAt;
  private final Instant updatedAt;

  ScheduleStatus(Schedule schedule, boolean enabled, Instant nextRunAt, Instant lastRunAt, String lastError,
      Instant createdAt, Instant updatedAt) {
    this.schedule = schedule;
    this.enabled = enabled;
    this.nextRunAt = nextRunAt;
    this.lastRunAt = lastRunAt;
    this.lastError = lastError;
    this.createdAt = createdAt;
    this.updatedAt = updatedAt;
  }

  /** The schedule. */
  public Schedule schedule() {
    return schedule;
  }

  /** The schedule's name. */
  public String name() {
    return schedule.name();
  }

  /** False while {@link Schedules#disable disabled}: schedulers leave it alone. */
  public boolean enabled() {
    return enabled;
  }

  /** The next tick not yet enqueued. */
  public Instant nextRunAt() {
    return nextRunAt;
  }

  /** The tick of the last job enqueued (its run_at); empty before the first. */
  public java.util.Optional<Instant> lastRunAt() {
    return java.util.Optional.ofNullable(lastRunAt);
  }

  /** Why the last tick enqueued nothing (the enqueue failed); empty when it succeeded. */
  public java.util.Optional<String> lastError() {
    return java.util.Optional.ofNullable(lastError);
  }

  /** When the schedule was first created. */
  public Instant createdAt() {
    return createdAt;
  }

  /** When the schedule's row last changed. */
  public Instant updatedAt() {
    return updatedAt;
  }

  @Override
  public String toString() {
    return "ScheduleStatus{" + schedule + ", enabled=" + enabled + ", nextRunAt=" + nextRunAt + ", lastRunAt="
        + lastRunAt + (lastError != null ? ", lastError=" + lastError : "") + "}";
  }
}
