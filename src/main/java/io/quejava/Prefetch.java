package io.quejava;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A worker's prefetch policy. Jobs locked but not yet started are invisible to other workers, so a
 * worker locks ahead only while that costs nobody anything: the batch starts at one job and doubles
 * up to the configured prefetch while every job is fast; one slow job brings it back to one; a job of
 * a class not yet seen fast here runs alone (the jobs behind it are unlocked first); and jobs still
 * waiting {@link #MAX_HOLD_NANOS} after their walk are unlocked unrun. One per worker; not
 * thread-safe.
 */
final class Prefetch {
  /** A job slower than this ends prefetching until jobs are fast again. */
  static final long FAST_JOB_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  /** Prefetched jobs not started this long after their walk are unlocked unrun. */
  static final long MAX_HOLD_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** Bound on the classes remembered as fast. */
  private static final int MAX_FAST_CLASSES = 10_000;

  private final int max;
  private int batchSize = 1;
  /** Job classes whose last run here was fast: only they may run with other jobs locked behind them. */
  private final Set<String> fastClasses = new HashSet<>();

  Prefetch(int max) {
    this.max = max;
  }

  /** How many jobs the next walk may lock. */
  int batchSize() {
    return batchSize;
  }

  /** True when a job of this class may run while other jobs stay locked behind it. */
  boolean mayHoldOthersBehind(String jobClass) {
    return fastClasses.contains(jobClass);
  }

  /** True when the jobs of the walk at {@code walkedNanos} have waited too long to start now. */
  boolean holdExpired(long walkedNanos) {
    return System.nanoTime() - walkedNanos > MAX_HOLD_NANOS;
  }

  /** Records one run; returns true when it was fast. */
  boolean ran(String jobClass, long nanos) {
    if (nanos > FAST_JOB_NANOS) {
      fastClasses.remove(jobClass);
      return false;
    }
    if (fastClasses.size() < MAX_FAST_CLASSES) {
      fastClasses.add(jobClass);
    }
    return true;
  }

  /** After a batch: grow while every job ran and was fast, else back to one. */
  void afterBatch(boolean allRanFast) {
    batchSize = allRanFast ? Math.min(max, batchSize * 2) : 1;
  }

  /** The walk found only a job still running here: reach past it next time. */
  void walkPast() {
    batchSize = Math.min(Math.max(2, max), batchSize * 2);
  }

  /** After a failed walk. */
  void reset() {
    batchSize = 1;
  }
}
