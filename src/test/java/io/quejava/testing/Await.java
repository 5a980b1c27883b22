package io.quejava.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polling with a deadline: the way tests wait for something another thread or process does. */
public final class Await {
  private Await() {}

  public static void until(Duration timeout, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pauseNanos = 1_000_000;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(pauseNanos);
      pauseNanos = Math.min(pauseNanos * 2, 50_000_000);
    }
  }
}
