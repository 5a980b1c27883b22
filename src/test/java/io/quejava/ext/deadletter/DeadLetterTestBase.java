package io.quejava.ext.deadletter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.RetryPolicy;
import io.quejava.WorkMap;
import io.quejava.Worker;
import io.quejava.WorkerConfig;
import io.quejava.WorkerPool;
import io.quejava.testing.Await;
import io.quejava.testing.TestDatabase;
import io.quejava.testing.TestSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The deadletter extension on a real PostgreSQL, at {@link #schemaVersion()}: 3 moves dead jobs to
 * que_dead_jobs, 4 to 7 expire them in que_jobs. The tests read the same on both and branch only
 * where the two really differ.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
abstract class DeadLetterTestBase {
  static final Duration WAIT = Duration.ofSeconds(20);

  DataSource ds;
  Client client;
  TestSql sql;
  DeadLetters dead;

  abstract int schemaVersion();

  boolean modern() {
    return schemaVersion() >= 4;
  }

  String idColumn() {
    return modern() ? "id" : "job_id";
  }

  @BeforeAll
  void createSchema() {
    ds = TestDatabase.newSchema(getClass().getSimpleName());
    if (schemaVersion() == 3) {
      Migrator.create(ds).migrate();
    } else {
      Migrator.create(ds).migrateTo(schemaVersion());
    }
    assertEquals(1, DeadLetters.migrator(ds).migrate());
    client = Client.create(ds);
    sql = new TestSql(ds);
    dead = DeadLetters.create(client);
  }

  @BeforeEach
  void empty() throws SQLException {
    sql.exec("TRUNCATE que_jobs");
    sql.exec("TRUNCATE que_dead_jobs");
  }

  /** A worker that retries at once (no backoff), with the interceptor around every job. */
  Worker worker(String queue, WorkMap work, DeadLetterInterceptor interceptor) {
    return new Worker(client, work, WorkerConfig.custom().queue(queue).retryPolicy(RetryPolicy.fixed(Duration.ZERO))
        .interceptor(interceptor).build());
  }

  /** Works jobs of the queue until none is ready. */
  static void drain(Worker w) {
    while (w.workOne()) {
      // next
    }
  }

  static WorkMap failing(String jobClass, String message) {
    return WorkMap.of(jobClass, job -> {
      throw new IllegalStateException(message);
    });
  }

  long liveJobs(String queue) throws SQLException {
    return sql.count("SELECT count(*) FROM que_jobs WHERE queue = ?"
        + (modern() ? " AND expired_at IS NULL" : ""), queue);
  }

  @Test
  void aJobFailingItsLastAttemptDiesWithItsErrorAndWorkerThenReplaysAndRuns() throws Exception {
    String queue = "dl_main";
    AtomicBoolean heal = new AtomicBoolean();
    AtomicInteger attempts = new AtomicInteger();
    CountDownLatch healed = new CountDownLatch(1);
    WorkMap work = WorkMap.of("Flaky", job -> {
      int n = attempts.incrementAndGet();
      if (!heal.get()) {
        throw new IllegalStateException("boom " + n);
      }
      healed.countDown();
    });
    DeadLetterInterceptor interceptor = DeadLetterInterceptor.builder(client).maxAttempts(3).build();
    WorkerPool pool = WorkerPool.builder(client, work).workers(1).queue(queue).name("dlpool")
        .wakeInterval(Duration.ofMillis(20)).retryPolicy(RetryPolicy.fixed(Duration.ZERO))
        .interceptor(interceptor).build();
    Job job = client.enqueue(NewJob.ofJson("Flaky", "[1, {\"b\": \"é\"}]").queue(queue).priority(7));
    pool.start();
    try {
      Await.until(WAIT, "the job to die", () -> count(dead, queue) == 1);
      assertEquals(3, attempts.get(), "three attempts, the third the last");
      assertEquals(0, liveJobs(queue), "que_jobs no longer has it as a live job");
      if (!modern()) {
        assertEquals(0, sql.count("SELECT count(*) FROM que_jobs WHERE job_id = ?", job.id()));
      }
      DeadJob d = dead.list(DeadJobFilter.all().queue(queue)).get(0);
      assertEquals(job.id(), d.id());
      assertEquals("Flaky", d.jobClass());
      assertEquals(7, d.priority());
      assertEquals(3, d.errorCount());
      assertTrue(d.lastError().orElseThrow().startsWith("java.lang.IllegalStateException: boom 3"), d.lastError().toString());
      assertEquals("java.lang.IllegalStateException", d.errorType());
      assertNotNull(d.diedAt());
      if (modern()) {
        assertEquals(DeadJob.REASON_EXPIRED, d.reason());
        assertEquals("[1, {\"b\": \"é\"}]", d.argsJson());
        assertTrue(d.lastErrorBacktrace().orElseThrow().contains("DeadLetterTestBase"), d.lastErrorBacktrace().toString());
        assertTrue(d.workerName().isEmpty());
        assertEquals(1, sql.count("SELECT count(*) FROM que_jobs WHERE id = ? AND expired_at IS NOT NULL"
            + " AND error_count = 3 AND last_error_message LIKE 'java.lang.IllegalStateException: boom 3%'", job.id()));
      } else {
        assertEquals(DeadJob.REASON_MAX_ATTEMPTS, d.reason());
        assertEquals("[1, {\"b\": \"é\"}]", d.argsJson(), "args verbatim");
        assertTrue(d.lastError().orElseThrow().contains("\n"), "the stack trace follows the first line");
        assertTrue(d.lastErrorBacktrace().isEmpty());
        assertEquals(java.util.Optional.of("dlpool-1"), d.workerName());
      }
      assertEquals(0, sql.count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
          + " AND ((classid::bigint << 32) | objid::bigint) = ?", job.id()), "the lock was released");

      heal.set(true);
      assertTrue(dead.replay(job.id()), "replayed");
      assertTrue(healed.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the replayed job ran");
      Await.until(WAIT, "the replayed job to be deleted", () -> {
        try {
          return sql.count("SELECT count(*) FROM que_jobs") == 0;
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
      assertEquals(4, attempts.get());
      assertEquals(0, dead.count());
    } finally {
      pool.shutdown(Duration.ofSeconds(10));
    }
  }

  @Test
  void replayPutsTheJobBackWithItsIdErrorCountZeroAndRunAtNow() throws Exception {
    String queue = "dl_replay";
    Worker w = worker(queue, failing("R", "nope"), DeadLetterInterceptor.builder(client).maxAttempts(2).build());
    Job job = client.enqueue(NewJob.of("R", 1).queue(queue).priority(3));
    drain(w);
    assertEquals(1, dead.count(DeadJobFilter.all().queue(queue)));
    assertEquals(List.of(job.id()), dead.existing(List.of(999_999_999L, job.id())), "existing names only dead jobs");
    Instant before = dbNow();
    assertEquals(List.of(job.id()), dead.replay(List.of(job.id(), 999_999_999L)));
    List<Object[]> rows = sql.rows("SELECT " + idColumn() + ", queue, priority, error_count, run_at, job_class, args::text"
        + " FROM que_jobs");
    assertEquals(1, rows.size());
    Object[] r = rows.get(0);
    assertEquals(job.id(), ((Number) r[0]).longValue(), "the old id is kept");
    assertEquals(queue, r[1]);
    assertEquals(3, ((Number) r[2]).intValue());
    assertEquals(0, ((Number) r[3]).intValue(), "error_count reset");
    assertFalse(((Instant) r[4]).isBefore(before), "run_at = now() of the replay");
    assertEquals("R", r[5]);
    assertEquals("[1]", r[6]);
    if (modern()) {
      assertEquals(1, sql.count("SELECT count(*) FROM que_jobs WHERE expired_at IS NULL"));
    }
    assertEquals(0, dead.count());
    assertFalse(dead.replay(job.id()), "a second replay finds nothing");
    assertEquals(List.of(), dead.existing(List.of(job.id())), "a replayed job is no longer dead");
  }

  @Test
  void replaySkipsAJobWhoseLockSomeSessionHolds() throws Exception {
    String queue = "dl_locked";
    Worker w = worker(queue, failing("L", "locked"), DeadLetterInterceptor.builder(client).maxAttempts(1).build());
    Job job = client.enqueue(NewJob.of("L").queue(queue));
    drain(w);
    assertEquals(1, dead.count());
    try (Connection holder = ds.getConnection()) {
      try (PreparedStatement ps = holder.prepareStatement("SELECT pg_advisory_lock(?)")) {
        ps.setLong(1, job.id());
        ps.execute();
      }
      assertEquals(List.of(), dead.replay(List.of(job.id())), "a held id is not replayed");
      assertEquals(1, dead.count(), "still dead");
      if (modern()) {
        assertEquals(0, dead.delete(List.of(job.id())), "nor deleted: it is a que_jobs row under a lock");
      }
    }
    long id = job.id();
    assertEquals(List.of(id), dead.replay(List.of(id)), "replayed once the lock is gone");
  }

  @Test
  void classicReplayNeverCreatesASecondRowForAJobId() throws Exception {
    Assumptions.assumeFalse(modern(), "on schemas 4-7 the row never leaves que_jobs");
    String queue = "dl_dupe";
    Worker w = worker(queue, failing("D", "dupe"), DeadLetterInterceptor.builder(client).maxAttempts(1).build());
    Job job = client.enqueue(NewJob.of("D").queue(queue));
    drain(w);
    // Someone put a row with the same job_id back by hand (different run_at, so the key differs).
    sql.exec("INSERT INTO que_jobs (queue, priority, run_at, job_id, job_class) VALUES (?, 100, now() + interval '1 hour', ?, 'D')",
        queue, job.id());
    assertEquals(List.of(), dead.replay(List.of(job.id())));
    assertEquals(1, sql.count("SELECT count(*) FROM que_jobs WHERE job_id = ?", job.id()));
    assertEquals(1, dead.count(), "left dead");
  }

  @Test
  void theLimitIsPerPoolAndPerClassAndUnlimitedByDefault() throws Exception {
    String queue = "dl_limits";
    WorkMap work = WorkMap.builder()
        .put("Strict", job -> {
          throw new IllegalArgumentException("strict");
        })
        .put("Lenient", job -> {
          throw new IllegalArgumentException("lenient");
        })
        .build();
    Worker w = worker(queue, work, DeadLetterInterceptor.builder(client).maxAttempts("Strict", 2).build());
    assertNull(DeadLetterInterceptor.builder(client).build().maxAttempts("Lenient"), "unlimited by default");
    client.enqueue(NewJob.of("Strict").queue(queue));
    Job lenient = client.enqueue(NewJob.of("Lenient").queue(queue));
    for (int i = 0; i < 6; i++) {
      w.workOne();
    }
    assertEquals(1, dead.count(DeadJobFilter.all().jobClass("Strict")));
    assertEquals(0, dead.count(DeadJobFilter.all().jobClass("Lenient")));
    long lenientErrors = sql.count("SELECT error_count FROM que_jobs WHERE " + idColumn() + " = ?", lenient.id());
    assertEquals(4, lenientErrors, "Lenient keeps retrying: 6 attempts, 2 of them Strict's");

    Worker perPool = worker("dl_limits2", work,
        DeadLetterInterceptor.builder(client).maxAttempts(3).maxAttempts("Lenient", 1).build());
    client.enqueue(NewJob.of("Lenient").queue("dl_limits2"));
    client.enqueue(NewJob.of("Strict").queue("dl_limits2"));
    drain(perPool);
    assertEquals(1, dead.list(DeadJobFilter.all().queue("dl_limits2").jobClass("Lenient")).get(0).errorCount());
    assertEquals(3, dead.list(DeadJobFilter.all().queue("dl_limits2").jobClass("Strict")).get(0).errorCount());
  }

  @Test
  void unknownJobClassesCountUnlessTurnedOff() throws Exception {
    WorkMap none = WorkMap.of("Known", job -> { });
    Worker counting = worker("dl_unknown", none, DeadLetterInterceptor.builder(client).maxAttempts(2).build());
    Job job = client.enqueue(NewJob.of("Nope").queue("dl_unknown"));
    drain(counting);
    DeadJob d = dead.list(DeadJobFilter.all().queue("dl_unknown")).get(0);
    assertEquals(job.id(), d.id());
    assertEquals(2, d.errorCount());
    assertEquals(java.util.Optional.of("unknown job type: \"Nope\""), d.lastError());
    assertEquals(modern() ? DeadJob.REASON_EXPIRED : DeadJob.REASON_UNKNOWN_JOB_CLASS, d.reason());

    Worker ignoring = worker("dl_unknown2", none,
        DeadLetterInterceptor.builder(client).maxAttempts(1).countUnknownClasses(false).build());
    Job other = client.enqueue(NewJob.of("Nope").queue("dl_unknown2"));
    ignoring.workOne();
    ignoring.workOne();
    assertEquals(0, dead.count(DeadJobFilter.all().queue("dl_unknown2")));
    assertEquals(2, sql.count("SELECT error_count FROM que_jobs WHERE " + idColumn() + " = ?", other.id()));
  }

  @Test
  void aHandlerTransactionLeftOpenIsRolledBackAndTheJobStillDies() throws Exception {
    sql.exec("CREATE TABLE IF NOT EXISTS dl_effects (v text)");
    WorkMap work = WorkMap.of("Tx", job -> {
      Connection c = job.connection();
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO dl_effects VALUES ('half done')")) {
        ps.execute();
      }
      throw new IllegalStateException("failed mid-transaction");
    });
    Worker w = worker("dl_tx", work, DeadLetterInterceptor.builder(client).maxAttempts(1).build());
    client.enqueue(NewJob.of("Tx").queue("dl_tx"));
    drain(w);
    assertEquals(1, dead.count(DeadJobFilter.all().queue("dl_tx")));
    assertEquals(0, sql.count("SELECT count(*) FROM dl_effects"), "the handler's write was rolled back");
    assertEquals(0, liveJobs("dl_tx"));
  }

  @Test
  void aJobThatResolvedItselfIsLeftAlone() throws Exception {
    WorkMap work = WorkMap.of("SelfDelete", job -> {
      job.delete();
      throw new IllegalStateException("after delete");
    });
    Worker w = worker("dl_self", work, DeadLetterInterceptor.builder(client).maxAttempts(1).build());
    client.enqueue(NewJob.of("SelfDelete").queue("dl_self"));
    drain(w);
    assertEquals(0, dead.count());
    assertEquals(0, sql.count("SELECT count(*) FROM que_jobs"));
  }

  @Test
  void listCountGroupDeleteAndPurge() throws Exception {
    DeadLetterInterceptor once = DeadLetterInterceptor.builder(client).maxAttempts(1).build();
    Worker a = worker("dl_a", WorkMap.builder()
        .put("Timeout", job -> {
          throw new java.net.SocketTimeoutException("read timed out");
        })
        .put("Declined", job -> {
          throw new IllegalStateException("card declined");
        })
        .build(), once);
    for (int i = 0; i < 3; i++) {
      client.enqueue(NewJob.of("Timeout", i).queue("dl_a"));
    }
    client.enqueue(NewJob.of("Declined").queue("dl_a"));
    client.enqueue(NewJob.of("Unknown").queue("dl_a"));
    drain(a);
    Worker b = worker("dl_b", failing("Declined", "card declined again"), once);
    client.enqueue(NewJob.of("Declined").queue("dl_b"));
    drain(b);

    assertEquals(6, dead.count());
    assertEquals(5, dead.count(DeadJobFilter.all().queue("dl_a")));
    assertEquals(2, dead.count(DeadJobFilter.all().jobClass("Declined")));
    assertEquals(1, dead.count(DeadJobFilter.all().queue("dl_b").jobClass("Declined")));
    assertEquals(3, dead.count(DeadJobFilter.all().errorContains("timed out")));
    assertEquals(2, dead.count(DeadJobFilter.all().errorContains("card declined")));
    assertEquals(0, dead.count(DeadJobFilter.all().queue("elsewhere")));
    assertEquals(2, dead.list(DeadJobFilter.all().queue("dl_a").limit(2)).size());
    assertEquals(6, dead.list().size());

    Map<String, Long> byType = dead.countByErrorType();
    assertEquals(Map.of("java.net.SocketTimeoutException", 3L, "java.lang.IllegalStateException", 2L,
        "unknown job type: \"Unknown\"", 1L), byType);
    assertEquals("java.net.SocketTimeoutException", byType.keySet().iterator().next(), "most frequent first");
    assertEquals(Map.of("java.lang.IllegalStateException", 1L),
        dead.countByErrorType(DeadJobFilter.all().queue("dl_b")));
    for (DeadJob d : dead.list()) {
      assertTrue(byType.containsKey(d.errorType()), "SQL and Java group alike: " + d.errorType());
    }

    long declinedB = dead.list(DeadJobFilter.all().queue("dl_b")).get(0).id();
    assertTrue(dead.delete(declinedB));
    assertFalse(dead.delete(declinedB));
    assertEquals(5, dead.count());

    // Two of the timeouts died long ago.
    List<Long> old = dead.list(DeadJobFilter.all().jobClass("Timeout").limit(2)).stream().map(DeadJob::id).toList();
    sql.exec(modern()
        ? "UPDATE que_jobs SET expired_at = now() - interval '10 days' WHERE id = ANY(?)"
        : "UPDATE que_dead_jobs SET died_at = now() - interval '10 days' WHERE job_id = ANY(?)",
        (Object) old.toArray(new Long[0]));
    assertEquals(0, dead.purgeOlderThan(Duration.ofDays(30)));
    assertEquals(2, dead.purgeOlderThan(Duration.ofDays(7)));
    assertEquals(3, dead.count());
    assertEquals(3, dead.purgeDiedBefore(Instant.now().plusSeconds(60)));
    assertEquals(0, dead.count());
  }

  @Test
  void replayManyByFilterInOneTransaction() throws Exception {
    Worker w = worker("dl_many", failing("M", "m"), DeadLetterInterceptor.builder(client).maxAttempts(1).build());
    for (int i = 0; i < 5; i++) {
      client.enqueue(NewJob.of("M", i).queue("dl_many"));
    }
    drain(w);
    assertEquals(5, dead.count());
    assertEquals(3, dead.replay(DeadJobFilter.all().jobClass("M").limit(3)).size());
    assertEquals(2, dead.count());
    assertEquals(3, liveJobs("dl_many"));
    assertEquals(2, dead.replay(DeadJobFilter.all()).size());
    assertEquals(5, liveJobs("dl_many"));
  }

  @Test
  void badInputNamesTheOption() {
    assertMessage("limit:", () -> DeadJobFilter.all().limit(0));
    assertMessage("limit:", () -> DeadJobFilter.all().limit(DeadJobFilter.MAX_LIMIT + 1));
    assertMessage("queue:", () -> DeadJobFilter.all().queue(null));
    assertMessage("jobClass:", () -> DeadJobFilter.all().jobClass(""));
    assertMessage("errorContains:", () -> DeadJobFilter.all().errorContains("a\0b"));
    assertMessage("ids[1]:", () -> dead.replay(java.util.Arrays.asList(1L, null)));
    assertMessage("ids:", () -> dead.delete((java.util.Collection<Long>) null));
    assertMessage("ids:", () -> dead.replay(java.util.stream.LongStream.range(0, DeadLetters.MAX_IDS + 1).boxed().toList()));
    assertMessage("age:", () -> dead.purgeOlderThan(Duration.ofSeconds(-1)));
    assertMessage("cutoff:", () -> dead.purgeDiedBefore(null));
    assertMessage("maxAttempts:", () -> DeadLetterInterceptor.builder(client).maxAttempts(0));
    assertMessage("maxAttempts(X):", () -> DeadLetterInterceptor.builder(client).maxAttempts("X", -1));
    assertMessage("jobClass:", () -> DeadLetterInterceptor.builder(client).maxAttempts(" ", 1));
  }

  static void assertMessage(String prefix, org.junit.jupiter.api.function.Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
  }

  static long count(DeadLetters dead, String queue) {
    return dead.count(DeadJobFilter.all().queue(queue));
  }

  Instant dbNow() throws SQLException {
    return (Instant) sql.one("SELECT now()");
  }
}
