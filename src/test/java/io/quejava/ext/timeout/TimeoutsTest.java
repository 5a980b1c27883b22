package io.quejava.ext.timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.NewJob;
import io.quejava.PgTest;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import io.quejava.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Per-job, per-class and default timeouts on the classic table (schema 3); {@link ModernTimeoutsTest}
 * runs the same on schema 7. Handlers block on latches; the timeouts are a few hundred milliseconds.
 */
@Timeout(120)
class TimeoutsTest extends PgTest {
  static final Duration DEADLINE = Duration.ofSeconds(15);
  static final String TIMEOUT_ERROR = "io.quejava.ext.timeout.JobTimeoutException: job ";

  final List<WorkerPool> pools = new ArrayList<>();

  @BeforeEach
  void installed() throws SQLException {
    Timeouts.install(ds);
    exec("TRUNCATE que_job_timeouts");
  }

  @AfterEach
  void stopPools() {
    pools.forEach(p -> p.shutdown(Duration.ofSeconds(10)));
    pools.clear();
  }

  void pool(String queue, Timeouts timeouts, WorkMap work) {
    WorkerPool p = WorkerPool.builder(client, work).workers(2).queue(queue).wakeInterval(Duration.ofMillis(100))
        .interceptor(timeouts).build();
    pools.add(p);
    p.start();
  }

  /** The job's error text once it has failed once, waiting for it. */
  String awaitError(long id) throws SQLException {
    Await.until(DEADLINE, "job " + id + " to fail once", () -> unchecked(
        "SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ? AND error_count = 1", id) == 1);
    return (String) one("SELECT " + lastErrorColumn() + " FROM que_jobs WHERE " + idColumn() + " = ?", id);
  }

  @Test
  void aBlockedHandlerIsInterruptedAtItsClassTimeoutAndTheJobErrorsWithIt() throws Exception {
    Timeouts timeouts = Timeouts.builder().forClass("Slow", Duration.ofMillis(300)).build();
    AtomicReference<String> reason = new AtomicReference<>();
    CountDownLatch interrupted = new CountDownLatch(1);
    pool("slow", timeouts, WorkMap.of("Slow", job -> {
      try {
        new CountDownLatch(1).await(); // forever, unless interrupted
      } catch (InterruptedException e) {
        reason.set(job.cancelReason().orElse(null));
        interrupted.countDown();
        throw e;
      }
    }));
    long id = client.enqueue(NewJob.of("Slow").queue("slow")).id();
    assertTrue(interrupted.await(DEADLINE.toSeconds(), TimeUnit.SECONDS), "the handler was interrupted");
    assertEquals("timed out after 300 ms (the timeout for class Slow)", reason.get());
    String error = awaitError(id);
    assertTrue(error.startsWith(TIMEOUT_ERROR + id + " (Slow) timed out after 300 ms (the timeout for class Slow)"), error);
  }

  @Test
  void aHandlerThatReturnsAfterTheCancelStillFailsWithTheTimeout() throws Exception {
    Timeouts timeouts = Timeouts.builder().defaultTimeout(Duration.ofMillis(200)).build();
    pool("polite", timeouts, WorkMap.of("Polite", job -> {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!job.context().isCancelled() && System.nanoTime() < end) {
        Thread.onSpinWait(); // a busy loop that checks the flag instead of blocking
      }
    }));
    long id = client.enqueue(NewJob.of("Polite").queue("polite")).id();
    String error = awaitError(id);
    assertTrue(error.startsWith(TIMEOUT_ERROR + id + " (Polite) timed out after 200 ms (the default timeout)"), error);
  }

  @Test
  void aPerJobTimeoutIsWrittenInTheEnqueuingTransactionAndWinsOverItsClass() throws Exception {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      Timeouts.enqueue(client, c, NewJob.of("Export").queue("own"), Duration.ofMillis(250));
      c.rollback();
      assertEquals(0, jobCount());
      assertEquals(0, count("SELECT count(*) FROM que_job_timeouts"));
      long id = Timeouts.enqueue(client, c, NewJob.of("Export").queue("own"), Duration.ofMillis(250)).id();
      assertEquals(0, unchecked("SELECT count(*) FROM que_job_timeouts"), "visible before the commit");
      c.commit();
      assertEquals(1, count("SELECT count(*) FROM que_job_timeouts WHERE job_id = ? AND timeout = interval '250 ms'", id));

      Timeouts timeouts = Timeouts.builder().forClass("Export", Duration.ofHours(1)).build();
      pool("own", timeouts, WorkMap.of("Export", job -> new CountDownLatch(1).await()));
      String error = awaitError(id);
      assertTrue(error.startsWith(TIMEOUT_ERROR + id + " (Export) timed out after 250 ms (the job's own timeout)"), error);
      assertEquals(1, count("SELECT count(*) FROM que_job_timeouts WHERE job_id = ?", id), "the retry needs its timeout");
    }
  }

  @Test
  void aJobThatEndsInTimeLosesItsTimeoutRowTogetherWithItsRow() throws Exception {
    long id = Timeouts.enqueue(client, NewJob.of("Quick").queue("quick"), Duration.ofSeconds(30)).id();
    long plain = client.enqueue(NewJob.of("Quick").queue("quick")).id();
    assertEquals(1, count("SELECT count(*) FROM que_job_timeouts"));
    CountDownLatch ran = new CountDownLatch(2);
    pool("quick", Timeouts.builder().build(), WorkMap.of("Quick", job -> ran.countDown()));
    assertTrue(ran.await(DEADLINE.toSeconds(), TimeUnit.SECONDS));
    Await.until(DEADLINE, "both jobs to be deleted", () -> unchecked("SELECT count(*) FROM que_jobs") == 0);
    assertEquals(0, count("SELECT count(*) FROM que_job_timeouts"));
    assertTrue(id != plain);
  }

  @Test
  void withoutItsTableClassTimeoutsStillApply() throws Exception {
    Timeouts.uninstall(ds);
    Timeouts timeouts = Timeouts.builder().forClass("Slow", Duration.ofMillis(200)).build();
    pool("notable", timeouts, WorkMap.of("Slow", job -> new CountDownLatch(1).await()));
    long id = client.enqueue(NewJob.of("Slow").queue("notable")).id();
    String error = awaitError(id);
    assertTrue(error.startsWith(TIMEOUT_ERROR + id + " (Slow) timed out after 200 ms"), error);
  }

  @Test
  void purgeDeletesTheTimeoutsOfJobsThatAreGone() throws Exception {
    long kept = Timeouts.enqueue(client, NewJob.of("Kept").queue("none"), Duration.ofSeconds(5)).id();
    exec("INSERT INTO que_job_timeouts (job_id, timeout) VALUES (?, interval '1 second')", kept + 12345);
    assertEquals(1, Timeouts.purge(ds));
    assertEquals(1, count("SELECT count(*) FROM que_job_timeouts WHERE job_id = ?", kept));
  }

  @Test
  void theTimeoutOfARunningJobIsVisibleToMonitors() throws Exception {
    Timeouts timeouts = Timeouts.builder().forClass("Watched", Duration.ofSeconds(40)).build();
    AtomicReference<Optional<Duration>> seen = new AtomicReference<>();
    CountDownLatch ran = new CountDownLatch(1);
    pool("watched", timeouts, WorkMap.of("Watched", job -> {
      seen.set(Timeouts.current(job.context()));
      ran.countDown();
    }));
    client.enqueue(NewJob.of("Watched").queue("watched"));
    assertTrue(ran.await(DEADLINE.toSeconds(), TimeUnit.SECONDS));
    assertEquals(Optional.of(Duration.ofSeconds(40)), seen.get());
    assertEquals(Optional.of(Duration.ofSeconds(40)), timeouts.timeoutFor("Watched"));
    assertEquals(Optional.empty(), timeouts.timeoutFor("Other"));
  }

  @Test
  void badOptionsAreRefusedNamingTheOption() {
    assertMessageStarts("forClass:", () -> Timeouts.builder().forClass("", Duration.ofSeconds(1)));
    assertMessageStarts("forClass:", () -> Timeouts.builder().forClass("X", Duration.ZERO));
    assertMessageStarts("forClass:", () -> Timeouts.builder().forClass("X", null));
    assertMessageStarts("defaultTimeout:", () -> Timeouts.builder().defaultTimeout(Duration.ofSeconds(-1)));
    assertMessageStarts("defaultTimeout:", () -> Timeouts.builder().defaultTimeout(Duration.ofDays(365L * 101)));
    assertMessageStarts("timeout:", () -> Timeouts.enqueue(client, NewJob.of("X"), Duration.ZERO));
    assertEquals(0, unchecked("SELECT count(*) FROM que_jobs"), "a refused enqueue wrote a job");
  }

  long unchecked(String query, Object... params) {
    try {
      return count(query, params);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static void assertMessageStarts(String prefix, org.junit.jupiter.api.function.Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
  }
}
