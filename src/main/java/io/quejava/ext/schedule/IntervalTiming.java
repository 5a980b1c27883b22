package io.quejava.ext.schedule;

import java.time.Duration;
import java.time.Instant;

/**
 * Ticks every {@code every}, on the grid of its multiples since the UTC epoch: every 15 minutes
 * ticks at :00, :15, :30 and :45 whoever created the schedule and whenever. Fixed durations, so
 * daylight saving time never moves them; use a cron schedule for wall-clock times.
 */
record IntervalTiming(long everyMicros) implements Timing {
  @Override
  public Instant nextAfter(Instant t) {
    long k = Math.floorDiv(micros(t), everyMicros);
    return instant((k + 1) * everyMicros);
  }

  @Override
  public Instant latestAtOrBefore(Instant now, Instant due) {
    Instant grid = instant(Math.floorDiv(micros(now), everyMicros) * everyMicros);
    return grid.isBefore(due) ? due : grid;
  }

  Duration every() {
    return Duration.ofSeconds(Math.floorDiv(everyMicros, 1_000_000), Math.floorMod(everyMicros, 1_000_000) * 1000);
  }

  static long micros(Instant t) {
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
  }

  static Instant instant(long micros) {
    return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000);
  }
}
