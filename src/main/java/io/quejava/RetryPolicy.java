package io.quejava;

import java.time.Duration;

/**
 * How long a failed job waits before its next attempt, given its new error count (1 after the first
 * failure). The schema-3 protocol stores whole seconds, so the delay is rounded up to a second.
 */
@FunctionalInterface
public interface RetryPolicy {
  /** {@code errorCount^4 + 3} seconds (4 s, 19 s, 84 s, 259 s, ...), as Ruby Que and que-go do. */
  RetryPolicy DEFAULT = errorCount -> Duration.ofSeconds(quarticSeconds(errorCount));

  Duration delay(int errorCount);

  /** A fixed delay, whatever the count. */
  static RetryPolicy fixed(Duration delay) {
    if (delay == null || delay.isNegative()) {
      throw new IllegalArgumentException("delay: must be zero or positive, got " + delay);
    }
    return errorCount -> delay;
  }

  /**
   * {@code n^4 + 3}, capped at 100 years so that a job that failed millions of times still gets an
   * interval PostgreSQL can add to now().
   */
  private static long quarticSeconds(int errorCount) {
    long n = Math.max(errorCount, 0);
    long cap = 100L * 365 * 24 * 3600;
    if (n > 2000) {
      return cap;
    }
    return Math.min(n * n * n * n + 3, cap);
  }
}
