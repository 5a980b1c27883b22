package io.quejava.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quejava.Client;
import io.quejava.Job;
import io.quejava.JobChangedException;
import io.quejava.LockedJob;
import io.quejava.NewJob;
import io.quejava.PgTest;
import io.quejava.PoolStats;
import io.quejava.QueException;
import io.quejava.RunningJob;
import io.quejava.Statistics;
import io.quejava.WorkMap;
import io.quejava.Worker;
import io.quejava.WorkerConfig;
import io.quejava.WorkerPool;
import io.quejava.ext.deadletter.DeadLetterInterceptor;
import io.quejava.ext.deadletter.DeadLetters;
import io.quejava.testing.Await;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Micrometer meters after real jobs ran, read from a SimpleMeterRegistry. */
class MetricsTest extends PgTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private MeterRegistry registry;
  private QueMetrics metrics;

  @BeforeEach
  void freshRegistry() throws SQLException {
    // Dead letters of an earlier test would be queues of their own in the statistics.
    exec("DO $$ BEGIN IF to_regclass('que_dead_jobs') IS NOT NULL THEN TRUNCATE que_dead_jobs; END IF; END $$");
    registry = new SimpleMeterRegistry();
    metrics = QueMetrics.create(registry);
  }

  private Worker worker(WorkMap map) {
    return worker(map, WorkerConfig.custom());
  }

  private Worker worker(WorkMap map, WorkerConfig.Builder config) {
    return new Worker(client, map, config.listener(metrics.jobListener()).build());
  }

  /** The one attempt counted, its tags and the timer beside it; fails when there is not exactly one. */
  private void assertOneAttempt(String jobClass, String outcome) {
    List<Counter> counters = List.copyOf(registry.find("que.job.attempts").counters());
    assertEquals(1, counters.size(), () -> "attempt counters: " + ids(counters));
    Counter c = registry.get("que.job.attempts").tags("queue", defaultQueue(), "job_class", jobClass, "outcome", outcome)
        .counter();
    assertEquals(1.0, c.count());
    Timer t = registry.get("que.job.duration").tags("queue", defaultQueue(), "job_class", jobClass, "outcome", outcome)
        .timer();
    assertEquals(1, t.count());
    assertTrue(t.totalTime(TimeUnit.NANOSECONDS) > 0);
  }

  private static String ids(java.util.Collection<? extends Meter> meters) {
    return meters.stream().map(m -> m.getId().toString()).toList().toString();
  }

  @Test
  void aSuccessIsCountedAndTimedWithItsQueueWait() throws Exception {
    insertRaw("job_class, run_at", "'Ok', now() - interval '2 seconds'");
    assertTrue(worker(WorkMap.of("Ok", j -> { })).workOne());
    assertOneAttempt("Ok", "succeeded");
    Timer wait = registry.get("que.job.queue.wait").tags("queue", defaultQueue(), "job_class", "Ok").timer();
    assertEquals(1, wait.count());
    assertTrue(wait.totalTime(TimeUnit.MILLISECONDS) >= 2000, wait.totalTime(TimeUnit.MILLISECONDS) + " ms");
    assertTrue(wait.totalTime(TimeUnit.MILLISECONDS) < 60_000);
  }

  @Test
  void aFailureIsFailed() throws Exception {
    client.enqueue("Boom");
    assertTrue(worker(WorkMap.of("Boom", j -> {
      throw new IllegalStateException("boom");
    })).workOne());
    assertOneAttempt("Boom", "failed");
  }

  @Test
  void theLastAllowedFailureIsExpired() throws Exception {
    assumeTrue(modern(), "schema 3 has no expired_at");
    client.enqueue("Boom");
    assertTrue(worker(WorkMap.of("Boom", j -> {
      throw new IllegalStateException("last");
    }), WorkerConfig.custom().maxRetryCount(0)).workOne());
    assertOneAttempt("Boom", "expired");
  }

  @Test
  void aFinishedJobSucceeded() throws Exception {
    assumeTrue(modern(), "schema 3 has no finished_at");
    client.enqueue("Keep");
    assertTrue(worker(WorkMap.of("Keep", RunningJob::finish)).workOne());
    assertOneAttempt("Keep", "succeeded");
  }

  @Test
  void aDeadLetteredJobIsDead() throws Exception {
    DeadLetters.migrator(ds).migrate();
    client.enqueue("Doomed");
    assertTrue(worker(WorkMap.of("Doomed", j -> {
      throw new IllegalStateException("no more");
    }), WorkerConfig.custom().interceptor(DeadLetterInterceptor.builder(client).maxAttempts(1).build())).workOne());
    assertOneAttempt("Doomed", "dead");
  }

  @Test
  void aJobChangedUnderItsLockIsChanged() throws Exception {
    client.enqueue("Moved");
    assertTrue(worker(WorkMap.of("Moved", j -> {
      Connection c = j.connection();
      c.setAutoCommit(false);
      exec("DELETE FROM que_jobs");
      j.delete();
      c.commit();
    })).workOne());
    assertOneAttempt("Moved", "changed");
  }

  /** The pool binding: attempts (here cancelled), busy/idle gauges, and the pool's own snapshot. */
  @Test
  void aPoolShowsItsBusyWorkersAndItsCancelledJob() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    Job job = client.enqueue(NewJob.of("Slow").queue("metrics-q"));
    Instant before = Instant.now();
    WorkerPool pool = metrics.bind(WorkerPool.builder(client, WorkMap.of("Slow", j -> {
      started.countDown();
      new CountDownLatch(1).await(60, TimeUnit.SECONDS);
    })).workers(2).queue("metrics-q").name("mpool")).build();
    pool.start();
    try {
      assertTrue(started.await(30, TimeUnit.SECONDS));
      Await.until(WAIT, "one busy worker", () -> gauge("que.workers.busy", "pool", "mpool") == 1.0);
      assertEquals(1.0, gauge("que.workers.idle", "pool", "mpool"));
      PoolStats s = pool.stats();
      assertEquals("mpool", s.pool());
      assertEquals(2, s.workers());
      assertEquals(1, s.busyWorkers());
      PoolStats.Running r = s.running().get(0);
      assertEquals(job.id(), r.jobId());
      assertEquals("Slow", r.jobClass());
      assertEquals("metrics-q", r.queue());
      assertEquals(1, r.attempt());
      assertTrue(r.workerName().startsWith("mpool-"), r.workerName());
      assertFalse(r.startedAt().isBefore(before.minusSeconds(1)), r.startedAt() + " vs " + before);
    } finally {
      assertFalse(pool.shutdown(Duration.ofMillis(100), Duration.ofSeconds(30)));
    }
    assertEquals(1.0, registry.get("que.job.attempts")
        .tags("queue", "metrics-q", "job_class", "Slow", "outcome", "cancelled").counter().count());
    assertNull(registry.find("que.workers.busy").gauge(), "the pool's gauges go with it");
    assertEquals(0, pool.stats().busyWorkers());
  }

  @Test
  void poolsOfOneNameShareTheirGaugesWhichSumOverThem() {
    WorkerPool a = metrics.bind(WorkerPool.builder(client, WorkMap.builder().build()).workers(2).queue("none-a")
        .wakeInterval(Duration.ofHours(1))).build();
    WorkerPool b = metrics.bind(WorkerPool.builder(client, WorkMap.builder().build()).workers(3).queue("none-b")
        .wakeInterval(Duration.ofHours(1))).build();
    a.start();
    b.start();
    try {
      assertEquals(5.0, gauge("que.workers.idle", "pool", "que-worker"));
      assertEquals(0.0, gauge("que.workers.busy", "pool", "que-worker"));
      a.shutdown(Duration.ofSeconds(30));
      assertEquals(3.0, gauge("que.workers.idle", "pool", "que-worker"), "the stopped pool left the sum");
    } finally {
      a.shutdown(Duration.ofSeconds(30));
      b.shutdown(Duration.ofSeconds(30));
    }
    assertNull(registry.find("que.workers.idle").gauge());
  }

  @Test
  void poolStatsCountWorkedAndFailedJobs() throws Exception {
    client.enqueue("Ok");
    client.enqueue("Boom");
    WorkerPool pool = WorkerPool.builder(client, WorkMap.builder().put("Ok", j -> { })
        .put("Boom", j -> {
          throw new IllegalStateException("boom");
        }).build()).workers(1).wakeInterval(Duration.ofMillis(50)).build();
    pool.start();
    try {
      Await.until(WAIT, "both jobs worked", () -> pool.stats().jobsWorked() == 1 && pool.stats().jobsFailed() == 1);
      Await.until(WAIT, "the worker between jobs", () -> pool.stats().busyWorkers() == 0);
      assertEquals(List.of(), pool.stats().running());
    } finally {
      pool.shutdown(Duration.ofSeconds(30));
    }
  }

  private double gauge(String name, String... tags) {
    return registry.get(name).tags(tags).gauge().value();
  }

  @Test
  void enqueuesAreCountedByQueueAndClassAndFailuresToo() throws Exception {
    Client c = metrics.bind(Client.builder(ds)).build();
    c.enqueue("A");
    c.enqueue(NewJob.of("A").queue("other-q"));
    c.enqueueAll(List.of(NewJob.of("B"), NewJob.of("B"), NewJob.of("A")));
    try (Connection conn = ds.getConnection()) {
      c.enqueue(conn, NewJob.of("B"));
      conn.setAutoCommit(false);
      try (Statement st = conn.createStatement()) {
        assertThrows(SQLException.class, () -> st.execute("SELECT 1/0"));
      }
      // The transaction is aborted: both enqueues on it fail in the database.
      assertThrows(QueException.class, () -> c.enqueue(conn, NewJob.of("A")));
      assertThrows(QueException.class, () -> c.enqueueAll(conn, List.of(NewJob.of("C"), NewJob.of("C"))));
      conn.rollback();
    }
    assertEquals(2.0, counter("que.job.enqueued", defaultQueue(), "A"));
    assertEquals(1.0, counter("que.job.enqueued", "other-q", "A"));
    assertEquals(3.0, counter("que.job.enqueued", defaultQueue(), "B"));
    assertEquals(3, registry.find("que.job.enqueued").counters().size());
    assertEquals(1.0, counter("que.job.enqueue.errors", defaultQueue(), "A"));
    assertEquals(2.0, counter("que.job.enqueue.errors", defaultQueue(), "C"));
    assertEquals(2, registry.find("que.job.enqueue.errors").counters().size());
  }

  @Test
  void aDuplicateOfAUniqueJobIsNotAnEnqueue() throws Exception {
    io.quejava.ext.unique.UniqueJobs.migrator(ds).migrate();
    Client c = metrics.bind(Client.builder(ds)).build();
    assertFalse(c.enqueue(NewJob.of("U").unique(io.quejava.UniqueOptions.byArgs())).isDuplicate());
    assertTrue(c.enqueue(NewJob.of("U").unique(io.quejava.UniqueOptions.byArgs())).isDuplicate());
    assertEquals(1.0, counter("que.job.enqueued", defaultQueue(), "U"));
  }

  private double counter(String name, String queue, String jobClass) {
    return registry.get(name).tags("queue", queue, "job_class", jobClass).counter().count();
  }

  @Test
  void jobClassesBeyondTheLimitFoldIntoOther() throws Exception {
    metrics = QueMetrics.builder(registry).maxJobClasses(2).build();
    Client c = metrics.bind(Client.builder(ds)).build();
    for (String cls : List.of("A", "B", "C", "D", "A", "C")) {
      c.enqueue(cls, 12345);
    }
    assertEquals(2.0, counter("que.job.enqueued", defaultQueue(), "A"));
    assertEquals(1.0, counter("que.job.enqueued", defaultQueue(), "B"));
    assertEquals(3.0, counter("que.job.enqueued", defaultQueue(), QueMetrics.OTHER));
    Set<String> tagKeys = new TreeSet<>();
    Set<String> tagValues = new TreeSet<>();
    registry.getMeters().forEach(m -> m.getId().getTags().forEach(t -> {
      tagKeys.add(t.getKey());
      tagValues.add(t.getValue());
    }));
    assertEquals(Set.of("queue", "job_class"), tagKeys);
    assertEquals(new TreeSet<>(List.of(defaultQueue(), "A", "B", "other")), tagValues, "no ids, no args");
  }

  @Test
  void queueGaugesReadTheStatistics() throws Exception {
    boolean dead = DeadLetters.migrator(ds).currentVersion() > 0;
    insertRaw("job_class, queue, run_at", "'R', 'gq', now() - interval '90 seconds'");
    insertRaw("job_class, queue", "'R', 'gq'");
    insertRaw("job_class, queue, run_at", "'S', 'gq', now() + interval '1 hour'");
    insertRaw("job_class, queue, error_count, run_at", "'F', 'gq', 2, now() + interval '1 hour'");
    insertRaw("job_class, queue", "'L', 'locked-q'");
    try (QueueMetrics q = metrics.bindQueues(Statistics.create(client), Duration.ofHours(1));
        LockedJob held = client.lockJob("locked-q").orElseThrow()) {
      q.refresh();
      assertEquals(2.0, gauge("que.queue.jobs", "queue", "gq", "state", "ready"));
      assertEquals(2.0, gauge("que.queue.jobs", "queue", "gq", "state", "scheduled"));
      assertEquals(0.0, gauge("que.queue.jobs", "queue", "gq", "state", "running"));
      assertEquals(1.0, gauge("que.queue.jobs", "queue", "gq", "state", "failing"));
      assertEquals(1.0, gauge("que.queue.jobs", "queue", "locked-q", "state", "running"));
      assertEquals(0.0, gauge("que.queue.jobs", "queue", "locked-q", "state", "ready"));
      assertEquals(dead, registry.find("que.queue.jobs").tag("state", "dead").gauge() != null);
      double age = registry.get("que.queue.oldest.ready.age").tags("queue", "gq").timeGauge().value(TimeUnit.SECONDS);
      assertTrue(age >= 90 && age < 600, age + " s");
      assertEquals(0.0, registry.get("que.queue.oldest.ready.age").tags("queue", "locked-q").timeGauge()
          .value(TimeUnit.SECONDS));
      held.delete();
    }
    assertNull(registry.find("que.queue.jobs").gauge(), "closed: the gauges are removed");
  }

  @Test
  void theQueueGaugesRefreshInTheBackground() throws Exception {
    client.enqueue(NewJob.of("R").queue("bg"));
    try (QueueMetrics q = metrics.bindQueues(Statistics.create(client), Duration.ofMillis(50))) {
      Await.until(WAIT, "the first refresh", () -> registry.find("que.queue.jobs").tags("queue", "bg", "state", "ready")
          .gauge() != null && gauge("que.queue.jobs", "queue", "bg", "state", "ready") == 1.0);
      client.enqueue(NewJob.of("R").queue("bg"));
      Await.until(WAIT, "a later refresh", () -> gauge("que.queue.jobs", "queue", "bg", "state", "ready") == 2.0);
      double staleness = registry.get("que.queue.stats.age").timeGauge().value(TimeUnit.SECONDS);
      assertTrue(staleness >= 0 && staleness < 30, staleness + " s");
      exec("TRUNCATE que_jobs");
      Await.until(WAIT, "a queue gone reads 0", () -> gauge("que.queue.jobs", "queue", "bg", "state", "ready") == 0.0);
    }
  }

  @Test
  void queuesBeyondTheLimitAreSummedUnderOther() throws Exception {
    metrics = QueMetrics.builder(registry).maxQueues(1).build();
    insertRaw("job_class, queue", "'R', 'q1'");
    insertRaw("job_class, queue", "'R', 'q2'");
    insertRaw("job_class, queue", "'R', 'q3'");
    try (QueueMetrics q = metrics.bindQueues(Statistics.create(client), Duration.ofHours(1))) {
      q.refresh();
      assertEquals(1.0, gauge("que.queue.jobs", "queue", "q1", "state", "ready"));
      assertEquals(2.0, gauge("que.queue.jobs", "queue", QueMetrics.OTHER, "state", "ready"));
      assertNull(registry.find("que.queue.jobs").tag("queue", "q2").gauge());
    }
  }
}
