package io.quejava.ext.notify;

import java.time.Duration;
import java.time.Instant;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * When a pool should be woken, given the jobs announced to it: at once for a job due now, at its
 * {@code run_at} (by the database's clock, as far as the JVM knows it) for a job due later, and once
 * more a moment after a burst for a worker that was mid-walk. No I/O and no threads: the listener
 * feeds it messages and the time, and asks it what is due; the tests drive it with a clock of their
 * own. One per {@link NotifyWakeups}; used by its listener thread only.
 */
final class WakeScheduler {
  /** Scheduled wake-ups fire this long after the run_at, so the job is surely due by then. */
  static final long SCHEDULE_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private final int maxScheduled;
  private final long followUpNanos;
  /** Deadlines (System.nanoTime() values) of the scheduled wake-ups. */
  private final TreeSet<Long> scheduled = new TreeSet<>();
  /** When the pending follow-up wake fires, or 0 when none is pending. */
  private long followUpAt;
  /** The database's clock minus the JVM's, and the uncertainty of that estimate. */
  private long clockOffsetNanos;
  private long clockErrorNanos;

  WakeScheduler(int maxScheduled, Duration followUp) {
    this.maxScheduled = maxScheduled;
    this.followUpNanos = followUp.toNanos();
  }

  /** What a clock reading found: the database's time minus the JVM's, give or take {@code errorNanos}. */
  void clock(long offsetNanos, long errorNanos) {
    this.clockOffsetNanos = offsetNanos;
    this.clockErrorNanos = errorNanos;
  }

  /**
   * A job announced with this {@code runAt} (null: due now, or unknown). Returns true when it is due
   * now, so the pool should be woken at once; otherwise a wake-up is scheduled at its run_at, unless
   * {@code maxScheduled} later ones are kept already (polling finds it then).
   */
  boolean announced(Instant runAt, long nowNanos, Instant wallNow) {
    if (runAt == null) {
      return true;
    }
    long dueIn = Duration.between(wallNow.plusNanos(clockOffsetNanos), runAt).toNanos();
    if (dueIn <= 0) {
      return true;
    }
    schedule(nowNanos + dueIn + SCHEDULE_MARGIN_NANOS + clockErrorNanos);
    return false;
  }

  /**
   * After a wake for jobs due now: one more wake a moment later (one pending at a time, however many
   * messages come), for a worker that was mid-walk when the job committed and is about to sleep.
   */
  void woke(long nowNanos) {
    if (followUpNanos > 0 && (followUpAt == 0 || followUpAt - nowNanos < 0)) {
      followUpAt = nowNanos + followUpNanos;
      scheduled.add(followUpAt);
    }
  }

  private void schedule(long deadline) {
    if (maxScheduled == 0) {
      return;
    }
    if (scheduled.size() >= maxScheduled) {
      Long last = scheduled.last();
      if (deadline >= last) {
        return; // polling will find it
      }
      scheduled.remove(last);
    }
    scheduled.add(deadline);
  }

  /** Removes the wake-ups due at {@code nowNanos}; true when there was at least one (wake once). */
  boolean takeDue(long nowNanos) {
    boolean due = false;
    while (!scheduled.isEmpty() && scheduled.first() - nowNanos <= 0) {
      scheduled.pollFirst();
      due = true;
    }
    return due;
  }

  /** The earlier of {@code until} and the next scheduled wake-up. */
  long nextDeadline(long until) {
    return scheduled.isEmpty() ? until : Math.min(until, scheduled.first());
  }

  /** Wake-ups scheduled now. */
  int scheduledCount() {
    return scheduled.size();
  }
}
