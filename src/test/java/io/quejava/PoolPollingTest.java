package io.quejava;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.testing.Await;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** How an idle pool polls: one worker on the timer, the rest woken when there is work. */
class PoolPollingTest extends PgTest {

  @Test
  void anIdlePoolPollsOncePerIntervalNotOncePerWorker() {
    WorkerPool pool = WorkerPool.builder(client, WorkMap.builder().build())
        .workers(8).wakeInterval(Duration.ofMillis(50)).build();
    pool.start();
    try {
      Await.until(Duration.ofSeconds(10), "every worker's first poll", () -> pool.walks() >= 8);
      long start = System.nanoTime();
      long before = pool.walks();
      // Over about a second: one poller would walk about 20 times; eight independent timers 160.
      Await.until(Duration.ofSeconds(10), "a second to pass", () -> System.nanoTime() - start > 1_000_000_000L);
      long walks = pool.walks() - before;
      assertTrue(walks >= 5 && walks <= 40, "walks in one idle second: " + walks);
    } finally {
      pool.shutdown(Duration.ofSeconds(5));
    }
  }

  @Test
  void workFoundByThePollerBringsTheOtherWorkersIn() throws Exception {
    int workers = 6;
    CountDownLatch allRunning = new CountDownLatch(workers);
    CountDownLatch release = new CountDownLatch(1);
    Set<String> threads = ConcurrentHashMap.newKeySet();
    WorkMap map = WorkMap.builder().put("Hold", job -> {
      if (threads.add(Thread.currentThread().getName())) {
        allRunning.countDown();
      }
      release.await(30, TimeUnit.SECONDS);
    }).build();
    // A long interval: only the chain of wake-ups can bring the sleeping workers in quickly.
    WorkerPool pool = WorkerPool.builder(client, map).workers(workers).wakeInterval(Duration.ofSeconds(60)).build();
    pool.start();
    try {
      Await.until(Duration.ofSeconds(10), "every worker's first poll", () -> pool.walks() >= workers);
      for (int i = 0; i < workers * 2; i++) {
        client.enqueue("Hold");
      }
      pool.wakeOne();
      assertTrue(allRunning.await(20, TimeUnit.SECONDS), "workers running jobs: " + threads);
    } finally {
      release.countDown();
      pool.shutdown(Duration.ofSeconds(10));
    }
  }

  @Test
  void aPollerBusyWithALongJobLeavesAnotherWorkerPolling() throws Exception {
    CountDownLatch longStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch laterRan = new CountDownLatch(1);
    WorkMap map = WorkMap.builder()
        .put("Long", job -> {
          longStarted.countDown();
          release.await(30, TimeUnit.SECONDS);
        })
        .put("Later", job -> laterRan.countDown())
        .build();
    WorkerPool pool = WorkerPool.builder(client, map).workers(3).wakeInterval(Duration.ofMillis(100)).build();
    pool.start();
    try {
      Await.until(Duration.ofSeconds(10), "every worker's first poll", () -> pool.walks() >= 3);
      client.enqueue("Long");
      assertTrue(longStarted.await(10, TimeUnit.SECONDS));
      client.enqueue("Later"); // no wake-up: only the timer of some idle worker can find it
      assertTrue(laterRan.await(10, TimeUnit.SECONDS), "an idle worker still polls while the first is busy");
    } finally {
      release.countDown();
      pool.shutdown(Duration.ofSeconds(10));
    }
  }

  @Test
  void aWakeThatFindsNoIdleWorkerMakesTheNextOneLookAgain() {
    WorkerPool pool = WorkerPool.builder(client, WorkMap.builder().build())
        .workers(1).wakeInterval(Duration.ofSeconds(60)).build();
    pool.wakeOne(); // no worker is idle (none runs yet): the wake must not be lost
    pool.start();
    try {
      Await.until(Duration.ofSeconds(10), "a second walk, before any sleep", () -> pool.walks() >= 2);
    } finally {
      pool.shutdown(Duration.ofSeconds(5));
    }
    assertTrue(pool.walks() == 2, "then it slept: " + pool.walks());
  }

  /**
   * The lost wake-up: WorkerPool.wakeOne() scans the workers, finds none idle, and leaves a flag
   * for the next worker about to sleep. A worker that checked the flag just before it was set and
   * only then showed as idle must still see it. Here the pool's side is played by the siblings: at
   * the worker's first check the scan "happens" (the flag is set, the worker not yet idle). The
   * worker is not the poller (its wait has no timer): only the second check brings it back.
   */
  @Test
  void aWakeLeftWhileAWorkerTurnsIdleIsNotLost() throws Exception {
    Worker w = new Worker(client, WorkMap.builder().build(),
        WorkerConfig.custom().wakeInterval(Duration.ofSeconds(60)).build());
    java.util.concurrent.atomic.AtomicBoolean pending = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger checks = new java.util.concurrent.atomic.AtomicInteger();
    w.siblings(new Worker.Siblings() {
      @Override
      public boolean claimPolling(Worker x) {
        return false;
      }

      @Override
      public void releasePolling(Worker x) {}

      @Override
      public void wakeAnother(Worker x) {}

      @Override
      public boolean takePendingWake() {
        if (checks.incrementAndGet() == 1) {
          pending.set(true); // wakeOne ran now: nobody idle yet, so it left the flag
          return false;
        }
        return pending.getAndSet(false);
      }
    });
    Thread t = new Thread(w::work, "lost-wake-test");
    t.start();
    try {
      Await.until(Duration.ofSeconds(10), "the worker to look again for the wake it was left", () -> w.walks() >= 2);
      assertTrue(checks.get() >= 2);
    } finally {
      w.shutdown();
      t.join(10_000);
    }
  }
}
