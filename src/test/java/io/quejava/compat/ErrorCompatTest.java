package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.compat.CompatMatrix.Scenario;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenarios 5 and 6: a failing job (CompatFail) and a job of a class nobody knows. The side that
 * works it first records error_count 1, run_at = now() + 4 s (database clock) and last_error in its
 * own words; the other side leaves it alone until run_at and then retries it with the next backoff
 * (19 s). The job never disappears.
 *
 * <p>On schema 7 (Ruby que2) the error is split into last_error_message and last_error_backtrace, and
 * two more rows run: 5c, where a job that failed on one side is handed, error text and all, to the
 * other side's handler, which records what it was given; and 5d, where the 16th failure expires the
 * job (whoever fails it) and neither side touches an expired job again.
 */
@Tag("compat")
@Timeout(120)
class ErrorCompatTest extends CompatTestBase {

  @ParameterizedTest(name = "java fails, {0} retries")
  @MethodSource("others")
  void javaFailsPeerRetries(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.ERROR_JAVA_FIRST, CompatMatrix.pair(peer), () -> {
      peer.require();
      failThenRetry(JAVA, peer);
    });
  }

  @ParameterizedTest(name = "{0} fails, java retries")
  @MethodSource("others")
  void peerFailsJavaRetries(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.ERROR_PEER_FIRST, CompatMatrix.pair(peer), () -> {
      peer.require();
      failThenRetry(peer, JAVA);
    });
  }

  /** 6: each side meets a class only the other side enqueued: error recorded, job kept. */
  @ParameterizedTest(name = "java <-> {0}")
  @MethodSource("others")
  void unknownClass(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.UNKNOWN_CLASS, CompatMatrix.pair(peer), () -> {
      peer.require();
      try (CompatDb db = CompatDb.create("unknown_" + peer.name)) {
        peerSchema(peer, db);
        peer.cmd(db, "enqueue", "--class", "CompatUnknownFromPeer", "--queue", "to_java", "--args", "[1]").ok();
        JAVA.cmd(db, "enqueue", "--class", "CompatUnknownFromJava", "--queue", "to_peer", "--args", "[2]").ok();
        CompatDb.JobRow toJava = only(db, "to_java");
        CompatDb.JobRow toPeer = only(db, "to_peer");

        OffsetDateTime t0 = db.now();
        Peer.PeerResult j = JAVA.cmd(db, "work", "--queue", "to_java", "--until-empty").ok();
        OffsetDateTime t1 = db.now();
        assertEquals(new Peer.Summary(0, 1, j.summary().elapsedMs()), j.summary(), j.describe());
        CompatDb.JobRow afterJava = db.job(toJava.id()).orElseThrow(() -> new AssertionError("Java deleted the unknown job"));
        assertEquals(1, afterJava.errorCount());
        assertEquals("unknown job type: \"CompatUnknownFromPeer\"", afterJava.lastError());
        if (peer.modern()) {
          assertEquals(null, afterJava.lastErrorBacktrace(), "Java's unknown-class error has no backtrace");
          assertEquals(null, afterJava.expiredAt());
        }
        assertBackoff(afterJava.runAt(), t0, t1, 4);

        t0 = db.now();
        Peer.PeerResult p = peer.cmd(db, "work", "--queue", "to_peer", "--until-empty").ok();
        t1 = db.now();
        assertEquals(new Peer.Summary(0, 1, p.summary().elapsedMs()), p.summary(), p.describe());
        CompatDb.JobRow afterPeer = db.job(toPeer.id())
            .orElseThrow(() -> new AssertionError(peer.name + " deleted the unknown job"));
        assertEquals(1, afterPeer.errorCount());
        if (peer == RUBY || peer == RUBY2) {
          assertTrue(afterPeer.lastError().startsWith("NameError: uninitialized constant CompatUnknownFromJava"),
              "Ruby's last_error: " + afterPeer.lastError());
          if (peer.modern()) {
            assertTrue(afterPeer.lastErrorBacktrace() != null && !afterPeer.lastErrorBacktrace().isEmpty(),
                "Ruby que2's last_error_backtrace: " + afterPeer.lastErrorBacktrace());
            assertEquals(null, afterPeer.expiredAt());
          }
        } else {
          assertEquals("unknown job type: \"CompatUnknownFromJava\"", afterPeer.lastError());
        }
        assertBackoff(afterPeer.runAt(), t0, t1, 4);

        assertEquals(2, db.jobCount(), "both jobs are kept");
        assertEquals(0, db.compatRunCount());
        assertEquals(0, db.advisoryLocks());
      }
    });
  }

  /** 5c: one side fails a CompatFailOnce; the other side's handler is handed that error and records it. */
  @Test
  void errorReadByTheOtherSide() throws Throwable {
    CompatMatrix.cell(Scenario.ERROR_READ, CompatMatrix.pair(RUBY2), () -> {
      RUBY2.require();
      failOnceThenRead(JAVA, RUBY2);
      failOnceThenRead(RUBY2, JAVA);
    });
  }

  /**
   * 5d: a job 14 failures old fails on one side (15: retried after 15^4 + 3 s) and then on the other
   * (16: expired, last error kept); then neither side runs it.
   */
  @Test
  void sixteenthFailureExpires() throws Throwable {
    CompatMatrix.cell(Scenario.EXPIRY, CompatMatrix.pair(RUBY2), () -> {
      RUBY2.require();
      expireOnSixteenth(JAVA, RUBY2);
      expireOnSixteenth(RUBY2, JAVA);
    });
  }

  private static void failOnceThenRead(Peer first, Peer second) throws Exception {
    try (CompatDb db = CompatDb.create("readerr_" + first.name + "_" + second.name)) {
      javaSchema(db, RUBY2);
      second.cmd(db, "enqueue", "--class", "CompatFailOnce", "--args", "[\"once\"]").ok();
      CompatDb.JobRow job = only(db, "default");

      Peer.PeerResult a = first.cmd(db, "work", "--until-empty").ok();
      assertEquals(new Peer.Summary(0, 1, a.summary().elapsedMs()), a.summary(), a.describe());
      CompatDb.JobRow failed = db.job(job.id()).orElseThrow(() -> new AssertionError(first.name + " deleted the job"));
      assertEquals(1, failed.errorCount());
      assertLastError(first, failed, true);

      // Nothing runs now, so the row may be edited: skip the 4 s backoff.
      db.exec("UPDATE que_jobs SET run_at = now() WHERE id = ?", job.id());
      Peer.PeerResult b = second.cmd(db, "work", "--until-empty").ok();
      assertEquals(new Peer.Summary(1, 0, b.summary().elapsedMs()), b.summary(), b.describe());
      List<CompatDb.Run> runs = db.runs();
      assertEquals(1, runs.size(), "compat_runs: " + runs);
      CompatDb.Run run = runs.get(0);
      assertEquals(second.name, run.peer());
      assertEquals(1, run.errorCount(), "error_count " + second.name + " was handed");
      assertEquals(failed.lastError(), run.lastError(), "the last error message " + second.name + " was handed");
      assertEquals(failed.lastErrorBacktrace(), run.lastErrorBacktrace(),
          "the last error backtrace " + second.name + " was handed");
      assertEquals(0, db.jobCount());
    }
  }

  private static void expireOnSixteenth(Peer first, Peer second) throws Exception {
    try (CompatDb db = CompatDb.create("expire_" + first.name + "_" + second.name)) {
      javaSchema(db, RUBY2);
      second.cmd(db, "enqueue", "--class", "CompatFail", "--args", "[\"boom\"]").ok();
      long id = only(db, "default").id();
      db.exec("UPDATE que_jobs SET error_count = 14 WHERE id = ?", id);

      OffsetDateTime t0 = db.now();
      Peer.PeerResult a = first.cmd(db, "work", "--until-empty").ok();
      OffsetDateTime t1 = db.now();
      assertEquals(new Peer.Summary(0, 1, a.summary().elapsedMs()), a.summary(), a.describe());
      CompatDb.JobRow fifteen = db.job(id).orElseThrow();
      assertEquals(15, fifteen.errorCount(), "the 15th failure is retried");
      assertEquals(null, fifteen.expiredAt(), "the 15th failure is retried");
      assertBackoff(fifteen.runAt(), t0, t1, 15 * 15 * 15 * 15 + 3);
      assertLastError(first, fifteen, true);

      db.exec("UPDATE que_jobs SET run_at = now() WHERE id = ?", id);
      CompatDb.JobRow due = db.job(id).orElseThrow();
      t0 = db.now();
      Peer.PeerResult b = second.cmd(db, "work", "--until-empty").ok();
      t1 = db.now();
      assertEquals(new Peer.Summary(0, 1, b.summary().elapsedMs()), b.summary(), b.describe());
      CompatDb.JobRow expired = db.job(id).orElseThrow(() -> new AssertionError(second.name + " deleted the job"));
      assertTrue(expired.expiredAt() != null && !expired.expiredAt().isBefore(t0) && !expired.expiredAt().isAfter(t1),
          second.name + " expires the job at its 16th failure: expired_at " + expired.expiredAt());
      assertEquals(new CompatDb.JobRow(due.id(), due.queue(), due.priority(), due.runAt(), due.jobClass(), due.args(),
          16, due.lastError(), due.lastErrorBacktrace(), due.kwargs(), due.jobSchemaVersion(), null,
          expired.expiredAt()), expired,
          "expiry adds 1 to error_count and sets expired_at; run_at and the last error (" + first.name + "'s) stay");

      for (Peer p : List.of(first, second)) {
        Peer.PeerResult r = p.cmd(db, "work", "--until-empty").ok();
        assertEquals(new Peer.Summary(0, 0, r.summary().elapsedMs()), r.summary(), r.describe());
      }
      assertEquals(expired, db.job(id).orElseThrow(), "nobody touches an expired job");
      assertEquals(0, db.advisoryLocks());
    }
  }

  private static void failThenRetry(Peer first, Peer second) throws Exception {
    Peer partner = first == JAVA ? second : first;
    try (CompatDb db = CompatDb.create("fail_" + first.name + "_" + second.name)) {
      javaSchema(db, partner);
      second.cmd(db, "enqueue", "--class", "CompatFail", "--args", "[\"boom\"]").ok();
      CompatDb.JobRow job = only(db, defaultQueue(partner));
      assertEquals(0, job.errorCount());

      OffsetDateTime t0 = db.now();
      Peer.PeerResult a = first.cmd(db, "work", "--until-empty").ok();
      OffsetDateTime t1 = db.now();
      assertEquals(new Peer.Summary(0, 1, a.summary().elapsedMs()), a.summary(), a.describe());
      CompatDb.JobRow failed = db.job(job.id())
          .orElseThrow(() -> new AssertionError(first.name + " deleted the failed job"));
      assertEquals(1, failed.errorCount(), "error_count after the first failure");
      assertBackoff(failed.runAt(), t0, t1, 4);
      assertLastError(first, failed, partner.modern());
      assertTrue(db.now().isBefore(failed.runAt()), "the backoff ran out before the second side could start");

      // The second side polls all along: it must not take the job before run_at, and takes it after.
      try (Peer.Running b = second.start(db.url(), "work")) {
        db.await(Duration.ofSeconds(40), second.name + " retries the job after its backoff", () -> {
          CompatDb.JobRow now = db.job(job.id())
              .orElseThrow(() -> new AssertionError("the failing job disappeared"));
          if (!b.isAlive()) {
            throw new AssertionError(second.name + " exited early:\n" + b.stderrSoFar());
          }
          return now.errorCount() >= 2;
        });
        b.term();
        Peer.PeerResult br = b.await(Duration.ofSeconds(60)).ok();
        assertEquals(0, br.summary().worked(), br.describe());
        assertEquals(1, br.summary().failed(), br.describe());
      }
      CompatDb.JobRow retried = db.job(job.id()).orElseThrow(() -> new AssertionError("the failing job disappeared"));
      assertEquals(2, retried.errorCount(), "error_count after the retry");
      assertLastError(second, retried, partner.modern());
      // The retry's now() is retried.run_at - 19 s; it may not be earlier than the first backoff's end.
      OffsetDateTime retriedAt = retried.runAt().minusSeconds(19);
      assertFalse(retriedAt.isBefore(failed.runAt()),
          second.name + " took the job at " + retriedAt + ", before its run_at " + failed.runAt());
      assertTrue(!retried.runAt().isAfter(db.now().plusSeconds(19)), "second backoff is 2^4 + 3 = 19 s");
      assertEquals(1, db.jobCount());
      assertEquals(0, db.compatRunCount());
    }
  }

  /**
   * The error of CompatFail as each peer writes it: on schema 3 one last_error; on schema 4-7 the
   * message ({@code "<class>: <message>"}) and the backtrace apart.
   */
  static void assertLastError(Peer peer, CompatDb.JobRow row, boolean modern) {
    if (modern) {
      String backtrace = row.lastErrorBacktrace();
      switch (peer.name) {
        case "java" -> {
          assertEquals("java.lang.RuntimeException: compat failure from java", row.lastError(), "Java's message");
          assertTrue(backtrace != null && backtrace.lines().anyMatch(l -> l.startsWith("at io.quejava.")),
              "Java's last_error_backtrace: " + backtrace);
        }
        case "ruby2" -> {
          assertEquals("RuntimeError: compat failure from ruby", row.lastError(), "Ruby que2's message");
          assertTrue(backtrace != null && backtrace.lines().anyMatch(l -> l.matches(".*/que2\\.rb:\\d+:in `run'")),
              "Ruby que2's last_error_backtrace: " + backtrace);
        }
        default -> throw new IllegalArgumentException(peer.name);
      }
      return;
    }
    assertEquals(null, row.lastErrorBacktrace());
    String lastError = row.lastError();
    switch (peer.name) {
      case "java" -> {
        assertTrue(lastError.startsWith("java.lang.RuntimeException: compat failure from java\n"),
            "Java's last_error: " + lastError);
        assertTrue(lastError.lines().skip(1).anyMatch(l -> l.startsWith("at io.quejava.")),
            "Java's last_error carries the stack trace: " + lastError);
      }
      case "go" -> assertEquals("compat failure from go", lastError, "que-go's last_error");
      case "ruby" -> assertTrue(lastError.startsWith("RuntimeError: compat failure from ruby\n"),
          "Ruby's last_error: " + lastError);
      default -> throw new IllegalArgumentException(peer.name);
    }
  }

  /** run_at = now() + delay, where now() was some time between t0 and t1 (database clock). */
  static void assertBackoff(OffsetDateTime runAt, OffsetDateTime t0, OffsetDateTime t1, int delaySeconds) {
    OffsetDateTime lo = t0.plusSeconds(delaySeconds);
    OffsetDateTime hi = t1.plusSeconds(delaySeconds);
    assertTrue(!runAt.isBefore(lo) && !runAt.isAfter(hi),
        "run_at " + runAt + " should be now() + " + delaySeconds + " s, i.e. within [" + lo + ", " + hi + "]");
  }

  private static CompatDb.JobRow only(CompatDb db, String queue) throws Exception {
    List<CompatDb.JobRow> jobs = db.jobs().stream().filter(j -> j.queue().equals(queue)).toList();
    assertEquals(1, jobs.size(), "jobs in queue '" + queue + "'");
    return jobs.get(0);
  }
}
