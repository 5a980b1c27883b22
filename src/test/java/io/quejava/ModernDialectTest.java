package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quejava.internal.Session;
import io.quejava.testing.TestSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * What only the modern dialect (schemas 4 to 7, Ruby Que 1.x/2.x) does: finish, expire, retryIn,
 * the split error columns and their limits, expiry after the 16th failure, kwargs and tags, Que's
 * CHECK limits, job schema versions, the stricter re-check, skip_notify on bulk enqueue, and how a
 * table's version is detected. The class's own schema is at 7; a few tests use schemas 3 to 6.
 */
class ModernDialectTest extends PgTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TestSql s3;
  private TestSql s4;
  private TestSql s5;
  private TestSql s6;

  @Override
  protected int schemaVersion() {
    return 7;
  }

  @BeforeAll
  void otherSchemas() {
    s3 = new TestSql(schemaAt(3, "modern_s3"));
    s4 = new TestSql(schemaAt(4, "modern_s4"));
    s5 = new TestSql(schemaAt(5, "modern_s5"));
    s6 = new TestSql(schemaAt(6, "modern_s6"));
  }

  @BeforeEach
  void emptyOtherQueues() throws SQLException {
    for (TestSql db : List.of(s3, s4, s5, s6)) {
      db.exec("TRUNCATE que_jobs");
    }
  }

  @AfterEach
  void clearHook() {
    client.beforeRecheck = null;
  }

  // ---------------------------------------------------------------------------------------------
  // Outcomes: finish, expire, retryIn, error

  @Test
  void finishKeepsTheRowAndItIsNeverLockedAgain() throws SQLException {
    Job done = client.enqueue(NewJob.of("Done").priority(1));
    Job next = client.enqueue(NewJob.of("Next").priority(2));
    Timestamp before;
    Timestamp after;
    try (LockedJob locked = client.lockJob("default").orElseThrow()) {
      assertEquals(done.id(), locked.job().id());
      before = clock();
      locked.finish();
      after = clock();
      assertTrue(locked.isResolved());
      assertFalse(locked.isDeleted());
      assertThrows(IllegalStateException.class, locked::finish, "a job is resolved once");
    }
    Object[] row = rows("SELECT finished_at, expired_at, error_count, last_error_message FROM que_jobs WHERE id = ?",
        done.id()).get(0);
    Instant finishedAt = ((Timestamp) row[0]).toInstant();
    assertFalse(finishedAt.isBefore(before.toInstant()) || finishedAt.isAfter(after.toInstant()), "finished_at = now()");
    assertEquals(Arrays.asList(null, 0, null), Arrays.asList(row).subList(1, 4));
    assertEquals(0, advisoryLocksOn(List.of(done.id())));

    try (LockedJob locked = client.lockJob("default").orElseThrow()) {
      assertEquals(next.id(), locked.job().id(), "the finished job, first in order, is passed over");
      locked.delete();
    }
    assertTrue(client.lockJob("default").isEmpty(), "a finished job is never locked again");
    Worker worker = new Worker(client, WorkMap.of("Done", j -> { }));
    try {
      assertFalse(worker.workOne(), "nor worked");
    } finally {
      worker.shutdown();
    }
    assertEquals(1, jobCount(), "the finished row stays");
  }

  @Test
  void aHandlerThatFinishesItsJobKeepsTheRow() throws SQLException {
    Job job = client.enqueue("Keeps");
    Worker worker = new Worker(client, WorkMap.of("Keeps", RunningJob::finish));
    try {
      assertTrue(worker.workOne());
      assertFalse(worker.workOne());
    } finally {
      worker.shutdown();
    }
    assertEquals(1, worker.jobsWorked());
    assertEquals(true, one("SELECT finished_at IS NOT NULL FROM que_jobs WHERE id = ?", job.id()),
        "the worker does not delete a job its handler finished");

    // The same in a pool, whose workers lock and delete in batches.
    List<NewJob> more = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      more.add(NewJob.of(i % 2 == 0 ? "Keeps" : "Goes", i));
    }
    client.enqueueAll(more);
    WorkerPool pool = WorkerPool.builder(client, WorkMap.builder().put("Keeps", RunningJob::finish).put("Goes", j -> { }).build())
        .workers(2).wakeInterval(Duration.ofMillis(20)).build();
    pool.start();
    try {
      io.quejava.testing.Await.until(Duration.ofSeconds(30), "all 20 worked", () -> pool.jobsWorked() == 20);
    } finally {
      assertTrue(pool.shutdown(Duration.ofSeconds(10)));
    }
    assertEquals(Arrays.asList(11L, 11L), Arrays.asList(rows("SELECT count(*), count(*) FILTER (WHERE finished_at IS NOT NULL"
        + " AND job_class = 'Keeps') FROM que_jobs").get(0)), "finished rows stay, the others were deleted");
  }

  @Test
  void expireKeepsTheRowWithOneMoreErrorAndItIsNeverLockedAgain() throws SQLException {
    Job job = client.enqueue("Expires");
    exec("UPDATE que_jobs SET error_count = 3, last_error_message = 'earlier', last_error_backtrace = 'at earlier'"
        + " WHERE id = ?", job.id());
    Object runAt = one("SELECT run_at FROM que_jobs WHERE id = ?", job.id());
    Timestamp before;
    Timestamp after;
    try (LockedJob locked = client.lockJob("default").orElseThrow()) {
      before = clock();
      locked.expire();
      after = clock();
    }
    Object[] row = rows("SELECT expired_at, finished_at, error_count, last_error_message, last_error_backtrace, run_at"
        + " FROM que_jobs WHERE id = ?", job.id()).get(0);
    Instant expiredAt = ((Timestamp) row[0]).toInstant();
    assertFalse(expiredAt.isBefore(before.toInstant()) || expiredAt.isAfter(after.toInstant()), "expired_at = now()");
    assertEquals(Arrays.asList(null, 4, "earlier", "at earlier", runAt), Arrays.asList(row).subList(1, 6),
        "error_count + 1, nothing else changed");
    assertTrue(client.lockJob("default").isEmpty(), "an expired job is never locked again");
    assertEquals(0, advisoryLocksOn(List.of(job.id())));

    exec("UPDATE que_jobs SET expired_at = NULL, error_count = 0 WHERE id = ?", job.id());
    try (LockedJob locked = client.lockJob("default").orElseThrow()) {
      assertEquals(job.id(), locked.job().id(), "clearing expired_at makes it ready again, as Que documents");
    }
  }

  @Test
  void retryInMovesRunAtByTheFractionalDelayAndClearsTheErrorColumns() throws SQLException {
    Job job = client.enqueue("Later");
    exec("UPDATE que_jobs SET error_count = 15, last_error_message = 'earlier', last_error_backtrace = 'at earlier'"
        + " WHERE id = ?", job.id());
    Timestamp now;
    try (LockedJob locked = client.lockJob("default").orElseThrow()) {
      Connection c = locked.connection();
      c.setAutoCommit(false);
      // now() is the transaction's start: the same instant the UPDATE's now() will be.
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT now()")) {
        rs.next();
        now = rs.getTimestamp(1);
      }
      locked.retryIn(Duration.ofMillis(2500));
      c.commit();
      c.setAutoCommit(true);
    }
    Object[] row = rows("SELECT error_count, run_at, last_error_message, last_error_backtrace, expired_at, finished_at"
        + " FROM que_jobs WHERE id = ?", job.id()).get(0);
    assertEquals(16, row[0], "error_count + 1");
    assertEquals(now.toInstant().plusMillis(2500), ((Timestamp) row[1]).toInstant(),
        "run_at = now() + 2.5 s exactly: fractional seconds, not rounded up to 3 as on schema 3");
    assertEquals(Arrays.asList(null, null, null, null), Arrays.asList(row).subList(2, 6),
        "the error columns are cleared, as Que's retry_in does; a retry never expires the job");
    assertEquals(0, advisoryLocksOn(List.of(job.id())));
  }

  @Test
  void errorTextIsQuesMessageAndBacktraceCutInCodePointsWithoutNul() throws SQLException {
    Job job = client.enqueue("Fails");
    RuntimeException failure = new RuntimeException("a\0b" + "😀".repeat(600));
    StackTraceElement[] frames = new StackTraceElement[400];
    for (int i = 0; i < frames.length; i++) {
      frames[i] = new StackTraceElement("𝔉𝔯𝔞𝔪𝔢\0" + i, "𝔯𝔲𝔫", "F.java", i + 1);
    }
    failure.setStackTrace(frames);
    try (LockedJob locked = client.lockJob("default").orElseThrow()) {
      locked.error(failure);
    }
    Object[] row = rows("SELECT last_error_message, last_error_backtrace, char_length(last_error_message),"
        + " char_length(last_error_backtrace), error_count FROM que_jobs WHERE id = ?", job.id()).get(0);
    String message = (String) row[0];
    String backtrace = (String) row[1];

    String expectedMessage = cut("java.lang.RuntimeException: ab" + "😀".repeat(600), 500);
    assertEquals(expectedMessage, message, "\"<class>: <message>\", NUL removed, cut to 500 characters");
    assertEquals(500, row[2], "PostgreSQL counts 500 characters");
    assertTrue(message.length() > 900, "which are more than 500 UTF-16 units: astral characters are counted once");

    StringBuilder lines = new StringBuilder();
    for (StackTraceElement f : frames) {
      lines.append(lines.length() == 0 ? "" : "\n").append("at ").append(f.toString().replace("\0", ""));
    }
    assertTrue(lines.codePointCount(0, lines.length()) > 10_000, "the test's backtrace is over the limit");
    assertEquals(cut(lines.toString(), 10_000), backtrace, "frames joined by newlines, NUL removed, cut to 10,000");
    assertEquals(10_000, row[3]);
    assertTrue(backtrace.length() > 10_000);
    assertEquals(1, row[4]);
  }

  @Test
  void theSixteenthFailureExpiresTheJobExactlyAsQueDoes() throws SQLException {
    Job fifteenth = client.enqueue(NewJob.of("Fails").priority(1));
    Job sixteenth = client.enqueue(NewJob.of("Fails").priority(2));
    exec("UPDATE que_jobs SET error_count = 14, last_error_message = 'fourteenth', last_error_backtrace = 'at 14'"
        + " WHERE id = ?", fifteenth.id());
    exec("UPDATE que_jobs SET error_count = 15, last_error_message = 'fifteenth', last_error_backtrace = 'at 15'"
        + " WHERE id = ?", sixteenth.id());
    Object sixteenthRunAt = one("SELECT run_at FROM que_jobs WHERE id = ?", sixteenth.id());
    Worker worker = new Worker(client, WorkMap.of("Fails", j -> {
      throw new IllegalStateException("again");
    }));
    try {
      assertTrue(worker.workOne());
      assertTrue(worker.workOne());
      assertFalse(worker.workOne());
    } finally {
      worker.shutdown();
    }
    Object[] retried = rows("SELECT error_count, expired_at, last_error_message, round(extract(epoch FROM run_at - now()))"
        + " FROM que_jobs WHERE id = ?", fifteenth.id()).get(0);
    assertEquals(Arrays.asList(15, null, "java.lang.IllegalStateException: again"), Arrays.asList(retried).subList(0, 3),
        "the 15th failure is retried");
    assertEquals(0, new java.math.BigDecimal(15L * 15 * 15 * 15 + 3).compareTo((java.math.BigDecimal) retried[3]),
        "after 15^4 + 3 seconds");

    Object[] expired = rows("SELECT error_count, expired_at IS NOT NULL, last_error_message, last_error_backtrace, run_at,"
        + " finished_at FROM que_jobs WHERE id = ?", sixteenth.id()).get(0);
    assertEquals(Arrays.asList(16, true, "fifteenth", "at 15", sixteenthRunAt, null), Arrays.asList(expired),
        "the 16th failure expires it: error_count 16, the previous failure's text kept, run_at untouched");
    assertEquals(0, advisoryLocksOn(List.of(fifteenth.id(), sixteenth.id())));

    // The same through lockJob (its default maximum is Que's 15 too).
    Job viaLock = client.enqueue("Fails");
    exec("UPDATE que_jobs SET error_count = 15 WHERE id = ?", viaLock.id());
    try (LockedJob locked = client.lockJob("default").orElseThrow()) {
      locked.error(new IllegalStateException("sixteenth"));
    }
    assertEquals(Arrays.asList(16, true, null), Arrays.asList(rows(
        "SELECT error_count, expired_at IS NOT NULL, last_error_message FROM que_jobs WHERE id = ?", viaLock.id()).get(0)));
  }

  @Test
  void anUnknownClassExpiresAfterItsSixteenthFailureInAPoolToo() throws Exception {
    Job unknown = client.enqueue(NewJob.of("Nobody").priority(1));
    Job known = client.enqueue(NewJob.of("Known").priority(2));
    exec("UPDATE que_jobs SET error_count = 15, last_error_message = 'fifteenth' WHERE id = ?", unknown.id());
    java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
    WorkerPool pool = WorkerPool.builder(client, WorkMap.of("Known", j -> ran.countDown()))
        .workers(1).wakeInterval(Duration.ofMillis(20)).build();
    pool.start();
    try {
      // The walk takes the unknown job first (priority 1); the known one runs after it.
      assertTrue(ran.await(30, java.util.concurrent.TimeUnit.SECONDS));
      io.quejava.testing.Await.until(Duration.ofSeconds(30), "the known job deleted", () -> {
        try {
          return count("SELECT count(*) FROM que_jobs WHERE id = " + known.id()) == 0;
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
    } finally {
      assertTrue(pool.shutdown(Duration.ofSeconds(10)));
    }
    assertEquals(Arrays.asList(16, true, "fifteenth"), Arrays.asList(rows(
        "SELECT error_count, expired_at IS NOT NULL, last_error_message FROM que_jobs WHERE id = ?", unknown.id()).get(0)),
        "a class no worker knows is expired on its 16th failure, as Ruby Que 1.x/2.x does (0.x retries forever)");
    assertEquals(1, pool.jobsFailed());
    assertEquals(0, advisoryLocksOn(List.of(unknown.id(), known.id())));
  }

  @Test
  void maxRetryCountIsConfigurable() throws SQLException {
    Job second = client.enqueue(NewJob.of("Fails").priority(1));
    Job third = client.enqueue(NewJob.of("Fails").priority(2));
    exec("UPDATE que_jobs SET error_count = 1 WHERE id = ?", second.id());
    exec("UPDATE que_jobs SET error_count = 2 WHERE id = ?", third.id());
    WorkMap fails = WorkMap.of("Fails", j -> {
      throw new IllegalStateException("no");
    });
    Worker worker = new Worker(client, fails, WorkerConfig.custom().maxRetryCount(2).build());
    try {
      assertTrue(worker.workOne());
      assertTrue(worker.workOne());
    } finally {
      worker.shutdown();
    }
    assertEquals(Arrays.asList(2, false), Arrays.asList(rows(
        "SELECT error_count, expired_at IS NOT NULL FROM que_jobs WHERE id = ?", second.id()).get(0)), "2 <= 2: retried");
    assertEquals(Arrays.asList(3, true), Arrays.asList(rows(
        "SELECT error_count, expired_at IS NOT NULL FROM que_jobs WHERE id = ?", third.id()).get(0)), "3 > 2: expired");

    Job first = client.enqueue("Fails");
    WorkerPool pool = WorkerPool.builder(client, fails).workers(1).maxRetryCount(0).build();
    Worker zero = new Worker(client, fails, pool.config());
    try {
      assertTrue(zero.workOne());
    } finally {
      zero.shutdown();
      pool.shutdown();
    }
    assertEquals(Arrays.asList(1, true), Arrays.asList(rows(
        "SELECT error_count, expired_at IS NOT NULL FROM que_jobs WHERE id = ?", first.id()).get(0)),
        "maxRetryCount(0): the first failure expires the job");
    assertThrows(IllegalArgumentException.class, () -> WorkerConfig.custom().maxRetryCount(-1));
  }

  @Test
  void schema3RefusesMaxRetryCountFinishAndExpire() throws SQLException {
    Client classic = Client.create(s3.ds());
    WorkMap map = WorkMap.of("X", j -> { });
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Worker(classic, map, WorkerConfig.custom().maxRetryCount(5).build()));
    assertTrue(e.getMessage().startsWith("maxRetryCount:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> WorkerPool.builder(classic, map).maxRetryCount(5).build());
    assertTrue(e.getMessage().startsWith("maxRetryCount:"), e.getMessage());

    Job job = classic.enqueue("X");
    s3.exec("UPDATE que_jobs SET error_count = 15");
    try (LockedJob locked = classic.lockJob("").orElseThrow()) {
      UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class, locked::finish);
      assertTrue(u.getMessage().contains("finished_at"), u.getMessage());
      u = assertThrows(UnsupportedOperationException.class, locked::expire);
      assertTrue(u.getMessage().contains("expired_at"), u.getMessage());
      assertFalse(locked.isResolved(), "a refused outcome leaves the job open");
      locked.error("sixteenth failure");
    }
    assertEquals(Arrays.asList(16, "sixteenth failure"),
        Arrays.asList(s3.rows("SELECT error_count, last_error FROM que_jobs WHERE job_id = ?", job.id()).get(0)),
        "schema 3 never expires: Ruby 0.x and que-go retry forever");
  }

  // ---------------------------------------------------------------------------------------------
  // kwargs, tags and Que's limits

  @Test
  void kwargsAndTagsRoundTrip() throws SQLException {
    Map<String, Object> kwargs = Map.of("user_id", 7, "names", List.of("Zoë", "😀"));
    Job job = client.enqueue(NewJob.of("Kw", 1).kwargs(kwargs).tags("billing", "😀urgent"));
    assertEquals(true, one("SELECT kwargs = '{\"user_id\": 7, \"names\": [\"Zoë\", \"😀\"]}'::jsonb"
        + " AND data = '{\"tags\": [\"billing\", \"😀urgent\"]}'::jsonb FROM que_jobs WHERE id = ?", job.id()));
    assertEquals(List.of("billing", "😀urgent"), job.tags());
    assertEquals(7, job.kwargs().get("user_id").asInt());
    try (LockedJob locked = client.lockJob("default").orElseThrow()) {
      Job read = locked.job();
      assertEquals(List.of("billing", "😀urgent"), read.tags());
      assertEquals(JSON.valueToTree(kwargs), read.kwargs());
      assertEquals("[1]", read.argsJson());
      locked.delete();
    }

    List<Job> batch = client.enqueueAll(List.of(
        NewJob.of("Kw").kwargsJson("{\"a\": {\"b\": [1, 2.50]}}").tags("x"),
        NewJob.of("Kw")));
    assertEquals("{\"a\": {\"b\": [1, 2.50]}}", batch.get(0).kwargsJson().orElseThrow());
    assertEquals(List.of("x"), batch.get(0).tags());
    assertEquals("{}", batch.get(1).kwargsJson().orElseThrow());
    assertEquals(List.of(), batch.get(1).tags());
    assertEquals(Arrays.asList("{}", "{}", 2), Arrays.asList(rows(
        "SELECT data::text, kwargs::text, job_schema_version FROM que_jobs WHERE id = ?", batch.get(1).id()).get(0)));

    // A row Ruby Que 2.x enqueued with kwargs and tags reads the same way.
    long ruby = insertRaw("job_class, priority, args, kwargs, data",
        "'RubyKw', 1, '[1]', '{\"key\": \"v\"}', '{\"tags\": [\"t\"]}'");
    try (LockedJob locked = client.lockJob("default").orElseThrow()) {
      assertEquals(ruby, locked.job().id());
      assertEquals("v", locked.job().kwargs().get("key").asText());
      assertEquals(List.of("t"), locked.job().tags());
    }
  }

  @Test
  void kwargsAndTagsAreRefusedWhereTheSchemaHasNoColumnForThem() throws SQLException {
    Client classic = Client.create(s3.ds());
    rejects("kwargs:", () -> classic.enqueue(NewJob.of("X").kwargs(Map.of("a", 1))));
    rejects("tags:", () -> classic.enqueue(NewJob.of("X").tags("t")));
    rejects("jobs[1].tags:", () -> classic.enqueueAll(List.of(NewJob.of("X"), NewJob.of("X").tags("t"))));
    assertEquals(0, s3.count("SELECT count(*) FROM que_jobs"));

    for (TestSql db : List.of(s4, s5)) {
      Client c = Client.create(db.ds());
      rejects("kwargs:", () -> c.enqueue(NewJob.of("X").kwargs(Map.of("a", 1))));
      rejects("jobs[0].kwargs:", () -> c.enqueueAll(List.of(NewJob.of("X").kwargsJson("{}"))));
      assertEquals(0, db.count("SELECT count(*) FROM que_jobs"), "nothing written on schema " + c.schemaVersion());
      Job tagged = c.enqueue(NewJob.of("X").tags("t"));
      assertEquals(List.of("t"), tagged.tags(), "tags live in data from schema 4 on");
      assertTrue(tagged.kwargsJson().isEmpty());
    }
  }

  @Test
  void quesLimitsAreCheckedBeforeTheDatabaseAndMatchItsConstraints() throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      rejects("queue:", () -> client.enqueue(c, NewJob.of("X").queue("q".repeat(101))));
      rejects("queue:", () -> client.enqueue(c, NewJob.of("X").queue("😀".repeat(101))));
      rejects("jobClass:", () -> client.enqueue(c, NewJob.of("C".repeat(201))));
      rejects("jobClass:", () -> client.enqueue(c, NewJob.of("𝔉".repeat(201))));
      rejects("tags:", () -> NewJob.of("X").tags("1", "2", "3", "4", "5", "6"));
      rejects("tags[0]:", () -> NewJob.of("X").tags("t".repeat(99)));
      rejects("tags[1]:", () -> NewJob.of("X").tags("ok", "😀".repeat(99)));
      rejects("tags[0]:", () -> NewJob.of("X").tags("\"".repeat(49) + "x"));
      rejects("kwargs:", () -> NewJob.of("X").kwargsJson("[1]"));
      rejects("kwargs:", () -> NewJob.of("X").kwargsJson("\"text\""));
      rejects("kwargs:", () -> NewJob.of("X").kwargsJson("{\"a\": 1"));
      rejects("jobs[1].queue:", () -> client.enqueueAll(c, List.of(NewJob.of("X"), NewJob.of("X").queue("q".repeat(101)))));
      // Had any of these reached the server, its error would have aborted the transaction.
      Job inTx = client.enqueue(c, NewJob.of("StillUsable"));
      c.commit();
      assertEquals(List.of(inTx.id()), ids("SELECT id FROM que_jobs"));
    }

    // Exactly at the limits, the database takes them (counted in characters, as char_length does).
    List<String> fiveTags = List.of("t".repeat(98), "😀".repeat(98), "a", "b", "c");
    Job atLimits = client.enqueue(NewJob.of("C".repeat(200)).queue("😀".repeat(100)).tags(fiveTags.toArray(new String[0])));
    assertEquals(Arrays.asList(200, 100, 5), Arrays.asList(rows("SELECT char_length(job_class), char_length(queue),"
        + " jsonb_array_length(data->'tags') FROM que_jobs WHERE id = ?", atLimits.id()).get(0)));
    assertEquals(fiveTags, atLimits.tags());
    client.enqueue(NewJob.of("𝔉".repeat(200)).queue("q".repeat(100)));

    // One past them, the database refuses too: our limits are the constraints', not stricter.
    violates("queue_length", "queue, job_class", "repeat('q', 101), 'X'");
    violates("job_class_length", "job_class", "repeat('C', 201)");
    violates("valid_data", "job_class, data", "'X', jsonb_build_object('tags', jsonb_build_array(repeat('t', 99)))");
    violates("valid_data", "job_class, data", "'X', '{\"tags\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"]}'");
  }

  // ---------------------------------------------------------------------------------------------
  // Job schema versions

  @Test
  void onlyJobsOfTheClientsJobSchemaVersionAreLocked() throws SQLException {
    assertEquals(java.util.OptionalInt.of(2), client.jobSchemaVersion());
    long v1 = insertRaw("job_class, priority, job_schema_version", "'Old', 1, 1");
    Job v2 = client.enqueue(NewJob.of("New").priority(2));
    assertEquals(2, one("SELECT job_schema_version FROM que_jobs WHERE id = ?", v2.id()));
    try (LockedJob locked = client.lockJob("default").orElseThrow()) {
      assertEquals(v2.id(), locked.job().id(), "the version-1 job, first in order, is passed over");
      assertTrue(client.lockJob("default").isEmpty(), "and never locked");
      assertEquals(0, advisoryLocksOn(List.of(v1)));
      locked.delete();
    }
    Worker worker = new Worker(client, WorkMap.of("Old", j -> { }));
    try {
      assertFalse(worker.workOne(), "a Que 2.x worker leaves version-1 jobs to Que 1.x (issue #429)");
    } finally {
      worker.shutdown();
    }

    Client v1Client = Client.builder(ds).jobSchemaVersion(1).build();
    assertEquals(java.util.OptionalInt.of(1), v1Client.jobSchemaVersion());
    try (LockedJob locked = v1Client.lockJob("default").orElseThrow()) {
      assertEquals(v1, locked.job().id(), "a client built with jobSchemaVersion(1) takes it");
      assertEquals(java.util.OptionalInt.of(1), locked.job().jobSchemaVersion());
      assertTrue(v1Client.lockJob("default").isEmpty(), "and not the version-2 job");
      locked.delete();
    }
    Job written = v1Client.enqueue("Mixed");
    assertEquals(1, one("SELECT job_schema_version FROM que_jobs WHERE id = ?", written.id()),
        "it writes version 1 too, for Que 1.3/1.4 workers during an upgrade");
    assertThrows(IllegalArgumentException.class, () -> Client.builder(ds).jobSchemaVersion(3));
  }

  @Test
  void schema5AlwaysSpeaksJobSchemaVersion1() throws SQLException {
    Client five = Client.builder(s5.ds()).jobSchemaVersion(2).build();
    assertEquals(5, five.schemaVersion());
    assertEquals(java.util.OptionalInt.of(1), five.jobSchemaVersion(), "schema 5 (Que 1.3/1.4) only knows version 1");
    // Que 1.3's insert_job, options left to their defaults.
    long ruby = s5.count("INSERT INTO que_jobs (queue, priority, run_at, job_class, args, data, job_schema_version) VALUES"
        + " (coalesce(NULL, 'default')::text, coalesce(NULL, 100)::smallint, coalesce(NULL, now())::timestamptz,"
        + " 'FromRuby13'::text, coalesce('[1]', '[]')::jsonb, coalesce(NULL, '{}')::jsonb, 1) RETURNING id");
    long other = s5.count("INSERT INTO que_jobs (job_class, priority, job_schema_version) VALUES ('Future', 1, 2) RETURNING id");
    Job java = five.enqueue("FromJava");
    assertEquals(1, s5.one("SELECT job_schema_version FROM que_jobs WHERE id = ?", java.id()));
    List<Long> seen = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      try (LockedJob locked = five.lockJob("default").orElseThrow()) {
        seen.add(locked.job().id());
        locked.finish();
      }
    }
    assertEquals(List.of(ruby, java.id()), seen);
    assertTrue(five.lockJob("default").isEmpty(), "a job of another version is left alone");
    assertEquals(1, s5.count("SELECT count(*) FROM que_jobs WHERE id = ? AND finished_at IS NULL", other));
    assertEquals(2, s5.count("SELECT count(*) FROM que_jobs WHERE finished_at IS NOT NULL"), "finish works on 5");
    List<Job> batch = five.enqueueAll(List.of(NewJob.of("B1").tags("t"), NewJob.of("B2")));
    assertEquals(Arrays.asList(1, "{\"tags\": [\"t\"]}", 1, "{}"), Arrays.asList(s5.rows(
        "SELECT a.job_schema_version, a.data::text, b.job_schema_version, b.data::text FROM que_jobs a, que_jobs b"
            + " WHERE a.id = ? AND b.id = ?", batch.get(0).id(), batch.get(1).id()).get(0)),
        "enqueueAll on 5 writes version 1 and the tags");
  }

  @Test
  void schema6WritesTheJobSchemaVersionItHasNoDefaultFor() throws SQLException {
    SQLException e = assertThrows(SQLException.class,
        () -> s6.exec("INSERT INTO que_jobs (job_class) VALUES ('NoVersion')"));
    assertEquals("23502", e.getSQLState(), "schema 6 has no default for job_schema_version");
    Client six = Client.create(s6.ds());
    Client sixOne = Client.builder(s6.ds()).jobSchemaVersion(1).build();
    Job two = six.enqueue(NewJob.of("Two").kwargs(Map.of("k", 1)));
    Job first = sixOne.enqueue(NewJob.of("One").priority(1));
    assertEquals(Arrays.asList(2, "{\"k\": 1}"), Arrays.asList(
        s6.rows("SELECT job_schema_version, kwargs::text FROM que_jobs WHERE id = ?", two.id()).get(0)));
    assertEquals(1, s6.one("SELECT job_schema_version FROM que_jobs WHERE id = ?", first.id()));
    try (LockedJob locked = six.lockJob("default").orElseThrow()) {
      assertEquals(two.id(), locked.job().id());
      assertEquals("{\"k\": 1}", locked.job().kwargsJson().orElseThrow());
      locked.delete();
    }
    try (LockedJob locked = sixOne.lockJob("default").orElseThrow()) {
      assertEquals(first.id(), locked.job().id());
      locked.delete();
    }
    assertEquals(0, s6.count("SELECT count(*) FROM que_jobs"));
  }

  @Test
  void schema4HasNoJobSchemaVersion() throws SQLException {
    Client four = Client.create(s4.ds());
    assertTrue(four.jobSchemaVersion().isEmpty());
    assertEquals("default", four.defaultQueue());
    Job job = four.enqueue(NewJob.of("Four", Map.of("a", 1)));
    assertTrue(job.jobSchemaVersion().isEmpty());
    try (LockedJob locked = four.lockJob("default").orElseThrow()) {
      assertEquals(job.id(), locked.job().id());
      assertEquals("[{\"a\": 1}]", locked.job().argsJson());
      locked.expire();
    }
    assertEquals(Arrays.asList(1, true), Arrays.asList(
        s4.rows("SELECT error_count, expired_at IS NOT NULL FROM que_jobs WHERE id = ?", job.id()).get(0)));
    assertTrue(four.lockJob("default").isEmpty());
    List<Job> batch = four.enqueueAll(List.of(NewJob.of("B1").tags("t"), NewJob.of("B2", 2)));
    assertEquals(Arrays.asList("B1", "{\"tags\": [\"t\"]}", "B2", "[2]"), Arrays.asList(s4.rows(
        "SELECT a.job_class, a.data::text, b.job_class, b.args::text FROM que_jobs a, que_jobs b"
            + " WHERE a.id = ? AND b.id = ?", batch.get(0).id(), batch.get(1).id()).get(0)));
  }

  // ---------------------------------------------------------------------------------------------
  // The re-check (stricter than Ruby's, which only looks at finished_at and expired_at)

  @Test
  void recheckRejectsAJobWhoseErrorCountChangedAndLeavesNoLock() throws SQLException {
    Job job = client.enqueue("Raced");
    Client threeTries = Client.builder(ds).maxLockAttempts(3).build();
    AtomicInteger walks = new AtomicInteger();
    // Another worker failed the job and released it between our walk and our re-check; its new
    // run_at is still due (a retry policy of zero), so only error_count tells the two apart.
    threeTries.beforeRecheck = bump(walks, "error_count = error_count + 1");
    try (Session s = new Session(ds.getConnection())) {
      assertNull(threeTries.locker().lock(s, "default", RetryPolicy.DEFAULT, 15, false), "every attempt lost its race");
      assertEquals(3, walks.get());
      assertEquals(0, locksHeldBy(s.backendPid(), job.id()), "each lost race was unlocked on the session");
    }

    walks.set(0);
    threeTries.beforeRecheck = j -> {
      if (walks.incrementAndGet() == 1) {
        sql("UPDATE que_jobs SET error_count = error_count + 1 WHERE id = " + j.id());
      }
    };
    try (Session s = new Session(ds.getConnection())) {
      LockedJob locked = threeTries.locker().lock(s, "default", RetryPolicy.DEFAULT, 15, false);
      assertNotNull(locked);
      assertEquals(2, walks.get(), "the stale row was refused; the second walk read it afresh");
      assertEquals(4, locked.job().errorCount(), "the job handed over is the row as it is now");
      locked.delete();
      locked.release();
      assertEquals(0, locksHeldBy(s.backendPid(), job.id()),
          "one unlock frees it: the lost race's lock was not left counted on the session");
    }
  }

  @Test
  void recheckRejectsAJobWhoseRunAtMovedIntoTheFutureAndLeavesNoLock() throws SQLException {
    Job job = client.enqueue("Raced");
    AtomicInteger walks = new AtomicInteger();
    // error_count unchanged: only run_at says the job is in its backoff now. Ruby's re-check would
    // run it early (§3.3's weak spot); ours must not.
    client.beforeRecheck = bump(walks, "run_at = now() + interval '1 hour'");
    try (Session s = new Session(ds.getConnection())) {
      assertNull(client.locker().lock(s, "default", RetryPolicy.DEFAULT, 15, false), "not run before its run_at");
      assertEquals(1, walks.get(), "the next walk no longer sees it");
      assertEquals(0, locksHeldBy(s.backendPid(), job.id()));
    }
    assertEquals(0, one("SELECT error_count FROM que_jobs WHERE id = ?", job.id()));
  }

  @Test
  void recheckRejectsAJobFinishedOrExpiredMeanwhile() throws SQLException {
    Job finished = client.enqueue(NewJob.of("Raced").priority(1));
    Job expired = client.enqueue(NewJob.of("Raced").priority(2));
    Job next = client.enqueue(NewJob.of("Next").priority(3));
    client.beforeRecheck = j -> {
      if (j.id() == finished.id()) {
        sql("UPDATE que_jobs SET finished_at = now() WHERE id = " + j.id());
      } else if (j.id() == expired.id()) {
        sql("UPDATE que_jobs SET expired_at = now() WHERE id = " + j.id());
      }
    };
    try (LockedJob locked = client.lockJob("default").orElseThrow()) {
      assertEquals(next.id(), locked.job().id());
      int pid = locked.context().backendPid();
      assertEquals(0, locksHeldBy(pid, finished.id()));
      assertEquals(0, locksHeldBy(pid, expired.id()));
    }
  }

  @Test
  void theBatchRecheckRejectsTheSameChanges() throws SQLException {
    Job errored = client.enqueue(NewJob.of("Raced").priority(1));
    Job postponed = client.enqueue(NewJob.of("Raced").priority(2));
    Job finished = client.enqueue(NewJob.of("Raced").priority(3));
    Job untouched = client.enqueue(NewJob.of("Calm").priority(4));
    AtomicInteger hooks = new AtomicInteger();
    client.beforeRecheck = j -> {
      hooks.incrementAndGet();
      if (j.id() == errored.id()) {
        sql("UPDATE que_jobs SET error_count = error_count + 1 WHERE id = " + j.id());
      } else if (j.id() == postponed.id()) {
        sql("UPDATE que_jobs SET run_at = now() + interval '1 hour' WHERE id = " + j.id());
      } else if (j.id() == finished.id()) {
        sql("UPDATE que_jobs SET finished_at = now() WHERE id = " + j.id());
      }
    };
    try (Session s = new Session(ds.getConnection())) {
      List<LockedJob> batch = client.locker().lockBatch(s, "default", 4, RetryPolicy.DEFAULT, 15, false);
      assertEquals(4, hooks.get(), "one walk locked all four");
      assertEquals(List.of(untouched.id()), batch.stream().map(l -> l.job().id()).toList(),
          "only the job unchanged since the walk is handed over");
      assertEquals(List.of(0L, 0L, 0L, 1L), List.of(locksHeldBy(s.backendPid(), errored.id()),
          locksHeldBy(s.backendPid(), postponed.id()), locksHeldBy(s.backendPid(), finished.id()),
          locksHeldBy(s.backendPid(), untouched.id())), "the three lost races were unlocked at once");
      batch.get(0).release();

      client.beforeRecheck = null;
      batch = client.locker().lockBatch(s, "default", 4, RetryPolicy.DEFAULT, 15, false);
      assertEquals(List.of(errored.id(), untouched.id()), batch.stream().map(l -> l.job().id()).toList());
      assertEquals(1, batch.get(0).job().errorCount(), "read afresh");
      batch.forEach(LockedJob::release);
      assertEquals(0, advisoryLocksOn(List.of(errored.id(), postponed.id(), finished.id(), untouched.id())));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Notifications (schema 7: que.skip_notify)

  @Test
  void enqueueAllSendsNoNotificationsAndRestoresSkipNotify() throws Exception {
    try (Connection listener = ds.getConnection()) {
      int pid = backendPid(listener);
      // A listening Que locker, as a Ruby 2.x process registers it (§3.3), so que_job_notify has
      // someone to tell about each ready job.
      exec("INSERT INTO que_lockers (pid, worker_count, worker_priorities, ruby_pid, ruby_hostname, queues, listening,"
          + " job_schema_version) VALUES (?, 1, '{NULL}', 1, 'test', '{default}', true, 2)", pid);
      try (Statement st = listener.createStatement()) {
        st.execute("LISTEN que_listener_" + pid);
        st.execute("LISTEN que_state");
      }
      try {
        List<Job> batch = client.enqueueAll(List.of(NewJob.of("Bulk", 1), NewJob.of("Bulk", 2)));
        Job single = client.enqueue("Single");
        Notifications seen = awaitJobAvailable(listener, pid, single.id());
        assertEquals(List.of(single.id()), seen.jobAvailable, "job_available for the single enqueue only");
        assertEquals(List.of(single.id()), seen.jobChange, "job_change (que_state) for the single enqueue only");
        JsonNode payload = seen.payloads.get(0);
        assertEquals(new java.util.TreeSet<>(List.of("message_type", "queue", "priority", "id", "run_at")),
            new java.util.TreeSet<>(fieldNames(payload)), "the five keys a Ruby locker accepts (§3.3)");
        assertEquals(2, batch.size());

        // Inside the caller's transaction: the setting is back as it was after enqueueAll, so the
        // caller's later inserts in the same transaction notify as usual.
        List<Job> inTx;
        Job after;
        try (Connection c = ds.getConnection()) {
          c.setAutoCommit(false);
          String before = skipNotify(c);
          inTx = client.enqueueAll(c, List.of(NewJob.of("Bulk", 3)));
          assertEquals(before == null ? "" : before, orEmpty(skipNotify(c)), "que.skip_notify restored");
          after = client.enqueue(c, NewJob.of("AfterBulk"));
          c.commit();
        }
        seen = awaitJobAvailable(listener, pid, after.id());
        assertEquals(List.of(after.id()), seen.jobAvailable);
        assertEquals(List.of(after.id()), seen.jobChange);
        assertFalse(seen.jobAvailable.contains(inTx.get(0).id()));

        // A caller that set skip_notify itself keeps it.
        try (Connection c = ds.getConnection()) {
          c.setAutoCommit(false);
          try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL que.skip_notify TO true");
          }
          client.enqueueAll(c, List.of(NewJob.of("Bulk", 4)));
          assertEquals("true", skipNotify(c));
          c.rollback();
        }
      } finally {
        exec("DELETE FROM que_lockers WHERE pid = ?", pid);
      }
    }
  }

  /**
   * Schema 7: que-java's own outcome statements (the delete after success, error, retryIn, finish,
   * expire) send nothing on que_state, while a delete by anyone else (a Ruby worker, psql) still
   * does. NOTIFYs are delivered in commit order, so once the other delete's message has arrived,
   * any message of ours would have arrived before it.
   */
  @Test
  void ourOutcomesSendNothingOnQueStateWhileOtherDeletesStillDo() throws Exception {
    try (Connection listener = ds.getConnection()) {
      try (Statement st = listener.createStatement()) {
        st.execute("LISTEN que_state");
      }
      Job ok = client.enqueue(NewJob.of("Ok").priority(1));
      Job fails = client.enqueue(NewJob.of("Fails").priority(2));
      Job finished = client.enqueue(NewJob.of("Finishes").priority(3));
      Job expired = client.enqueue(NewJob.of("Expires").priority(4));
      Job retried = client.enqueue(NewJob.of("Retries").priority(5));
      long byOthers = insertAsRuby("ByOthers", "[]");
      Worker worker = new Worker(client, WorkMap.builder()
          .put("Ok", j -> { })
          .put("Fails", j -> {
            throw new IllegalStateException("boom");
          })
          .put("Finishes", RunningJob::finish)
          .put("Expires", RunningJob::expire)
          .put("Retries", j -> j.retryIn(Duration.ofHours(1)))
          .build());
      try {
        for (int i = 0; i < 5; i++) {
          assertTrue(worker.workOne(), "job " + i);
        }
      } finally {
        worker.shutdown();
      }
      exec("DELETE FROM que_jobs WHERE id = ?", byOthers);

      List<String> changes = stateChanges(listener, byOthers);
      List<Long> ours = List.of(ok.id(), fails.id(), finished.id(), expired.id(), retried.id());
      for (Long id : ours) {
        assertEquals(List.of(id + " nonexistent>ready"), only(changes, id), "que_state for job " + id + ": only its insert");
      }
      assertEquals(List.of(byOthers + " nonexistent>ready", byOthers + " ready>nonexistent"), only(changes, byOthers));
      // ... and each outcome was written.
      assertEquals(List.of(ok.id()), ours.stream().filter(id -> uncheckedCount("SELECT count(*) FROM que_jobs WHERE id = ?", id) == 0).toList());
      assertEquals(1L, count("SELECT error_count FROM que_jobs WHERE id = ?", fails.id()));
      assertEquals(1L, count("SELECT count(*) FROM que_jobs WHERE id = ? AND finished_at IS NOT NULL", finished.id()));
      assertEquals(1L, count("SELECT count(*) FROM que_jobs WHERE id = ? AND expired_at IS NOT NULL", expired.id()));
      assertEquals(1L, count("SELECT count(*) FROM que_jobs WHERE id = ? AND run_at > now() + interval '50 minutes'", retried.id()));
    }
  }

  /**
   * A handler that deletes its job inside its own transaction: the delete sends nothing on
   * que_state, and the setting is back as it was right after it, so an enqueue later in the same
   * transaction still tells a listening Ruby locker (que_job_notify) and que_state.
   */
  @Test
  void insideTheCallersTransactionTheSkipSettingLastsOneStatement() throws Exception {
    try (Connection listener = ds.getConnection()) {
      int pid = backendPid(listener);
      exec("INSERT INTO que_lockers (pid, worker_count, worker_priorities, ruby_pid, ruby_hostname, queues, listening,"
          + " job_schema_version) VALUES (?, 1, '{NULL}', 1, 'test', '{default}', true, 2)", pid);
      try (Statement st = listener.createStatement()) {
        st.execute("LISTEN que_listener_" + pid);
        st.execute("LISTEN que_state");
      }
      try {
        Job first = client.enqueue("InTx");
        Job after;
        try (LockedJob locked = client.lockJob("default").orElseThrow()) {
          assertEquals(first.id(), locked.job().id());
          Connection c = locked.connection();
          c.setAutoCommit(false);
          String before = skipNotify(c);
          locked.delete();
          assertEquals(orEmpty(before), orEmpty(skipNotify(c)), "que.skip_notify restored after the delete");
          after = client.enqueue(c, NewJob.of("AfterDelete"));
          c.commit();
          c.setAutoCommit(true);
        }
        assertEquals(0, count("SELECT count(*) FROM que_jobs WHERE id = ?", first.id()));
        Notifications seen = awaitJobAvailable(listener, pid, after.id());
        assertTrue(seen.jobAvailable.contains(after.id()), "the enqueue after the delete told the Ruby locker");
        assertEquals(List.of(first.id(), after.id()), seen.jobChange,
            "que_state: the two inserts, not the delete in between");

        // A caller that set que.skip_notify itself keeps it after our statement.
        exec("DELETE FROM que_jobs WHERE id = ?", after.id());
        Job second = client.enqueue("InTx");
        try (LockedJob locked = client.lockJob("default").orElseThrow()) {
          assertEquals(second.id(), locked.job().id());
          Connection c = locked.connection();
          c.setAutoCommit(false);
          try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL que.skip_notify TO true");
          }
          locked.error("failed in a transaction");
          assertEquals("true", skipNotify(c));
          c.commit();
          c.setAutoCommit(true);
        }
        assertEquals(1L, count("SELECT error_count FROM que_jobs WHERE id = ?", second.id()));
      } finally {
        exec("DELETE FROM que_lockers WHERE pid = ?", pid);
      }
    }
  }

  /** Client.Builder.stateNotifications(true): our outcomes fire que_state_notify as before. */
  @Test
  void stateNotificationsCanBeKept() throws Exception {
    Client loud = Client.builder(ds).stateNotifications(true).build();
    try (Connection listener = ds.getConnection()) {
      try (Statement st = listener.createStatement()) {
        st.execute("LISTEN que_state");
      }
      Job job = loud.enqueue("Loud");
      try (LockedJob locked = loud.lockJob("default").orElseThrow()) {
        locked.delete();
      }
      assertEquals(List.of(job.id() + " nonexistent>ready", job.id() + " ready>nonexistent"),
          only(stateChanges(listener, job.id()), job.id()));
    }
  }

  /**
   * que_state's job_change messages as "id previous>current", until the delete of {@code marker}
   * (its change to nonexistent) arrived; 30 s at most.
   */
  private static List<String> stateChanges(Connection listener, long marker) throws Exception {
    PGConnection pg = listener.unwrap(PGConnection.class);
    List<String> seen = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String end = marker + " ready>nonexistent";
    while (!seen.contains(end)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("the delete of job " + marker + " sent nothing on que_state within 30 s; got " + seen);
      }
      PGNotification[] batch = pg.getNotifications((int) Math.max(1, Duration.ofNanos(left).toMillis()));
      if (batch == null) {
        continue;
      }
      for (PGNotification n : batch) {
        if (n.getName().equals("que_state")) {
          JsonNode p = JSON.readTree(n.getParameter());
          seen.add(p.get("id").asLong() + " " + p.get("previous_state").asText() + ">" + p.get("current_state").asText());
        }
      }
    }
    return seen;
  }

  private static List<String> only(List<String> changes, long id) {
    return changes.stream().filter(c -> c.startsWith(id + " ")).toList();
  }

  private long uncheckedCount(String sql, Object... params) {
    try {
      return count(sql, params);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Detecting the schema version

  @Test
  void aLostCommentIsRefusedUnlessTheVersionIsAssumed() throws SQLException {
    TestSql lost = new TestSql(schemaAt(7, "modern_lost"));
    lost.exec("COMMENT ON TABLE que_jobs IS NULL");
    QueException e = assertThrows(QueException.class, () -> Client.create(lost.ds()));
    assertTrue(e.getMessage().contains("no schema-version comment"), e.getMessage());
    assertTrue(e.getMessage().contains("COMMENT ON TABLE"), "it says how to fix it: " + e.getMessage());

    Client assumed = Client.builder(lost.ds()).assumeSchemaVersion(7).build();
    assertEquals(7, assumed.schemaVersion());
    Job job = assumed.enqueue("Works");
    try (LockedJob locked = assumed.lockJob("default").orElseThrow()) {
      assertEquals(job.id(), locked.job().id());
      locked.delete();
    }
    QueException wrong = assertThrows(QueException.class,
        () -> Client.builder(lost.ds()).assumeSchemaVersion(3).build());
    assertTrue(wrong.getMessage().contains("do not match"), "an assumed version is still checked against the columns: "
        + wrong.getMessage());
  }

  @Test
  void aModernCommentOnClassicColumnsIsRefusedAsInconsistent() throws SQLException {
    TestSql liar = new TestSql(schemaAt(3, "modern_liar"));
    liar.exec("COMMENT ON TABLE que_jobs IS '7'");
    QueException e = assertThrows(QueException.class, () -> Client.create(liar.ds()));
    assertTrue(e.getMessage().contains("says schema version 7"), e.getMessage());
    assertTrue(e.getMessage().contains("look like schema 3"), e.getMessage());
    assertThrows(QueException.class, () -> Client.builder(liar.ds()).assumeSchemaVersion(7).build());
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers


  /** What a listener received, up to and including the marker job's job_available. */
  private record Notifications(List<Long> jobAvailable, List<Long> jobChange, List<JsonNode> payloads) {}

  /**
   * Collects notifications until both of {@code marker}'s have arrived (job_available and
   * que_state's job_change). NOTIFYs are delivered in commit order, so whatever an earlier
   * transaction sent has arrived by then: no sleep is needed to show that something was not sent.
   */
  private static Notifications awaitJobAvailable(Connection listener, int pid, long marker) throws Exception {
    PGConnection pg = listener.unwrap(PGConnection.class);
    Notifications seen = new Notifications(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!seen.jobAvailable.contains(marker) || !seen.jobChange.contains(marker)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("the notifications of job " + marker + " did not arrive within 30 s; got " + seen);
      }
      PGNotification[] batch = pg.getNotifications((int) Math.max(1, Duration.ofNanos(left).toMillis()));
      if (batch == null) {
        continue;
      }
      for (PGNotification n : batch) {
        JsonNode payload = JSON.readTree(n.getParameter());
        if (n.getName().equals("que_listener_" + pid)) {
          assertEquals("job_available", payload.get("message_type").asText());
          seen.jobAvailable.add(payload.get("id").asLong());
          seen.payloads.add(payload);
        } else if (n.getName().equals("que_state")) {
          assertEquals("job_change", payload.get("message_type").asText());
          seen.jobChange.add(payload.get("id").asLong());
        }
      }
    }
    return seen;
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static String skipNotify(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT current_setting('que.skip_notify', true)")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  /** A beforeRecheck hook that counts walks and applies {@code set} to the job each time. */
  private Consumer<Job> bump(AtomicInteger walks, String set) {
    return j -> {
      walks.incrementAndGet();
      sql("UPDATE que_jobs SET " + set + " WHERE id = " + j.id());
    };
  }

  private void sql(String statement) {
    try {
      exec(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An insert the database must refuse with this CHECK constraint. */
  private void violates(String constraint, String columns, String values) {
    SQLException e = assertThrows(SQLException.class, () -> insertRaw(columns, values));
    assertEquals("23514", e.getSQLState(), e.getMessage());
    assertTrue(e.getMessage().contains(constraint), e.getMessage());
  }

  private Timestamp clock() throws SQLException {
    return (Timestamp) one("SELECT clock_timestamp()");
  }

  private List<Long> ids(String sql) throws SQLException {
    List<Long> out = new ArrayList<>();
    for (Object[] r : rows(sql)) {
      out.add(((Number) r[0]).longValue());
    }
    return out;
  }

  /** The first {@code max} code points of {@code s}. */
  private static String cut(String s, int max) {
    return s.codePointCount(0, s.length()) <= max ? s : s.substring(0, s.offsetByCodePoints(0, max));
  }

  private static void rejects(String prefix, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(prefix), "message names the field (" + prefix + "): " + e.getMessage());
  }
}
