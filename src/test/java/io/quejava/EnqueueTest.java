package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

class EnqueueTest extends PgTest {

  @Test
  void defaultsAreRubysQueuePriorityAndTheDatabaseClock() throws SQLException {
    Instant before = ((java.sql.Timestamp) one("SELECT now()")).toInstant();
    Job job = client.enqueue("SendEmail");
    Instant after = ((java.sql.Timestamp) one("SELECT now()")).toInstant();

    assertTrue(job.id() > 0);
    assertEquals(defaultQueue(), job.queue());
    assertEquals(100, job.priority());
    assertEquals("[]", job.argsJson());
    assertEquals(0, job.errorCount());
    assertTrue(job.lastError().isEmpty());
    assertFalse(job.runAt().isBefore(before));
    assertFalse(job.runAt().isAfter(after));

    Object[] row = rows("SELECT queue, priority, args::text, job_class, error_count, " + lastErrorColumn()
        + ", run_at FROM que_jobs WHERE " + idColumn() + " = ?", job.id()).get(0);
    assertEquals(Arrays.asList(defaultQueue(), 100, "[]", "SendEmail", 0, null), Arrays.asList(row).subList(0, 6));
    assertEquals(job.runAt(), ((java.sql.Timestamp) row[6]).toInstant());
    if (modern()) {
      // What Que 1.x/2.x writes for a job without options: no tags, no kwargs, the job schema version.
      assertEquals("{}", one("SELECT data::text FROM que_jobs WHERE id = ?", job.id()));
      assertEquals(List.of(), job.tags());
      assertEquals(Arrays.asList(null, null, null), Arrays.asList(
          rows("SELECT last_error_backtrace, finished_at, expired_at FROM que_jobs WHERE id = ?", job.id()).get(0)));
      if (schemaVersion() >= 6) {
        assertEquals("{}", one("SELECT kwargs::text FROM que_jobs WHERE id = ?", job.id()));
        assertEquals(java.util.Optional.of("{}"), job.kwargsJson());
      }
      if (schemaVersion() >= 5) {
        Integer expected = schemaVersion() == 5 ? 1 : 2;
        assertEquals(expected, one("SELECT job_schema_version FROM que_jobs WHERE id = ?", job.id()));
        assertEquals(java.util.OptionalInt.of(expected), job.jobSchemaVersion());
      }
    } else {
      assertTrue(job.kwargsJson().isEmpty());
      assertTrue(job.dataJson().isEmpty());
      assertTrue(job.jobSchemaVersion().isEmpty());
    }
  }

  @Test
  void optionsAndArgsAreStoredExactly() throws SQLException {
    Instant runAt = Instant.parse("2031-02-03T04:05:06.123456Z");
    Map<String, Object> obj = new LinkedHashMap<>();
    obj.put("b", List.of(1, 2));
    obj.put("a", null);
    Job job = client.enqueue(NewJob.of("Billing::Charge", 1, "é漢😀", obj,
            new BigInteger("123456789012345678901234567890"), new BigDecimal("1.10"), null)
        .queue("billing").priority(0).runAt(runAt));

    assertEquals(0, job.priority(), "priority 0 is allowed (que-go cannot enqueue it)");
    assertEquals("billing", job.queue());
    assertEquals(runAt, job.runAt(), "run_at keeps microseconds");
    String written = "[1,\"é漢😀\",{\"b\":[1,2],\"a\":null},123456789012345678901234567890,1.10,null]";
    if (modern()) {
      // jsonb keeps values, numbers digit for digit (1.10 stays 1.10), but not spacing or key order.
      assertEquals(true, one("SELECT args = ?::jsonb FROM que_jobs WHERE id = ?", written, job.id()));
      assertEquals("[1, \"é漢😀\", {\"a\": null, \"b\": [1, 2]}, 123456789012345678901234567890, 1.10, null]",
          one("SELECT args::text FROM que_jobs WHERE id = ?", job.id()));
    } else {
      assertEquals(written, one("SELECT args::text FROM que_jobs WHERE job_id = ?", job.id()));
    }
    assertEquals(new BigInteger("123456789012345678901234567890"), job.args().get(3).bigIntegerValue());
    assertEquals(new BigDecimal("1.10"), job.args().get(4).decimalValue());

    String raw = "[ 1,  {\"z\": 1, \"a\": 2} ]";
    Job verbatim = client.enqueue(NewJob.ofJson("Raw", raw).priority(-32768));
    if (modern()) {
      assertEquals("[1, {\"a\": 2, \"z\": 1}]", one("SELECT args::text FROM que_jobs WHERE id = ?", verbatim.id()),
          "a jsonb column normalises spacing and key order");
      assertEquals(raw, verbatim.argsJson(), "the Job enqueue returns holds the text that was sent");
    } else {
      assertEquals(raw, one("SELECT args::text FROM que_jobs WHERE job_id = ?", verbatim.id()),
          "a json column keeps spacing and key order");
    }
    assertEquals(-32768, verbatim.priority());
  }

  @Test
  void enqueueInTheCallersTransactionCommitsAndRollsBackWithIt() throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      Job job = client.enqueue(c, NewJob.of("InTx", 1));
      assertEquals(TransactionState.OPEN, c.unwrap(BaseConnection.class).getTransactionState(),
          "the library left the caller's transaction open");
      assertEquals(0, count("SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ?", job.id()), "invisible before commit");
      c.commit();
      assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ?", job.id()));

      Job gone = client.enqueue(c, NewJob.of("InTx", 2));
      List<Job> alsoGone = client.enqueueAll(c, List.of(NewJob.of("InTx", 3), NewJob.of("InTx", 4)));
      c.rollback();
      assertEquals(0, count("SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ANY(?)",
          (Object) new Long[] {gone.id(), alsoGone.get(0).id(), alsoGone.get(1).id()}));
    }
    assertEquals(1, jobCount());
  }

  @Test
  void enqueueAllIsOneStatementInInputOrder() throws SQLException {
    List<NewJob> batch = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      NewJob j = NewJob.of("Batch" + i, i).priority(i % 7);
      if (i % 3 == 0) {
        j = j.queue("q" + (i % 2));
      }
      if (i % 5 == 0) {
        j = j.runAt(Instant.parse("2030-01-01T00:00:00.000001Z").plusSeconds(i));
      }
      batch.add(j);
    }
    List<Job> jobs = client.enqueueAll(batch);
    assertEquals(1000, jobs.size());
    for (int i = 0; i < 1000; i++) {
      Job j = jobs.get(i);
      assertEquals("Batch" + i, j.jobClass());
      assertEquals("[" + i + "]", j.argsJson());
      assertEquals(i % 7, j.priority());
      assertEquals(i % 3 == 0 ? "q" + (i % 2) : defaultQueue(), j.queue());
      if (i % 5 == 0) {
        assertEquals(Instant.parse("2030-01-01T00:00:00.000001Z").plusSeconds(i), j.runAt());
      }
      if (i > 0) {
        assertTrue(j.id() > jobs.get(i - 1).id());
      }
    }
    assertEquals(1000, jobCount());
    // The returned jobs carry the ids the database gave each input, in input order.
    java.util.Map<Long, List<Object>> stored = new java.util.HashMap<>();
    for (Object[] r : rows("SELECT " + idColumn() + ", job_class, args::text, priority, queue, run_at FROM que_jobs")) {
      stored.put(((Number) r[0]).longValue(), Arrays.asList(r[1], r[2], r[3], r[4], ((java.sql.Timestamp) r[5]).toInstant()));
    }
    for (int i = 0; i < 1000; i++) {
      Job j = jobs.get(i);
      assertEquals(Arrays.asList("Batch" + i, "[" + i + "]", i % 7, j.queue(), j.runAt()), stored.get(j.id()),
          "the row with the id of jobs[" + i + "]");
    }
    assertEquals(List.of(), client.enqueueAll(List.of()));
  }

  /**
   * Batches from 128 jobs on (Inserts.COPY_MIN_JOBS) are written by COPY, smaller ones by the
   * multi-row INSERT: the same checks on both sides of the threshold.
   */
  @Test
  void enqueueAllOnBothSidesOfTheCopyThresholdTiesEachIdToItsJob() throws SQLException {
    for (int size : new int[] {127, 128, 300}) {
      exec("TRUNCATE que_jobs");
      List<NewJob> batch = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        batch.add(NewJob.of("Sized" + i, i).priority(i % 5));
      }
      Instant before = ((java.sql.Timestamp) one("SELECT now()")).toInstant();
      List<Job> jobs = client.enqueueAll(batch);
      Instant after = ((java.sql.Timestamp) one("SELECT now()")).toInstant();
      assertEquals(size, jobs.size());
      assertEquals(size, jobCount());
      for (int i = 0; i < size; i++) {
        Job j = jobs.get(i);
        Object[] r = rows("SELECT job_class, args::text, priority, run_at FROM que_jobs WHERE " + idColumn() + " = ?",
            j.id()).get(0);
        assertEquals(Arrays.asList("Sized" + i, "[" + i + "]", i % 5), Arrays.asList(r).subList(0, 3), "size " + size + ", jobs[" + i + "]");
        // No run_at given: the database's now(), and the returned job says which.
        assertEquals(((java.sql.Timestamp) r[3]).toInstant(), j.runAt(), "size " + size + ", jobs[" + i + "]");
        assertFalse(j.runAt().isBefore(before) || j.runAt().isAfter(after), j.runAt() + " between " + before + " and " + after);
      }
    }
  }

  /**
   * When the ids drawn for a COPY are not one unbroken run (here: a sequence that steps by 3, as
   * when other sessions draw from it at the same time), every id is read back and each job still
   * gets its own.
   */
  @Test
  void enqueueAllByCopyWithIdsThatAreNotOneRun() throws SQLException {
    String seq = "pg_get_serial_sequence('que_jobs', '" + idColumn() + "')";
    String name = (String) one("SELECT " + seq);
    exec("ALTER SEQUENCE " + name + " INCREMENT BY 3");
    try {
      List<NewJob> batch = new ArrayList<>();
      for (int i = 0; i < 150; i++) {
        batch.add(NewJob.of("Stepped" + i));
      }
      List<Job> jobs = client.enqueueAll(batch);
      for (int i = 0; i < 150; i++) {
        assertEquals("Stepped" + i, one("SELECT job_class FROM que_jobs WHERE " + idColumn() + " = ?", jobs.get(i).id()));
        if (i > 0) {
          assertEquals(jobs.get(i - 1).id() + 3, jobs.get(i).id());
        }
      }
      assertEquals(150, jobCount());
    } finally {
      exec("ALTER SEQUENCE " + name + " INCREMENT BY 1");
    }
  }

  /** Values COPY's text format must escape, and any Unicode, come back as they were sent. */
  @Test
  void enqueueAllByCopyStoresHostileStringsExactly() throws SQLException {
    String[] hostile = {"tab\there", "new\nline", "cr\rlf\r\n", "back\\slash", "\\.", "\\N", "\\t literal",
        "end\\", "é ü 漢字 🎉 \u200d", "quote\"s and 'single'", "\\\\\\", "\t\t", "", "{\"a\":1}"};
    List<NewJob> batch = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      String h = hostile[i % hostile.length];
      NewJob j = NewJob.of("Class " + h.replace("\\", "/").strip() + "#" + i, h, Map.of("k" + h, h), i);
      j = j.queue("q" + h);
      if (i % 3 == 0) {
        j = j.runAt(Instant.parse("0001-01-01T00:00:00.000001Z").plusSeconds(i * 1_000_000_000L));
      }
      batch.add(j);
    }
    batch.add(NewJob.ofJson("RawJson", "[\"a\\tb\\\\c\\nd\\u0001\"]"));
    for (int i = 0; i < 5; i++) {
      batch.add(NewJob.of("Filler"));
    }
    List<Job> jobs = client.enqueueAll(batch);
    assertEquals(batch.size(), jobs.size());
    for (int i = 0; i < batch.size(); i++) {
      Job j = jobs.get(i);
      NewJob sent = batch.get(i);
      Object[] r = rows("SELECT job_class, args::text, queue, run_at FROM que_jobs WHERE " + idColumn() + " = ?", j.id()).get(0);
      assertEquals(sent.jobClass(), r[0], "jobs[" + i + "]");
      assertEquals(sent.jobClass(), j.jobClass(), "jobs[" + i + "]");
      assertEquals(one("SELECT ?::jsonb::text", sent.argsJson()), one("SELECT ?::jsonb::text", (String) r[1]), "jobs[" + i + "] args");
      assertEquals(sent.queueOr(defaultQueue()), r[2], "jobs[" + i + "]");
      // (compared in the database: java.sql.Timestamp reads years before 1583 in the Julian calendar)
      assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ? AND run_at = ?::timestamptz",
          j.id(), j.runAt().toString()), "jobs[" + i + "] run_at " + j.runAt());
      if (sent.runAt().isPresent()) {
        assertEquals(sent.runAt().get(), j.runAt(), "jobs[" + i + "]");
      }
    }
    assertEquals(batch.size(), jobCount());
  }

  @Test
  void enqueueAllByCopyIsPartOfTheCallersTransaction() throws SQLException {
    List<NewJob> batch = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      batch.add(NewJob.of("InTx", i));
    }
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      Instant txNow;
      try (var st = c.createStatement(); var rs = st.executeQuery("SELECT now()")) {
        rs.next();
        txNow = rs.getTimestamp(1).toInstant();
      }
      List<Job> jobs = client.enqueueAll(c, batch);
      assertFalse(c.getAutoCommit(), "the library leaves the caller's transaction open");
      assertTrue(jobs.stream().allMatch(j -> j.runAt().equals(txNow)), "run_at is the transaction's now()");
      assertEquals(0, jobCount(), "nothing visible before the commit");
      c.rollback();
      assertEquals(0, jobCount());
      List<Job> kept = client.enqueueAll(c, batch);
      c.commit();
      assertEquals(150, jobCount());
      assertEquals(150, count("SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ANY(?)",
          (Object) kept.stream().map(Job::id).toArray(Long[]::new)));
    }
  }

  /** A row the database refuses leaves none of the batch, and the error says which job it was. */
  @Test
  void aRefusedRowOfACopyNamesItsJobAndWritesNothing() throws SQLException {
    exec("ALTER TABLE que_jobs ADD CONSTRAINT test_refuse CHECK (job_class <> 'Refused')");
    try {
      List<NewJob> batch = new ArrayList<>();
      for (int i = 0; i < 150; i++) {
        batch.add(NewJob.of(i == 70 ? "Refused" : "Fine"));
      }
      QueException e = assertThrows(QueException.class, () -> client.enqueueAll(batch));
      assertTrue(e.getMessage().contains("jobs[70] (Refused)"), e.getMessage());
      assertTrue(e.getMessage().contains("test_refuse"), e.getMessage());
      assertEquals(0, jobCount());
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        QueException inTx = assertThrows(QueException.class, () -> client.enqueueAll(c, batch));
        assertTrue(inTx.getMessage().contains("jobs[70]"), inTx.getMessage());
        c.rollback();
      }
      assertEquals(0, jobCount());
      // The client's own connections are fine afterwards (none is left in a failed transaction).
      assertEquals(150, client.enqueueAll(batch.subList(0, 70)).size() + client.enqueueAll(batch.subList(71, 150)).size() + 1, "the batch without the refused job, in two calls");
    } finally {
      exec("ALTER TABLE que_jobs DROP CONSTRAINT test_refuse");
    }
  }

  /** Row triggers on que_jobs fire for every job written by COPY, with the ids returned. */
  @Test
  void rowTriggersFireForEveryJobOfACopy() throws SQLException {
    String id = idColumn();
    exec("CREATE TABLE test_seen (id bigint)");
    exec("CREATE FUNCTION test_seen_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        + " INSERT INTO test_seen VALUES (NEW." + id + "); RETURN NULL; END $$");
    exec("CREATE TRIGGER test_seen AFTER INSERT ON que_jobs FOR EACH ROW EXECUTE FUNCTION test_seen_insert()");
    try {
      List<NewJob> batch = new ArrayList<>();
      for (int i = 0; i < 150; i++) {
        batch.add(NewJob.of("Seen", i));
      }
      List<Job> jobs = client.enqueueAll(batch);
      List<Long> seen = new ArrayList<>();
      for (Object[] r : rows("SELECT id FROM test_seen ORDER BY id")) {
        seen.add(((Number) r[0]).longValue());
      }
      assertEquals(jobs.stream().map(Job::id).sorted().toList(), seen);
    } finally {
      exec("DROP TRIGGER test_seen ON que_jobs");
      exec("DROP FUNCTION test_seen_insert()");
      exec("DROP TABLE test_seen");
    }
  }

  @Test
  void badInputIsRejectedByFieldAndNothingIsWritten() throws SQLException {
    rejects("jobClass", () -> NewJob.of("  "));
    rejects("jobClass", () -> NewJob.of(null, 1));
    rejects("jobClass", () -> NewJob.of("Bad\0Class"));
    rejects("priority", () -> NewJob.of("X").priority(32768));
    rejects("priority", () -> NewJob.of("X").priority(-32769));
    rejects("args", () -> NewJob.ofJson("X", "{\"a\":1}"));
    rejects("args", () -> NewJob.ofJson("X", "\"text\""));
    rejects("args", () -> NewJob.ofJson("X", "[1,"));
    rejects("args", () -> NewJob.ofJson("X", "[1] [2]"));
    rejects("args", () -> NewJob.ofJson("X", "not json"));
    rejects("args", () -> NewJob.ofJson("X", null));
    rejects("args", () -> NewJob.ofJson("X", "[\"nul \\u0000 inside\"]"));
    rejects("args", () -> client.enqueue(NewJob.of("X", Map.of("k\0", 1)))); // Java values: checked as written
    rejects("args", () -> client.enqueue(NewJob.of("X", "a\0b")));
    rejects("queue", () -> NewJob.of("X").queue("q\0"));
    rejects("queue", () -> NewJob.of("X").queue(null));
    rejects("jobs[1]", () -> client.enqueueAll(Arrays.asList(NewJob.of("X"), null)));
    assertEquals(0, jobCount());
  }

  @Test
  void rowsReadBackAsRubyWritesThem() throws SQLException {
    // The insert of the Ruby Que that shares this schema (0.14's que_insert_job on 3, 2.x's insert_job on 7).
    insertAsRuby("RubyJob", "[1,\"two\",{\"three\":3}]");
    Job java = client.enqueue(NewJob.ofJson("RubyJob", "[1,\"two\",{\"three\":3}]"));
    String columns = modern()
        ? "queue, priority, job_class, args::text, error_count, last_error_message, last_error_backtrace, data::text,"
            + " finished_at, expired_at" + (schemaVersion() >= 5 ? ", job_schema_version" : "")
            + (schemaVersion() >= 6 ? ", kwargs::text" : "")
        : "queue, priority, job_class, args::text, error_count, last_error";
    List<Object[]> both = rows("SELECT " + columns + " FROM que_jobs ORDER BY " + idColumn());
    assertEquals(2, both.size());
    assertEquals(Arrays.asList(both.get(0)), Arrays.asList(both.get(1)), "Java's row equals Ruby's, column for column");
    assertNotNull(java);
  }

  private static void rejects(String field, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(field + ":"), "message names " + field + ": " + e.getMessage());
  }
}
