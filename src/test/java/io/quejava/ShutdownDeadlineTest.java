package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.testing.Await;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The shutdown deadline: cancel first, keep the lock while the handler runs, kill only after the grace. */
class ShutdownDeadlineTest extends PgTest {

  /** Waits for the latch, ignoring interrupts (a handler that does not answer cancels). */
  private static void awaitIgnoringInterrupts(CountDownLatch latch) {
    boolean interrupted = false;
    while (latch.getCount() > 0) {
      try {
        latch.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private long locksOn(long id) {
    try {
      return advisoryLocksOn(List.of(id));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aCancelledHandlerKeepsItsLockUntilItReturnsAndLeavesTheRowUnchanged() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch cancelled = new CountDownLatch(1);
    CountDownLatch finishCleanup = new CountDownLatch(1);
    WorkMap map = WorkMap.of("Slow", job -> {
      started.countDown();
      try {
        new CountDownLatch(1).await();
      } catch (InterruptedException e) {
        cancelled.countDown();
        awaitIgnoringInterrupts(finishCleanup); // still cleaning up after the cancel
        throw e;
      }
    });
    Job job = client.enqueue("Slow");
    Object[] before = rows("SELECT error_count, run_at, " + lastErrorColumn() + " FROM que_jobs").get(0);
    WorkerPool pool = WorkerPool.builder(client, map).workers(1).build();
    pool.start();
    assertTrue(started.await(30, TimeUnit.SECONDS));
    CompletableFuture<Boolean> shutdown =
        CompletableFuture.supplyAsync(() -> pool.shutdown(Duration.ofMillis(100), Duration.ofSeconds(30)));
    assertTrue(cancelled.await(30, TimeUnit.SECONDS), "the deadline cancelled the handler");
    assertEquals(1, locksOn(job.id()), "the lock is held while the cancelled handler still runs");
    finishCleanup.countDown();
    assertFalse(shutdown.get(30, TimeUnit.SECONDS), "the job outlived the deadline");
    assertEquals(0, locksOn(job.id()), "unlocked once the handler returned");
    Object[] after = rows("SELECT error_count, run_at, " + lastErrorColumn() + " FROM que_jobs").get(0);
    assertEquals(Arrays.asList(before), Arrays.asList(after), "a cancel is not a failure: the row is as it was");
  }

  @Test
  void aHandlerThatIgnoresTheCancelLosesItsConnectionAfterTheGrace() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    WorkMap map = WorkMap.of("Stubborn", job -> {
      started.countDown();
      awaitIgnoringInterrupts(release);
    });
    Job job = client.enqueue("Stubborn");
    WorkerPool pool = WorkerPool.builder(client, map).workers(1).build();
    pool.start();
    try {
      assertTrue(started.await(30, TimeUnit.SECONDS));
      long t0 = System.nanoTime();
      CompletableFuture<Boolean> shutdown =
          CompletableFuture.supplyAsync(() -> pool.shutdown(Duration.ofMillis(100), Duration.ofMillis(300)));
      Await.until(Duration.ofSeconds(20), "the server to drop the killed session's lock", () -> locksOn(job.id()) == 0);
      assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(400), "not before deadline + grace");
      release.countDown();
      assertFalse(shutdown.get(30, TimeUnit.SECONDS));
    } finally {
      release.countDown();
    }
    assertEquals(1, jobCount(), "the row is left for another worker");
  }
}
