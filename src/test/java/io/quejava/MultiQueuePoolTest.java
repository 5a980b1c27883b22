package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** One pool over several queues: every job once, per-queue limits, the order of the queues. */
class MultiQueuePoolTest extends PgTest {

  @Test
  void onePoolWorksEveryJobOfEveryQueueExactlyOnce() throws Exception {
    int perQueue = 300;
    List<String> queues = List.of("alpha", "beta", "gamma");
    List<NewJob> jobs = new ArrayList<>();
    for (String q : queues) {
      for (int i = 0; i < perQueue; i++) {
        jobs.add(NewJob.of("Count", i).queue(q));
      }
    }
    client.enqueueAll(jobs);
    client.enqueue(NewJob.of("Count", -1).queue("not-served"));
    Map<Long, Integer> runs = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> byQueue = new ConcurrentHashMap<>();
    CountDownLatch all = new CountDownLatch(perQueue * queues.size());
    WorkMap map = WorkMap.of("Count", job -> {
      runs.merge(job.id(), 1, Integer::sum);
      byQueue.computeIfAbsent(job.queue(), q -> new AtomicInteger()).incrementAndGet();
      all.countDown();
    });
    WorkerPool pool = WorkerPool.builder(client, map).workers(4).queue("alpha").queue("beta").queue("gamma")
        .wakeInterval(Duration.ofMillis(100)).build();
    assertEquals(queues, pool.queues());
    pool.start();
    try {
      assertTrue(all.await(60, TimeUnit.SECONDS), "all jobs worked; left: " + all.getCount());
    } finally {
      assertTrue(pool.shutdown(Duration.ofSeconds(10)));
    }
    assertEquals(perQueue * queues.size(), runs.size());
    assertTrue(runs.values().stream().allMatch(n -> n == 1), "a job ran twice");
    queues.forEach(q -> assertEquals(perQueue, byQueue.get(q).get(), q));
    assertEquals(1, jobCount(), "only the job of the queue nobody serves is left");
    assertEquals("not-served", one("SELECT queue FROM que_jobs"));
  }

  @Test
  void aQueueWithALimitNeverHasMoreWorkersAndLeavesTheRestToTheOtherQueues() throws Exception {
    AtomicInteger limitedNow = new AtomicInteger();
    AtomicInteger limitedMax = new AtomicInteger();
    CountDownLatch releaseLimited = new CountDownLatch(1);
    CountDownLatch limitedStarted = new CountDownLatch(1);
    int free = 40;
    CountDownLatch freeDone = new CountDownLatch(free);
    CountDownLatch limitedDone = new CountDownLatch(4);
    WorkMap map = WorkMap.builder()
        .put("Limited", job -> {
          int now = limitedNow.incrementAndGet();
          limitedMax.accumulateAndGet(now, Math::max);
          limitedStarted.countDown();
          try {
            assertTrue(releaseLimited.await(60, TimeUnit.SECONDS));
          } finally {
            limitedNow.decrementAndGet();
            limitedDone.countDown();
          }
        })
        .put("Free", job -> freeDone.countDown())
        .build();
    for (int i = 0; i < 4; i++) {
      client.enqueue(NewJob.of("Limited", i).queue("limited"));
    }
    WorkerPool pool = WorkerPool.builder(client, map).workers(4).queue("limited", 1).queue("free")
        .wakeInterval(Duration.ofMillis(100)).build();
    assertEquals(java.util.OptionalInt.of(1), pool.maxWorkers("limited"));
    pool.start();
    try {
      assertTrue(limitedStarted.await(30, TimeUnit.SECONDS));
      for (int i = 0; i < free; i++) {
        client.enqueue(NewJob.of("Free", i).queue("free"));
      }
      pool.wakeAll();
      // The limited queue has 3 more ready jobs and comes first, yet the other 3 workers work "free".
      assertTrue(freeDone.await(60, TimeUnit.SECONDS), "free jobs worked while the limited queue was full");
      assertEquals(1, limitedMax.get(), "never more than one worker on the limited queue");
      releaseLimited.countDown();
      assertTrue(limitedDone.await(60, TimeUnit.SECONDS));
    } finally {
      releaseLimited.countDown();
      pool.shutdown(Duration.ofSeconds(10));
    }
    assertEquals(1, limitedMax.get());
    assertEquals(0, jobCount());
  }

  @Test
  void queuesAreTriedInTheOrderGiven() throws Exception {
    client.enqueue(NewJob.of("Which", "second").queue("second"));
    client.enqueue(NewJob.of("Which", "first").queue("first"));
    List<String> order = new ArrayList<>();
    Worker worker = new Worker(client, WorkMap.of("Which", job -> order.add(job.arg(0, String.class))),
        WorkerConfig.custom().queue("first").queue("second").build());
    assertEquals(List.of("first", "second"), worker.queues());
    assertTrue(worker.workOne());
    assertTrue(worker.workOne());
    assertEquals(List.of("first", "second"), order);
    assertTrue(!worker.workOne());
  }

  @Test
  void withoutAQueueThePoolWorksTheClientsDefaultQueue() {
    WorkerPool pool = WorkerPool.builder(client, WorkMap.builder().build()).build();
    assertEquals(List.of(defaultQueue()), pool.queues());
  }

  @Test
  void badQueueSettingsAreRefusedByName() {
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
        () -> WorkerPool.builder(client, WorkMap.builder().build()).queue("a").queue("a"));
    assertEquals("queue: 'a' is added twice", twice.getMessage());
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
        () -> WorkerPool.builder(client, WorkMap.builder().build()).queue("a", 0));
    assertTrue(zero.getMessage().startsWith("maxWorkers: "), zero.getMessage());
    IllegalArgumentException nul = assertThrows(IllegalArgumentException.class,
        () -> WorkerPool.builder(client, WorkMap.builder().build()).queue(null));
    assertEquals("queue: must not be null", nul.getMessage());
  }
}
