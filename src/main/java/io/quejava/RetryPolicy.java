package io.quejava;

import io.quejava.internal.Args;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * How long a failed job waits before its next attempt, given its new error count (1 after the first
 * failure). The schema-3 protocol stores whole seconds, so the delay is rounded up to a second.
 *
 * <pre>{@code
 * RetryPolicy.DEFAULT                                         // count^4 + 3 s, as Ruby Que and que-go
 * RetryPolicy.DEFAULT.withJitter(0.25)                        // the same, spread uniformly over ±25%
 * RetryPolicy.exponential(Duration.ofSeconds(2), Duration.ofHours(1)).withJitter(0.1)
 * RetryPolicy.byClass(RetryPolicy.DEFAULT)                    // one policy per job class
 *     .put("Webhooks::Deliver", RetryPolicy.exponential(Duration.ofSeconds(5), Duration.ofMinutes(30)))
 *     .build();
 * }</pre>
 *
 * <p>The default stays exactly Que's formula, so a deployment that mixes Ruby, Go and Java workers
 * retries a job on the same schedule whichever of them ran it. Jitter is for bursts: a thousand jobs
 * that fail together (an API down for a minute) otherwise come back together, all at count^4 + 3.
 */
@FunctionalInterface
public interface RetryPolicy {
  /** {@code errorCount^4 + 3} seconds (4 s, 19 s, 84 s, 259 s, ...), as Ruby Que and que-go do. */
  RetryPolicy DEFAULT = errorCount -> Duration.ofSeconds(quarticSeconds(errorCount));

  /** The longest delay any policy here answers: 100 years (what PostgreSQL adds to now() comfortably). */
  Duration MAX_DELAY = Duration.ofDays(100L * 365);

  Duration delay(int errorCount);

  /**
   * The delay for this job, the one the worker asks. By default {@link #delay(int)}; policies that
   * depend on the job (such as {@link #byClass}) override it.
   */
  default Duration delay(Job job, int errorCount) {
    return delay(errorCount);
  }

  /** A fixed delay, whatever the count. */
  static RetryPolicy fixed(Duration delay) {
    if (delay == null || delay.isNegative()) {
      throw new IllegalArgumentException("delay: must be zero or positive, got " + delay);
    }
    return errorCount -> delay;
  }

  /**
   * {@code base * 2^(errorCount - 1)}, at most {@code cap}: 2 s, 4 s, 8 s, ... with base 2 s.
   *
   * @throws IllegalArgumentException when base is not positive or cap is less than base
   */
  static RetryPolicy exponential(Duration base, Duration cap) {
    Args.notNull(base, "base");
    Args.notNull(cap, "cap");
    if (base.isNegative() || base.isZero()) {
      throw new IllegalArgumentException("base: must be positive, got " + base);
    }
    if (cap.compareTo(base) < 0) {
      throw new IllegalArgumentException("cap: must be at least the base (" + base + "), got " + cap);
    }
    Duration limit = cap.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : cap;
    return errorCount -> {
      int doublings = Math.max(errorCount, 1) - 1;
      if (doublings >= 62) {
        return limit;
      }
      Duration d = base;
      for (int i = 0; i < doublings; i++) {
        d = d.multipliedBy(2);
        if (d.compareTo(limit) >= 0) {
          return limit;
        }
      }
      return d.compareTo(limit) > 0 ? limit : d;
    };
  }

  /**
   * This policy with a random spread: each delay is multiplied by a factor drawn uniformly from
   * {@code [1 - spread, 1 + spread]}, so on average it stays this policy's delay while jobs that
   * failed together come back spread out. The random numbers come from {@link ThreadLocalRandom}.
   *
   * @param spread from 0 (no jitter) to 1 (anywhere from no delay to twice the delay)
   */
  default RetryPolicy withJitter(double spread) {
    return withJitter(spread, null);
  }

  /**
   * As {@link #withJitter(double)} with random numbers from {@code random} (shared by every worker
   * thread of the pool, so it must be thread-safe, as {@link java.util.Random} is); tests give a
   * seeded one.
   */
  default RetryPolicy withJitter(double spread, RandomGenerator random) {
    if (!(spread >= 0 && spread <= 1)) {
      throw new IllegalArgumentException("spread: must be from 0 to 1, got " + spread);
    }
    RetryPolicy base = this;
    return new RetryPolicy() {
      @Override
      public Duration delay(int errorCount) {
        return jitter(base.delay(errorCount));
      }

      @Override
      public Duration delay(Job job, int errorCount) {
        return jitter(base.delay(job, errorCount));
      }

      private Duration jitter(Duration d) {
        if (d == null || spread == 0 || d.isZero() || d.isNegative()) {
          return d;
        }
        RandomGenerator r = random != null ? random : ThreadLocalRandom.current();
        double factor = 1 + spread * (2 * r.nextDouble() - 1);
        double nanos = (d.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : d).toNanos() * factor;
        if (nanos >= MAX_DELAY.toNanos()) {
          return MAX_DELAY;
        }
        return Duration.ofNanos(Math.max(0, Math.round(nanos)));
      }

      @Override
      public String toString() {
        return base + " with jitter ±" + spread;
      }
    };
  }

  /**
   * A policy per job class, {@code otherwise} for every other class: give the result to
   * {@code WorkerPool.Builder.retryPolicy} or {@code WorkerConfig.Builder.retryPolicy}.
   */
  static ByClass byClass(RetryPolicy otherwise) {
    return new ByClass(Args.notNull(otherwise, "otherwise"));
  }

  /** Builder of a policy that picks one by the failed job's class; see {@link RetryPolicy#byClass}. */
  final class ByClass {
    private final RetryPolicy otherwise;
    private final Map<String, RetryPolicy> policies = new HashMap<>();

    private ByClass(RetryPolicy otherwise) {
      this.otherwise = otherwise;
    }

    /** The policy for jobs of {@code jobClass} (the exact {@code job_class} text). */
    public ByClass put(String jobClass, RetryPolicy policy) {
      if (jobClass == null || jobClass.isEmpty()) {
        throw new IllegalArgumentException("jobClass: must not be empty");
      }
      policies.put(jobClass, Args.notNull(policy, "policy"));
      return this;
    }

    /** The policy; later changes to this builder do not reach it. */
    public RetryPolicy build() {
      Map<String, RetryPolicy> copy = Map.copyOf(policies);
      RetryPolicy fallback = otherwise;
      return new RetryPolicy() {
        @Override
        public Duration delay(int errorCount) {
          return fallback.delay(errorCount);
        }

        @Override
        public Duration delay(Job job, int errorCount) {
          RetryPolicy p = job == null ? null : copy.get(job.jobClass());
          return (p != null ? p : fallback).delay(job, errorCount);
        }

        @Override
        public String toString() {
          return "RetryPolicy.byClass" + copy + " otherwise " + fallback;
        }
      };
    }
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
