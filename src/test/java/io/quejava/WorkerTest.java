package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.testing.Await;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WorkerTest extends PgTest {

  @BeforeEach
  void runsTable() throws SQLException {
    exec("CREATE TABLE IF NOT EXISTS runs (job_id bigint, worker text, at timestamptz DEFAULT clock_timestamp())");
    exec("TRUNCATE runs");
  }

  @Test
  void successDeletesFailureRecordsAndUnknownClassIsKept() throws SQLException {
    AtomicReference<String> seenArgs = new AtomicReference<>();
    WorkMap map = WorkMap.builder()
        .put("Ok", job -> seenArgs.set(job.job().argsJson()))
        .put("Fails", job -> {
          throw new IllegalArgumentException("bad card");
        })
        .build();
    Worker worker = new Worker(client, map);
    Job ok = client.enqueue(NewJob.ofJson("Ok", "[ \"a\", 1 ]"));
    Job fails = client.enqueue(NewJob.of("Fails"));
    Job unknown = client.enqueue(NewJob.of("Nope", 1));
    try {
      assertTrue(worker.workOne());
      assertTrue(worker.workOne());
      assertTrue(worker.workOne());
      assertFalse(worker.workOne(), "failed jobs wait for their backoff");
    } finally {
      worker.shutdown();
    }
    // A json column (schema 3) stores the text as given; jsonb (4+) stores it normalised.
    assertEquals(modern() ? "[\"a\", 1]" : "[ \"a\", 1 ]", seenArgs.get(), "the handler sees the args text as stored");
    assertEquals(0, count("SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ?", ok.id()));
    Object[] failed = rows("SELECT error_count, " + lastErrorColumn() + " FROM que_jobs WHERE " + idColumn() + " = ?",
        fails.id()).get(0);
    assertEquals(1, failed[0]);
    if (modern()) {
      assertEquals("java.lang.IllegalArgumentException: bad card", failed[1]);
      assertTrue(((String) one("SELECT last_error_backtrace FROM que_jobs WHERE id = ?", fails.id()))
          .startsWith("at io.quejava.WorkerTest.lambda$"));
    } else {
      assertTrue(((String) failed[1]).startsWith("java.lang.IllegalArgumentException: bad card\n"));
    }
    Object[] unk = rows("SELECT error_count, " + lastErrorColumn() + ", run_at > now() FROM que_jobs WHERE "
        + idColumn() + " = ?", unknown.id()).get(0);
    assertEquals(1, unk[0]);
    assertEquals("unknown job type: \"Nope\"", unk[1]);
    assertEquals(true, unk[2], "retried with backoff, never deleted");
    assertEquals(1, worker.jobsWorked());
    assertEquals(2, worker.jobsFailed());
    assertEquals(0, advisoryLocksOn(List.of(ok.id(), fails.id(), unknown.id())));
  }

  @Test
  void unknownClassNamesAreQuotedAsQueGoQuotesThem() throws SQLException {
    client.enqueue("Wéird \"quoted\"\ttab\\");
    Worker worker = new Worker(client, WorkMap.builder().build());
    try {
      assertTrue(worker.workOne());
    } finally {
      worker.shutdown();
    }
    assertEquals("unknown job type: \"Wéird \\\"quoted\\\"\\ttab\\\\\"", one("SELECT " + lastErrorColumn() + " FROM que_jobs"));
  }

  @Test
  void aHandlerCannotReleaseItsJobsLockEarly() throws Exception {
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch checked = new CountDownLatch(1);
    AtomicReference<Long> locksDuringHandler = new AtomicReference<>();
    Job job = client.enqueue("Closes");
    WorkMap map = WorkMap.of("Closes", locked -> {
      try (Connection c = locked.connection()) {   // a common idiom: must not end the lock
        c.isValid(1);
      }
      inHandler.countDown();
      checked.await();
    });
    Worker worker = new Worker(client, map);
    Thread t = new Thread(worker::workOne);
    t.start();
    try {
      assertTrue(inHandler.await(30, TimeUnit.SECONDS));
      locksDuringHandler.set(advisoryLocksOn(List.of(job.id())));
      assertThrows(IllegalStateException.class, worker::workOne, "one job at a time per worker (R4)");
    } finally {
      checked.countDown();
      t.join(30_000);
      worker.shutdown();
    }
    assertEquals(1L, locksDuringHandler.get(), "the lock was still held while the handler ran");
    assertEquals(0, jobCount(), "and the job was deleted after it returned");
    assertEquals(0, advisoryLocksOn(List.of(job.id())));
  }

  @Test
  void anErrorWrittenInARolledBackTransactionIsWrittenAgain() throws SQLException {
    Job job = client.enqueue("ErrsInTx");
    WorkMap map = WorkMap.of("ErrsInTx", locked -> {
      locked.connection().setAutoCommit(false);
      locked.error("inside the transaction");
      throw new IllegalStateException("then it fails");
    });
    Worker worker = new Worker(client, map, WorkerConfig.custom().retryPolicy(n -> {
      throw new ArithmeticException("broken policy");
    }).build());
    try {
      assertTrue(worker.workOne());
    } finally {
      worker.shutdown();
    }
    Object[] row = rows("SELECT error_count, " + lastErrorColumn() + ", round(extract(epoch FROM run_at - now()))"
        + " FROM que_jobs WHERE " + idColumn() + " = ?", job.id()).get(0);
    assertEquals(1, row[0], "the rolled-back error was recorded again, once");
    assertTrue(((String) row[1]).startsWith("java.lang.IllegalStateException: then it fails"), (String) row[1]);
    assertEquals(0, new java.math.BigDecimal("4").compareTo((java.math.BigDecimal) row[2]),
        "a failing retry policy falls back to the default backoff, not to none");
  }

  @Test
  void rowsInsertedAsRubyInsertsThemAreWorked() throws SQLException {
    // The insert of the Ruby Que that shares this schema (0.14's que_insert_job on 3, 2.x's insert_job on 7).
    insertAsRuby("FromRuby", "[{\"id\": 7, \"name\": \"Zoë\"}, [1.50, null]]");
    AtomicReference<Job> got = new AtomicReference<>();
    Worker worker = new Worker(client, WorkMap.of("FromRuby", job -> got.set(job.job())));
    try {
      assertTrue(worker.workOne());
    } finally {
      worker.shutdown();
    }
    assertEquals("[{\"id\": 7, \"name\": \"Zoë\"}, [1.50, null]]", got.get().argsJson(),
        "json keeps the text; jsonb's normal form of it happens to be the same text");
    assertEquals("Zoë", got.get().args().get(0).get("name").asText());
    assertEquals(new java.math.BigDecimal("1.50"), got.get().args().get(1).get(0).decimalValue());
    assertEquals(defaultQueue(), got.get().queue());
    assertEquals(0, jobCount());
  }

  @Test
  void handlerCompletesInItsOwnTransaction() throws SQLException {
    WorkMap map = WorkMap.builder()
        .put("Pay", job -> {
          Connection c = job.connection();
          c.setAutoCommit(false);
          try (PreparedStatement ps = c.prepareStatement("INSERT INTO runs (job_id, worker) VALUES (?, 'pay')")) {
            ps.setLong(1, job.job().id());
            ps.execute();
          }
          job.delete();
          if (job.job().args().get(0).asBoolean()) {
            throw new IllegalStateException("crash before commit");
          }
          c.commit();
          c.setAutoCommit(true);
        })
        .put("Forgets", job -> {
          job.connection().setAutoCommit(false);
          try (PreparedStatement ps = job.connection().prepareStatement("INSERT INTO runs (job_id, worker) VALUES (?, 'forgot')")) {
            ps.setLong(1, job.job().id());
            ps.execute();
          }
        })
        .build();
    Worker worker = new Worker(client, map);
    Job good = client.enqueue("Pay", false);
    Job crash = client.enqueue("Pay", true);
    Job forgets = client.enqueue("Forgets");
    try {
      assertTrue(worker.workOne());
      assertTrue(worker.workOne());
      assertTrue(worker.workOne());
    } finally {
      worker.shutdown();
    }
    assertEquals(List.of(good.id()), longs("SELECT job_id FROM runs"), "only the committed handler's write stays");
    assertEquals(0, count("SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ?", good.id()));
    assertEquals(1, count("SELECT error_count FROM que_jobs WHERE " + idColumn() + " = ?", crash.id()),
        "the crashed handler's delete was rolled back and its error recorded");
    Object[] f = rows("SELECT error_count, " + lastErrorColumn() + " FROM que_jobs WHERE " + idColumn() + " = ?",
        forgets.id()).get(0);
    assertEquals(1, f[0]);
    assertTrue(((String) f[1]).contains("transaction open"), (String) f[1]);
  }

  @Test
  void twoPoolsOfFourWorkEveryJobExactlyOnce() throws SQLException {
    int jobs = 5000;
    List<NewJob> batch = new ArrayList<>(jobs);
    for (int i = 0; i < jobs; i++) {
      batch.add(NewJob.of("Record", i));
    }
    List<Long> ids = client.enqueueAll(batch).stream().map(Job::id).toList();
    WorkMap map = WorkMap.of("Record", job -> {
      try (PreparedStatement ps = job.connection().prepareStatement("INSERT INTO runs (job_id, worker) VALUES (?, ?)")) {
        ps.setLong(1, job.job().id());
        ps.setString(2, Thread.currentThread().getName());
        ps.execute();
      }
    });
    WorkerPool a = WorkerPool.builder(client, map).workers(4).name("pool-a").wakeInterval(Duration.ofMillis(50)).build();
    WorkerPool b = WorkerPool.builder(client, map).workers(4).name("pool-b").wakeInterval(Duration.ofMillis(50)).build();
    a.start();
    b.start();
    try {
      Await.until(Duration.ofSeconds(120), "all jobs worked", () -> {
        try {
          return jobCount() == 0;
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
    } finally {
      assertTrue(a.shutdown(Duration.ofSeconds(10)));
      assertTrue(b.shutdown(Duration.ofSeconds(10)));
    }
    assertEquals(jobs, count("SELECT count(*) FROM runs"), "no job ran twice");
    assertEquals(jobs, count("SELECT count(DISTINCT job_id) FROM runs"), "every job ran");
    assertEquals(jobs, a.jobsWorked() + b.jobsWorked());
    assertTrue(a.jobsWorked() > 0 && b.jobsWorked() > 0, "both pools took part: " + a.jobsWorked() + "/" + b.jobsWorked());
    assertEquals(0, advisoryLocksOn(ids));
  }

  @Test
  void shutdownDeadlineInterruptsTheJobAndLeavesItsRowForAnotherWorker() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    WorkMap stuck = WorkMap.of("Stuck", job -> {
      started.countDown();
      try {
        new CountDownLatch(1).await(); // never released: only the deadline ends this
      } catch (InterruptedException e) {
        interrupted.set(true);
        throw e;
      }
    });
    Job job = client.enqueue("Stuck");
    String state = "SELECT error_count, run_at, " + lastErrorColumn()
        + (modern() ? ", last_error_backtrace, finished_at, expired_at" : "") + " FROM que_jobs";
    Object[] before = rows(state).get(0);
    WorkerPool pool = WorkerPool.builder(client, stuck).workers(1).wakeInterval(Duration.ofMillis(20)).build();
    pool.start();
    assertTrue(started.await(30, TimeUnit.SECONDS));
    assertEquals(1, advisoryLocksOn(List.of(job.id())));

    assertFalse(pool.shutdown(Duration.ofMillis(300)), "the job outlived the deadline");
    assertTrue(interrupted.get(), "the handler was interrupted");
    Await.until(Duration.ofSeconds(10), "the server dropped the dead session's lock", () -> {
      try {
        return advisoryLocksOn(List.of(job.id())) == 0;
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    });
    Object[] after = rows(state).get(0);
    assertEquals(java.util.Arrays.asList(before), java.util.Arrays.asList(after), "the row is exactly as it was");

    Worker rescuer = new Worker(client, WorkMap.of("Stuck", j -> { }));
    try {
      assertTrue(rescuer.workOne(), "another worker runs it again");
    } finally {
      rescuer.shutdown();
    }
    assertEquals(0, jobCount());
  }

  @Test
  void shutdownWaitsForRunningJobsAndTakesNoNewOnes() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    WorkMap map = WorkMap.of("Slow", job -> {
      started.countDown();
      release.await();
    });
    client.enqueue("Slow");
    WorkerPool pool = WorkerPool.builder(client, map).workers(2).wakeInterval(Duration.ofMillis(20)).build();
    pool.start();
    assertTrue(started.await(30, TimeUnit.SECONDS));
    Thread stopper = new Thread(() -> pool.shutdown(Duration.ofSeconds(30)));
    stopper.start();
    Job late = client.enqueue("Slow");
    release.countDown();
    stopper.join(TimeUnit.SECONDS.toMillis(30));
    assertFalse(stopper.isAlive());
    assertEquals(1, pool.jobsWorked(), "the running job finished");
    assertEquals(List.of(late.id()), longs("SELECT " + idColumn() + " FROM que_jobs"), "no job started after shutdown began");
  }

  @Test
  void wakeEndsTheIdleWaitAtOnce() throws Exception {
    CountDownLatch ran = new CountDownLatch(1);
    WorkerPool pool = WorkerPool.builder(client, WorkMap.of("Wake", job -> ran.countDown()))
        .workers(1).wakeInterval(Duration.ofHours(1)).build();
    pool.start();
    try {
      Await.until(Duration.ofSeconds(10), "the worker is idle", () -> pool.size() == 1 && idle(pool));
      client.enqueue("Wake");
      pool.wakeOne();
      assertTrue(ran.await(10, TimeUnit.SECONDS), "woken long before the one-hour interval");
    } finally {
      pool.shutdown(Duration.ofSeconds(5));
    }
  }

  @Test
  void badWorkerSettingsAreRejected() {
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> WorkerPool.builder(client, WorkMap.builder().build()).workers(0));
    assertTrue(e.getMessage().startsWith("workers:"));
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> WorkerConfig.custom().wakeInterval(Duration.ZERO).build());
    assertTrue(e.getMessage().startsWith("wakeInterval:"));
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> WorkMap.builder().put("A", j -> { }).put("A", j -> { }));
    assertTrue(e.getMessage().contains("registered twice"));
  }

  private static boolean idle(WorkerPool pool) {
    try {
      java.lang.reflect.Field f = WorkerPool.class.getDeclaredField("workers");
      f.setAccessible(true);
      @SuppressWarnings("unchecked")
      List<Worker> workers = (List<Worker>) f.get(pool);
      return workers.get(0).isIdle();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private List<Long> longs(String sql) throws SQLException {
    List<Long> out = new ArrayList<>();
    for (Object[] r : rows(sql)) {
      out.add(((Number) r[0]).longValue());
    }
    return out;
  }

  @Test
  void interceptorsNestInOrderAndSeeTheJobsContext() throws SQLException {
    List<String> trace = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicReference<JobContext> seen = new AtomicReference<>();
    WorkerConfig config = WorkerConfig.custom()
        .interceptor((job, next) -> {
          trace.add("outer>");
          try {
            next.proceed();
          } finally {
            trace.add("<outer");
          }
        })
        .interceptor((job, next) -> {
          trace.add("inner>");
          seen.set(job.context());
          job.context().progress(40);
          assertEquals(1, locksHeldBy(job.context().backendPid(), job.job().id()),
              "the context names the session that holds the lock");
          next.proceed();
          trace.add("<inner");
        })
        .build();
    WorkMap map = WorkMap.builder().put("Ok", job -> trace.add("handler")).build();
    Worker worker = new Worker(client, map, config);
    Job ok = client.enqueue(NewJob.of("Ok"));
    Job unknown = client.enqueue(NewJob.of("Nope"));
    try {
      assertTrue(worker.workOne());
      assertEquals(List.of("outer>", "inner>", "handler", "<inner", "<outer"), trace);
      assertEquals(40, seen.get().progress());
      assertEquals(ok.id(), seen.get().job().id());
      trace.clear();
      assertTrue(worker.workOne());
      assertEquals(List.of("outer>", "inner>", "<outer"), trace, "proceed throws for an unknown class");
    } finally {
      worker.shutdown();
    }
    assertEquals("unknown job type: \"Nope\"",
        one("SELECT " + lastErrorColumn() + " FROM que_jobs WHERE " + idColumn() + " = ?", unknown.id()));
  }

  @Test
  void anInterceptorThatResolvesTheJobIsNotOverruled() throws SQLException {
    WorkerConfig config = WorkerConfig.custom()
        .interceptor((job, next) -> {
          try {
            next.proceed();
          } catch (IllegalStateException e) {
            job.delete(); // e.g. moved elsewhere first
            throw e;
          }
        })
        .build();
    WorkMap map = WorkMap.builder().put("Boom", job -> {
      throw new IllegalStateException("boom");
    }).build();
    Worker worker = new Worker(client, map, config);
    client.enqueue(NewJob.of("Boom"));
    try {
      assertTrue(worker.workOne());
    } finally {
      worker.shutdown();
    }
    assertEquals(0, jobCount());
    assertEquals(1, worker.jobsFailed());
  }

  @Test
  void theShutdownDeadlineCancelsTheJobsContext() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    AtomicReference<JobContext> ctx = new AtomicReference<>();
    AtomicBoolean sawStopRequest = new AtomicBoolean();
    WorkMap map = WorkMap.builder().put("Slow", job -> {
      ctx.set(job.context());
      running.countDown();
      try {
        new CountDownLatch(1).await(1, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        sawStopRequest.set(job.context().isStopRequested());
        throw e;
      }
    }).build();
    WorkerPool pool = WorkerPool.builder(client, map).workers(1).build();
    client.enqueue(NewJob.of("Slow"));
    pool.start();
    assertTrue(running.await(10, TimeUnit.SECONDS));
    assertFalse(pool.shutdown(Duration.ofMillis(200)));
    assertTrue(ctx.get().isCancelled());
    assertTrue(sawStopRequest.get());
    assertEquals(1, jobCount(), "the row stays for another worker");
  }
}
