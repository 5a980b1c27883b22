package io.quejava.ext.schedule;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.zone.ZoneOffsetTransition;
import java.util.Optional;

/**
 * A five-field Unix cron expression ({@code minute hour day-of-month month day-of-week}) read in a
 * time zone, parsed and matched by cron-utils. The only class that touches cron-utils: it is loaded
 * only for cron schedules, so everything else works without the library.
 *
 * <p>Daylight saving time: the expression is matched against wall-clock times, and each matching
 * wall-clock time is then placed on the time line by the zone's rules. A time that does not exist
 * (in the spring-forward gap) moves forward by the length of the gap, so a daily 02:30 in
 * Europe/Berlin runs at 03:30 on the day of the gap; a time that exists twice (in the fall-back
 * overlap) runs once, at its first occurrence. This is the rule {@link ZonedDateTime#ofLocal}
 * applies and what Vixie cron users expect: every day that has the schedule's time, or loses it to
 * the gap, gets exactly one tick.
 */
final class CronTiming implements Timing {
  private static final CronParser PARSER =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  /** Wall-clock steps tried before giving up (a cron that matches only in a never-existing local time). */
  private static final int MAX_STEPS = 10_000;

  private final ExecutionTime execution;
  private final ZoneId zone;

  private CronTiming(ExecutionTime execution, ZoneId zone) {
    this.execution = execution;
    this.zone = zone;
  }

  /**
   * Parses {@code expression} for {@code zone}.
   *
   * @throws IllegalArgumentException when the expression is not a valid five-field Unix cron
   */
  static Timing parse(String expression, ZoneId zone) {
    try {
      return new CronTiming(ExecutionTime.forCron(PARSER.parse(expression).validate()), zone);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cron: '" + expression + "' is not a five-field Unix cron expression ("
          + e.getMessage() + ")", e);
    }
  }

  @Override
  public Instant nextAfter(Instant t) {
    LocalDateTime wall = LocalDateTime.ofInstant(t, zone);
    // A wall-clock time just before t's, inside a spring-forward gap that ended less than a gap
    // ago, is placed after t: start the search a gap earlier so it is not missed.
    ZoneOffsetTransition previous = zone.getRules().previousTransition(t.plusNanos(1));
    if (previous != null && previous.isGap()
        && Duration.between(previous.getInstant(), t).compareTo(previous.getDuration()) < 0) {
      wall = wall.minus(previous.getDuration());
    }
    for (int i = 0; i < MAX_STEPS; i++) {
      Optional<ZonedDateTime> next = execution.nextExecution(wall.atZone(ZoneOffset.UTC));
      if (next.isEmpty()) {
        return null;
      }
      wall = next.get().toLocalDateTime();
      Instant at = ZonedDateTime.ofLocal(wall, zone, null).toInstant();
      if (at.isAfter(t)) {
        return at;
      }
    }
    throw new IllegalStateException("cron: no tick found after " + t + " in " + MAX_STEPS + " steps");
  }
}
