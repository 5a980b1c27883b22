package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LockJobTest extends PgTest {

  @AfterEach
  void clearHook() {
    client.beforeRecheck = null;
  }

  @Test
  void locksInPriorityThenRunAtThenIdOrder() throws SQLException {
    Instant t0 = Instant.parse("2020-01-01T00:00:00Z");
    List<Long> expected = new ArrayList<>();
    Job p5late = client.enqueue(NewJob.of("J").priority(5).runAt(t0.plusSeconds(10)));
    Job p5earlyA = client.enqueue(NewJob.of("J").priority(5).runAt(t0));
    Job p1 = client.enqueue(NewJob.of("J").priority(1).runAt(t0.plusSeconds(99)));
    Job p5earlyB = client.enqueue(NewJob.of("J").priority(5).runAt(t0));
    Job p100 = client.enqueue(NewJob.of("J"));
    Job p0 = client.enqueue(NewJob.of("J").priority(0).runAt(t0.plusSeconds(500)));
    expected.addAll(List.of(p0.id(), p1.id(), p5earlyA.id(), p5earlyB.id(), p5late.id(), p100.id()));

    List<Long> seen = new ArrayList<>();
    Optional<LockedJob> next;
    while ((next = client.lockJob(defaultQueue())).isPresent()) {
      try (LockedJob locked = next.get()) {
        seen.add(locked.job().id());
        locked.delete();
      }
    }
    assertEquals(expected, seen);
    assertEquals(0, advisoryLocksOn(expected));
  }

  @Test
  void futureJobsAndOtherQueuesAreInvisible() throws SQLException {
    client.enqueue(NewJob.of("Later").runAt(Instant.now().plus(Duration.ofHours(1))));
    client.enqueue(NewJob.of("Elsewhere").queue("other"));
    assertTrue(client.lockJob(defaultQueue()).isEmpty());
    try (LockedJob other = client.lockJob("other").orElseThrow()) {
      assertEquals("Elsewhere", other.job().jobClass());
    }
  }

  @Test
  void aLockedJobIsSkippedByOthersAndReleasedOnClose() throws SQLException {
    Job a = client.enqueue("A");
    Job b = client.enqueue("B");
    LockedJob first = client.lockJob(defaultQueue()).orElseThrow();
    assertEquals(a.id(), first.job().id());
    int pid = backendPid(first.connection());
    assertEquals(1, locksHeldBy(pid, a.id()));
    try (LockedJob second = client.lockJob(defaultQueue()).orElseThrow()) {
      assertEquals(b.id(), second.job().id(), "the held job is skipped");
      assertTrue(client.lockJob(defaultQueue()).isEmpty());
    }
    first.close();
    assertEquals(0, advisoryLocksOn(List.of(a.id(), b.id())));
    assertEquals(2, jobCount(), "closing without resolving leaves the rows");
    assertThrows(IllegalStateException.class, first::delete);
  }

  @Test
  void recheckCatchesAJobDeletedBetweenLockAndCheck() throws SQLException {
    Job victim = client.enqueue(NewJob.of("Victim").priority(1));
    Job next = client.enqueue(NewJob.of("Next").priority(2));
    AtomicBoolean fired = new AtomicBoolean();
    client.beforeRecheck = j -> {
      if (j.id() == victim.id() && fired.compareAndSet(false, true)) {
        sql("DELETE FROM que_jobs WHERE " + idColumn() + " = " + victim.id());
      }
    };
    try (LockedJob locked = client.lockJob(defaultQueue()).orElseThrow()) {
      assertTrue(fired.get(), "the race was staged");
      assertEquals(next.id(), locked.job().id(), "the vanished job is not run; the next one is");
      int pid = backendPid(locked.connection());
      assertEquals(0, locksHeldBy(pid, victim.id()), "the raced job's lock was released");
      assertEquals(1, locksHeldBy(pid, next.id()));
    }
  }

  @Test
  void recheckCatchesAJobRescheduledBetweenLockAndCheck() throws SQLException {
    Job victim = client.enqueue("Victim");
    client.beforeRecheck = j -> sql("UPDATE que_jobs SET run_at = run_at + interval '1 second',"
        + " error_count = error_count + 1 WHERE " + idColumn() + " = " + j.id());
    assertTrue(client.lockJob(defaultQueue()).isEmpty(), "a job whose key changed under the lock is not run early");
    client.beforeRecheck = null;
    assertEquals(0, advisoryLocksOn(List.of(victim.id())));
    assertEquals(1, count("SELECT error_count FROM que_jobs WHERE " + idColumn() + " = ?", victim.id()));
  }

  @Test
  void errorBookkeepingIsExact() throws SQLException {
    Job job = client.enqueue("Flaky");
    Timestamp before;
    Timestamp after;
    try (LockedJob locked = client.lockJob(defaultQueue()).orElseThrow()) {
      before = (Timestamp) one("SELECT clock_timestamp()");
      locked.error(new IllegalStateException("boom"));
      after = (Timestamp) one("SELECT clock_timestamp()");
    }
    Object[] row = errorColumns(job.id());
    assertEquals(1, row[0]);
    Instant runAt = ((Timestamp) row[1]).toInstant();
    assertFalse(runAt.isBefore(before.toInstant().plusSeconds(4)), "run_at >= now + 1^4 + 3 s");
    assertFalse(runAt.isAfter(after.toInstant().plusSeconds(4)));
    String frame = "at io.quejava.LockJobTest.errorBookkeepingIsExact(";
    if (modern()) {
      // Que 1.x/2.x: "<class>: <message>" in last_error_message, the frames in last_error_backtrace.
      assertEquals("java.lang.IllegalStateException: boom", row[2]);
      String backtrace = (String) row[3];
      assertTrue(backtrace.startsWith(frame), backtrace);
      assertFalse(backtrace.contains("IllegalStateException"), "the backtrace holds frames only: " + backtrace);
    } else {
      String lastError = (String) row[2];
      assertTrue(lastError.startsWith("java.lang.IllegalStateException: boom\n"), lastError);
      assertTrue(lastError.split("\n")[1].startsWith(frame), lastError);
    }

    exec("UPDATE que_jobs SET run_at = now() - interval '1 second' WHERE " + idColumn() + " = ?", job.id());
    try (LockedJob locked = client.lockJob(defaultQueue()).orElseThrow()) {
      assertEquals(1, locked.job().errorCount());
      before = (Timestamp) one("SELECT clock_timestamp()");
      locked.error("second failure");
      after = (Timestamp) one("SELECT clock_timestamp()");
    }
    row = errorColumns(job.id());
    assertEquals(2, row[0]);
    runAt = ((Timestamp) row[1]).toInstant();
    assertFalse(runAt.isBefore(before.toInstant().plusSeconds(19)), "run_at >= now + 2^4 + 3 s");
    assertFalse(runAt.isAfter(after.toInstant().plusSeconds(19)));
    assertEquals("second failure", row[2]);
    if (modern()) {
      assertEquals(null, row[3], "a failure given as text has no backtrace; the previous one is not kept");
    }
  }

  /** error_count, run_at, the failure text and (schema 4+) the backtrace of one job. */
  private Object[] errorColumns(long id) throws SQLException {
    return rows("SELECT error_count, run_at, " + lastErrorColumn() + (modern() ? ", last_error_backtrace" : "")
        + " FROM que_jobs WHERE " + idColumn() + " = ?", id).get(0);
  }

  @Test
  void errorTextIsCutTo500CodePointsAndLosesNul() throws SQLException {
    client.enqueue("Long");
    String message = "é".repeat(300) + "😀".repeat(300) + "\0tail";
    try (LockedJob locked = client.lockJob(defaultQueue()).orElseThrow()) {
      locked.error(new RuntimeException(message));
    }
    String head;
    if (modern()) {
      head = (String) one("SELECT last_error_message FROM que_jobs");
      assertEquals(500L, count("SELECT char_length(last_error_message) FROM que_jobs"),
          "PostgreSQL counts the same 500 characters");
    } else {
      String lastError = (String) one("SELECT last_error FROM que_jobs");
      head = lastError.substring(0, lastError.indexOf('\n'));
      assertEquals(500L, count("SELECT char_length(split_part(last_error, E'\\n', 1)) FROM que_jobs"),
          "PostgreSQL counts the same 500 characters");
      assertFalse(lastError.contains("\0"));
    }
    assertEquals(500, head.codePointCount(0, head.length()));
    assertTrue(head.startsWith("java.lang.RuntimeException: éé"));
    assertFalse(head.contains("\0"));

    exec("UPDATE que_jobs SET run_at = now() - interval '1 second'");
    try (LockedJob locked = client.lockJob(defaultQueue()).orElseThrow()) {
      locked.error(new RuntimeException());
    }
    if (modern()) {
      assertEquals("java.lang.RuntimeException: ", one("SELECT last_error_message FROM que_jobs"),
          "Que 1.x/2.x keeps the ': ' even when the message is blank");
    } else {
      assertTrue(((String) one("SELECT last_error FROM que_jobs")).startsWith("java.lang.RuntimeException\n"),
          "no ': ' when the message is blank");
    }
  }

  @Test
  void deleteOnTheJobsConnectionCommitsWithTheCallersTransaction() throws SQLException {
    exec("CREATE TABLE IF NOT EXISTS ledger (note text)");
    exec("TRUNCATE ledger");
    Job committed = client.enqueue("Tx");
    try (LockedJob locked = client.lockJob(defaultQueue()).orElseThrow()) {
      Connection c = locked.connection();
      c.setAutoCommit(false);
      try (var st = c.createStatement()) {
        st.execute("INSERT INTO ledger VALUES ('paid')");
      }
      locked.delete();
      assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ?", committed.id()), "not yet committed");
      c.commit();
      c.setAutoCommit(true);
    }
    assertEquals(0, jobCount());
    assertEquals(1, count("SELECT count(*) FROM ledger"));

    Job abandoned = client.enqueue("Tx");
    try (LockedJob locked = client.lockJob(defaultQueue()).orElseThrow()) {
      Connection c = locked.connection();
      c.setAutoCommit(false);
      try (var st = c.createStatement()) {
        st.execute("INSERT INTO ledger VALUES ('never')");
      }
      locked.delete();
      // closed with the transaction still open: rolled back before the unlock
    }
    assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ?", abandoned.id()));
    assertEquals(1, count("SELECT count(*) FROM ledger"));
    assertEquals(0, advisoryLocksOn(List.of(abandoned.id())));
    assertNotEquals(committed.id(), abandoned.id());
  }

  private void sql(String statement) {
    try {
      exec(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
