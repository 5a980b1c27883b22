package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.ext.timeout.Timeouts;
import io.quejava.testing.Await;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reliability defects found by fault injection and hostile input (issue 10): each test failed
 * before its fix. Runs on schema 3 here and on schema 7 in {@link ModernReliabilityTest}.
 */
class ReliabilityTest extends PgTest {

  private String rowState() throws SQLException {
    return Arrays.toString(rows("SELECT error_count, run_at, " + lastErrorColumn() + " FROM que_jobs").get(0));
  }

  private long locksOn(long id) {
    try {
      return advisoryLocksOn(List.of(id));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private long countQuietly(String sql, Object... params) {
    try {
      return count(sql, params);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- 1. A cancelled handler that returns normally must not lose its job ----------------------

  /** How a handler answers the shutdown deadline's cancel, each ending by returning normally. */
  enum CancelAnswer {
    /** Blocks; the interrupt ends the wait and the handler returns. */
    RETURNS_ON_INTERRUPT,
    /** Polls {@link JobContext#isCancelled()} and returns (the pattern the README recommends). */
    POLLS_IS_CANCELLED,
    /** Catches the interrupt, clears it, finishes its "cleanup" and returns. */
    SWALLOWS_INTERRUPT
  }

  private static void answer(CancelAnswer how, RunningJob job, CountDownLatch started) {
    started.countDown();
    switch (how) {
      case RETURNS_ON_INTERRUPT -> {
        try {
          new CountDownLatch(1).await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          return;
        }
      }
      case POLLS_IS_CANCELLED -> {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!job.isCancelled() && System.nanoTime() < deadline) {
          LockSupport.parkNanos(1_000_000);
        }
        Thread.interrupted();
      }
      case SWALLOWS_INTERRUPT -> {
        try {
          new CountDownLatch(1).await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.interrupted(); // swallowed
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(CancelAnswer.class)
  void aHandlerCancelledAtTheShutdownDeadlineThatReturnsLeavesItsRowAsItWas(CancelAnswer how) throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    WorkMap map = WorkMap.of("Slow", job -> answer(how, job, started));
    Job job = client.enqueue("Slow", 1);
    String before = rowState();
    WorkerPool pool = WorkerPool.builder(client, map).workers(1).build();
    pool.start();
    assertTrue(started.await(30, TimeUnit.SECONDS));
    assertFalse(pool.shutdown(Duration.ofMillis(200), Duration.ofSeconds(30)), "the job outlived the deadline");
    assertEquals(1, jobCount(), "the job is still there");
    assertEquals(before, rowState(), "a cancel is not a success nor a failure: the row is as it was");
    assertEquals(0, pool.jobsWorked(), "not counted as worked");
    assertEquals(0, locksOn(job.id()), "and unlocked");
  }

  @Test
  void aJobWithItsOwnTimeoutCancelledAtTheShutdownDeadlineThatReturnsIsKept() throws Exception {
    Timeouts.install(ds);
    CountDownLatch started = new CountDownLatch(1);
    WorkMap map = WorkMap.of("Slow", job -> answer(CancelAnswer.RETURNS_ON_INTERRUPT, job, started));
    Job job = Timeouts.enqueue(client, NewJob.of("Slow", 2), Duration.ofMinutes(5));
    String before = rowState();
    WorkerPool pool = WorkerPool.builder(client, map).workers(1).interceptor(Timeouts.builder().build()).build();
    pool.start();
    assertTrue(started.await(30, TimeUnit.SECONDS));
    assertFalse(pool.shutdown(Duration.ofMillis(200), Duration.ofSeconds(30)));
    assertEquals(before, rowState(), "the timeout interceptor did not delete the cancelled job");
    assertEquals(1, count("SELECT count(*) FROM que_job_timeouts WHERE job_id = ?", job.id()), "its timeout row stays for the rerun");
  }

  @Test
  void aHandlerTimedOutByTheTimeoutExtensionThatReturnsIsRecordedAsFailed() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    WorkMap map = WorkMap.of("Slow", job -> answer(CancelAnswer.POLLS_IS_CANCELLED, job, started));
    client.enqueue("Slow", 3);
    WorkerPool pool = WorkerPool.builder(client, map).workers(1)
        .interceptor(Timeouts.builder().perJob(false).defaultTimeout(Duration.ofMillis(200)).build()).build();
    pool.start();
    try {
      Await.until(Duration.ofSeconds(30), "the timed-out attempt to be recorded",
          () -> countQuietly("SELECT error_count FROM que_jobs") == 1);
    } finally {
      pool.shutdown(Duration.ofSeconds(10));
    }
    assertEquals(1, jobCount());
    assertTrue(String.valueOf(one("SELECT " + lastErrorColumn() + " FROM que_jobs")).contains("JobTimeoutException"));
    assertEquals(0, pool.jobsWorked());
  }

  @Test
  void aHandlerThatResolvedItsJobBeforeTheCancelKeepsThatOutcome() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    WorkMap map = WorkMap.of("SelfDeleting", job -> {
      job.delete();
      answer(CancelAnswer.RETURNS_ON_INTERRUPT, job, started);
    });
    client.enqueue("SelfDeleting");
    WorkerPool pool = WorkerPool.builder(client, map).workers(1).build();
    pool.start();
    assertTrue(started.await(30, TimeUnit.SECONDS));
    pool.shutdown(Duration.ofMillis(200), Duration.ofSeconds(30));
    assertEquals(0, jobCount(), "the handler's own delete stands");
  }

  // ---- 2. A job that ends its own session is a failure with backoff, not a hot loop -------------

  @ParameterizedTest
  @ValueSource(strings = {"pg_terminate_backend", "idle_in_transaction_session_timeout"})
  void aJobThatEndsItsOwnSessionIsRecordedAsFailedAndDoesNotRunAgainBeforeItsBackoff(String how) throws Exception {
    AtomicInteger runs = new AtomicInteger();
    int ordinary = 100;
    CountDownLatch ordinaryDone = new CountDownLatch(ordinary);
    WorkMap map = WorkMap.builder()
        .put("Killer", job -> {
          runs.incrementAndGet();
          Connection c = job.connection();
          if (how.equals("pg_terminate_backend")) {
            try (Statement st = c.createStatement()) {
              st.execute("SELECT pg_terminate_backend(pg_backend_pid())");
            }
          } else {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
              st.execute("SET LOCAL idle_in_transaction_session_timeout = '200ms'");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(700)); // a slow step outside the database
            c.commit();
          }
        })
        .put("Ordinary", job -> ordinaryDone.countDown())
        .build();
    Job killer = client.enqueue(NewJob.of("Killer").priority(1));
    client.enqueueAll(java.util.stream.IntStream.range(0, ordinary).mapToObj(i -> NewJob.of("Ordinary", i)).toList());
    WorkerPool pool = WorkerPool.builder(client, map).workers(4).wakeInterval(Duration.ofMillis(200)).build();
    pool.start();
    try {
      assertTrue(ordinaryDone.await(60, TimeUnit.SECONDS), "the ordinary jobs behind it were worked");
      Await.until(Duration.ofSeconds(30), "the failure to be recorded",
          () -> countQuietly("SELECT error_count FROM que_jobs WHERE " + idColumn() + " = ?", killer.id()) == 1);
      // Its backoff (1^4 + 3 = 4 s) has not passed: it must have run exactly once.
      assertEquals(1, runs.get(), "ran once, not in a loop");
      assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE run_at > now() + interval '2 seconds'"),
          "retried after the backoff");
    } finally {
      pool.shutdown(Duration.ofSeconds(10));
    }
    String error = String.valueOf(one("SELECT " + lastErrorColumn() + " FROM que_jobs"));
    assertTrue(error.contains("PSQLException"), "the handler's exception is recorded: " + error);
    assertEquals(1, jobCount(), "only the killer is left");
    assertEquals(0, locksOn(killer.id()));
  }

  // ---- 3. An outcome that matches no row inside a transaction must roll it back -----------------

  private void createEffects() throws SQLException {
    exec("CREATE TABLE IF NOT EXISTS effects (job_id bigint NOT NULL)");
    exec("TRUNCATE effects");
  }

  private void moveRunAt(long id) {
    try {
      exec("UPDATE que_jobs SET run_at = now() - interval '1 second' WHERE " + idColumn() + " = ?", id);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aTransactionalDeleteOfAJobMovedUnderItsLockRollsBackTheEffect() throws Exception {
    createEffects();
    Job job = client.enqueue("Effect", 1);
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    AtomicInteger attempts = new AtomicInteger();
    WorkMap map = WorkMap.of("Effect", locked -> {
      if (attempts.incrementAndGet() > 1) {
        return; // the rerun: nothing to check
      }
      Connection c = locked.connection();
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO effects VALUES (?)")) {
        ps.setLong(1, locked.job().id());
        ps.executeUpdate();
      }
      moveRunAt(locked.job().id()); // an operator's "retry now" while the job runs
      try {
        locked.delete();
      } catch (RuntimeException e) {
        thrown.set(e);
        throw e;
      }
      c.commit();
    });
    Worker worker = new Worker(client, map);
    assertTrue(worker.workOne());
    if (modern()) {
      // Schema 4-7 resolve by id: the move does not change which row the delete addresses.
      assertEquals(null, thrown.get());
      assertEquals(0, jobCount());
      assertEquals(1, count("SELECT count(*) FROM effects"), "the effect once, with the delete");
    } else {
      assertTrue(thrown.get() instanceof JobChangedException, "the delete matched no row: " + thrown.get());
      assertEquals(job.id(), ((JobChangedException) thrown.get()).jobId());
      assertEquals(0, count("SELECT count(*) FROM effects"), "the effect was rolled back with the transaction");
      assertEquals(1, jobCount(), "the job stays, as it was moved, to run again");
      assertEquals(0L, count("SELECT error_count FROM que_jobs"), "nothing was recorded on the moved row");
    }
    assertEquals(0, locksOn(job.id()));
  }

  @Test
  void anOutcomeOfALockedJobMovedUnderItsLockThrowsInsideATransactionAndOnlyWarnsInAutocommit() throws Exception {
    createEffects();
    client.enqueue("Effect", 1);
    try (LockedJob locked = client.lockJob(defaultQueue()).orElseThrow()) {
      exec("DELETE FROM que_jobs"); // gone under the lock, on every schema
      Connection c = locked.connection();
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO effects VALUES (?)")) {
        ps.setLong(1, locked.job().id());
        ps.executeUpdate();
      }
      assertThrows(JobChangedException.class, locked::delete);
      assertThrows(JobChangedException.class, () -> locked.error("boom"));
      c.rollback();
      c.setAutoCommit(true);
      locked.delete(); // autocommit: logged, not thrown
      assertTrue(locked.isDeleted());
    }
    assertEquals(0, count("SELECT count(*) FROM effects"));
  }

  // ---- 4. Unpaired surrogates are refused, never changed to '?' ---------------------------------

  record Surrogate(String text) {}

  @Test
  void unpairedSurrogatesAreRefusedInEveryStringFieldBeforeAnythingIsWritten() throws Exception {
    // Options are checked when set; args and kwargs given as Java values when the client writes them.
    List<Map.Entry<String, Runnable>> cases = List.of(
        Map.entry("jobClass", () -> NewJob.of("Bad\uD800Class")),
        Map.entry("queue", () -> NewJob.of("Good").queue("q\uDC00")),
        Map.entry("tags[0]", () -> NewJob.of("Good").tags("t\uD800")),
        Map.entry("args", () -> NewJob.ofJson("Good", "[\"\\ud800\"]")),
        Map.entry("args", () -> NewJob.ofJson("Good", "[{\"\\udc00\": 1}]")),
        Map.entry("kwargs", () -> NewJob.of("Good").kwargsJson("{\"a\": \"\\ud800x\"}")),
        Map.entry("args", () -> client.enqueue(NewJob.of("Good", "x\uD800y"))),
        Map.entry("args", () -> client.enqueue(NewJob.of("Good", Map.of("k\uDBFF", 1)))),
        Map.entry("args", () -> client.enqueue("Good", "tail\uD83D")),
        Map.entry("args", () -> client.enqueue("Good", new Surrogate("\uDC00"))),
        Map.entry("kwargs", () -> client.enqueue(NewJob.of("Good").kwargs(Map.of("a", "\uDE00")))),
        Map.entry("jobs[1].args", () -> client.enqueueAll(List.of(NewJob.of("Good"), NewJob.of("Good", "\uD800")))));
    for (Map.Entry<String, Runnable> c : cases) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c.getValue()::run);
      assertTrue(e.getMessage().startsWith(c.getKey() + ": ") && e.getMessage().contains("unpaired UTF-16 surrogate"),
          e.getMessage());
    }
    assertEquals(0, jobCount(), "nothing was written");

    // A proper pair (an emoji) is fine and round-trips.
    String emoji = "\uD83D\uDE00";
    Job ok = client.enqueue(NewJob.of("Smile" + emoji, "a" + emoji).queue("q" + emoji));
    Object[] row = rows("SELECT job_class, queue, args::text FROM que_jobs WHERE " + idColumn() + " = ?", ok.id()).get(0);
    assertEquals("Smile" + emoji, row[0]);
    assertEquals("q" + emoji, row[1]);
    assertTrue(String.valueOf(row[2]).contains("a" + emoji), String.valueOf(row[2]));
  }

  @Test
  void anErrorTextWithAnUnpairedSurrogateIsStoredWithAReplacementCharacter() throws Exception {
    client.enqueue("Fails");
    Worker worker = new Worker(client, WorkMap.of("Fails", job -> {
      throw new IllegalStateException("bad \uD800 text");
    }));
    assertTrue(worker.workOne());
    String error = String.valueOf(one("SELECT " + lastErrorColumn() + " FROM que_jobs"));
    assertTrue(error.contains("bad \uFFFD text"), error);
  }

  // ---- 5. Shutdown returns by the deadline plus the abort grace ---------------------------------

  /** A handler deaf to its cancel: it waits for {@code release}, whatever interrupts it. */
  private static void deaf(CountDownLatch started, CountDownLatch release) {
    started.countDown();
    while (release.getCount() > 0) {
      try {
        release.await();
      } catch (InterruptedException ignored) {
        // deaf to the cancel
      }
    }
  }

  @Test
  void shutdownReturnsByTheDeadlinePlusTheGraceWhenAHandlerIgnoresItsCancel() throws Exception {
    CountDownLatch started = new CountDownLatch(2);
    CountDownLatch release = new CountDownLatch(1);
    WorkMap map = WorkMap.of("Deaf", job -> deaf(started, release));
    client.enqueue("Deaf", 1);
    client.enqueue("Deaf", 2);
    WorkerPool pool = WorkerPool.builder(client, map).workers(2).prefetch(1).build();
    pool.start();
    try {
      assertTrue(started.await(30, TimeUnit.SECONDS));
      long t0 = System.nanoTime();
      boolean clean = pool.shutdown(Duration.ofMillis(300), Duration.ofMillis(300));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertFalse(clean);
      // The bound is 600 ms; the old code waited 10 s more per worker, then 10 s per thread.
      assertTrue(ms >= 550 && ms < 5_000, "shutdown took " + ms + " ms");
    } finally {
      release.countDown();
    }
  }

  @Test
  void aSingleWorkersShutdownReturnsByTheDeadlinePlusTheGrace() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    WorkMap map = WorkMap.of("Deaf", job -> deaf(started, release));
    client.enqueue("Deaf");
    Worker worker = new Worker(client, map);
    Thread t = new Thread(worker::work, "deaf-worker");
    t.start();
    try {
      assertTrue(started.await(30, TimeUnit.SECONDS));
      long t0 = System.nanoTime();
      assertFalse(worker.shutdown(Duration.ofMillis(300)));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      // 300 ms + the default 5 s grace; the old code waited 10 s more.
      assertTrue(ms < 9_000, "shutdown took " + ms + " ms");
    } finally {
      release.countDown();
      t.join(10_000);
    }
  }
}
