package io.quejava.ext.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * When a schedule ticks. Implementations: {@link IntervalTiming} (fixed intervals on the UTC epoch
 * grid) and {@link CronTiming} (cron in a time zone, needs cron-utils).
 */
interface Timing {
  /** The first tick strictly after {@code t}, or null when there is none (a cron that never fires again). */
  Instant nextAfter(Instant t);

  /**
   * The latest tick in {@code [due, now]}, or {@code due} itself when no tick lies in between
   * ({@code due} was set off the grid); {@code due <= now}. Searches backwards from {@code now} in
   * growing windows, so a scheduler that was down for a year does not step through every tick.
   */
  default Instant latestAtOrBefore(Instant now, Instant due) {
    Instant floor = due.minusNanos(1000);
    for (Duration window : WINDOWS) {
      Instant from = now.minus(window);
      boolean last = !from.isAfter(floor);
      if (last) {
        from = floor;
      }
      Instant t = nextAfter(from);
      if (t != null && !t.isAfter(now)) {
        for (int i = 0; i < MAX_STEPS; i++) {
          Instant n = nextAfter(t);
          if (n == null || n.isAfter(now)) {
            return t;
          }
          t = n;
        }
        throw new IllegalStateException("more than " + MAX_STEPS + " ticks in " + window);
      }
      if (last) {
        break;
      }
    }
    return due;
  }

  /** Search windows of {@link #latestAtOrBefore}; each holds few ticks of a schedule whose ticks the smaller one missed. */
  List<Duration> WINDOWS = List.of(Duration.ofMinutes(2), Duration.ofHours(2), Duration.ofDays(2), Duration.ofDays(64),
      Duration.ofDays(800), Duration.ofDays(365L * 30), Duration.ofDays(365L * 10_000));

  int MAX_STEPS = 200_000;
}
