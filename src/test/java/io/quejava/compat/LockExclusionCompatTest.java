package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.compat.CompatMatrix.Scenario;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 4: a job one side holds (its advisory lock, while CompatSleep sleeps) is never run by the
 * other side, which meanwhile works a free job behind it; once the holder dies (SIGKILL, mid-sleep,
 * so the job was not deleted), the other side runs it.
 *
 * <p>Ruby que2 holds its jobs' locks on its Que::Locker connection, not on the worker's: killing the
 * process drops that session, and with it the lock.
 */
@Tag("compat")
@Timeout(120)
class LockExclusionCompatTest extends CompatTestBase {
  /** Long enough that the holder is still asleep when the other side's 1-second run ends. */
  static final int SLEEP_MS = 4000;

  @ParameterizedTest(name = "java holds, {0} waits")
  @MethodSource("others")
  void javaHolds(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.LOCK_JAVA_HOLDS, CompatMatrix.pair(peer), () -> {
      peer.require();
      holderAndOther(JAVA, peer);
    });
  }

  @ParameterizedTest(name = "{0} holds, java waits")
  @MethodSource("others")
  void peerHolds(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.LOCK_PEER_HOLDS, CompatMatrix.pair(peer), () -> {
      peer.require();
      holderAndOther(peer, JAVA);
    });
  }

  private static void holderAndOther(Peer holder, Peer other) throws Exception {
    try (CompatDb db = CompatDb.create("lock_" + holder.name + "_" + other.name)) {
      javaSchema(db, holder == JAVA ? other : holder);
      other.cmd(db, "enqueue", "--class", "CompatSleep", "--args", "[" + SLEEP_MS + "]").ok();
      List<CompatDb.JobRow> jobs = db.jobs();
      assertEquals(1, jobs.size());
      CompatDb.JobRow held = jobs.get(0);

      // Que 2.x's locker buffers jobs beyond its busy workers (8 by default): a listening, polling
      // Ruby holder would lock the free job too, as soon as the insert trigger tells it or its next
      // poll finds it. So a Ruby que2 holder neither listens nor polls again within the run: its
      // first poll, at start, takes the held job and is short of a full buffer, so the next one is
      // due only after the poll interval.
      String[] holderFlags = holder.modern()
          ? new String[] {"work", "--workers", "1", "--no-listen", "--interval-ms", "600000"}
          : new String[] {"work", "--workers", "1"};
      try (Peer.Running h = holder.start(db.url(), holderFlags[0],
          java.util.Arrays.copyOfRange(holderFlags, 1, holderFlags.length))) {
        db.await(Duration.ofSeconds(60), holder.name + " locks job " + held.id(), () -> {
          if (!h.isAlive()) {
            throw new AssertionError(holder.name + " exited early:\n" + h.stderrSoFar());
          }
          return db.jobLocked(held.id());
        });

        // A free job behind the held one: the other side's lock walk has to step past the held row.
        other.cmd(db, "enqueue", "--class", "CompatRecord", "--args", "[\"free\"]").ok();
        Peer.PeerResult o = other.cmd(db, "work", "--seconds", "1").ok();
        assertEquals(1, o.summary().worked(), "the other side works exactly the free job\n" + o.describe());
        assertEquals(0, o.summary().failed(), o.describe());

        assertTrue(h.isAlive() && db.jobLocked(held.id()),
            "the holder finished or let go before it was killed (SLEEP_MS too short for this machine?)\n"
                + h.stderrSoFar());
        List<CompatDb.Run> runs = db.runs();
        assertEquals(1, runs.size(), "compat_runs while the job is held: " + runs);
        assertNotEquals(held.id(), runs.get(0).jobId(), "the held job was run by " + runs.get(0).peer());
        assertEquals(other.name, runs.get(0).peer());
        assertEquals(held, db.job(held.id()).orElseThrow(), "the held job is unchanged");

        h.kill();
        Peer.PeerResult hr = h.await(Duration.ofSeconds(30));
        assertNotEquals(0, hr.exit(), "the holder was killed");
      }

      db.await(Duration.ofSeconds(30), "the server drops the dead holder's lock", () -> !db.jobLocked(held.id()));
      assertEquals(held, db.job(held.id()).orElseThrow(),
          "the killed holder's job is still there, unchanged (same run_at, error_count 0)");

      Peer.PeerResult o2 = other.cmd(db, "work", "--until-empty", "--workers", "1").ok();
      assertEquals(1, o2.summary().worked(), o2.describe());
      CompatDb.Run run = db.runs().stream().filter(r -> r.jobId() == held.id()).findFirst()
          .orElseThrow(() -> new AssertionError("the formerly held job was not recorded"));
      assertEquals(other.name, run.peer());
      assertEquals(0, run.errorCount());
      assertEquals(2, db.compatRunCount());
      assertEquals(0, db.jobCount());
      assertEquals(0, db.advisoryLocks());
    }
  }
}
