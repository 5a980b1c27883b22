package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.compat.CompatMatrix.Scenario;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 8: a job enqueued with {@code Client.enqueue(Connection, NewJob)} exists only if the
 * caller's transaction commits. A peer working the queue sees neither a rolled-back job nor one
 * whose transaction is still open, and does see the committed control job. On schema 7 the insert
 * trigger's NOTIFY goes out only at commit, so a listening Ruby que2 locker hears of neither.
 */
@Tag("compat")
@Timeout(120)
class TransactionalEnqueueCompatTest extends CompatTestBase {

  @ParameterizedTest(name = "java tx, {0} works")
  @MethodSource("others")
  void rolledBackEnqueueIsNeverWorked(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.TX_ROLLBACK, CompatMatrix.pair(peer), () -> {
      peer.require();
      try (CompatDb db = CompatDb.create("tx_" + peer.name)) {
        peerSchema(peer, db);
        Client client = Client.create(db.ds);

        try (Connection rolledBack = db.connect(); Connection open = db.connect()) {
          rolledBack.setAutoCommit(false);
          String id = db.idColumn();
          Job gone = client.enqueue(rolledBack, NewJob.of("CompatRecord", "rolled back"));
          assertEquals(1, countIn(rolledBack, id, gone.id()), "the job is visible inside its own transaction");
          rolledBack.rollback();

          open.setAutoCommit(false);
          Job pending = client.enqueue(open, NewJob.of("CompatRecord", "still open"));
          assertEquals(1, countIn(open, id, pending.id()));

          Peer.PeerResult w = peer.cmd(db, "work", "--until-empty").ok();
          assertEquals(new Peer.Summary(0, 0, w.summary().elapsedMs()), w.summary(), w.describe());
          assertEquals(0, db.compatRunCount(), "compat_runs after the peer ran");
          assertEquals(0, db.jobCount(), "que_jobs seen from outside the open transaction");

          open.rollback();
        }
        assertEquals(0, db.jobCount());

        // Control: the same call, committed, is worked.
        Job kept;
        try (Connection c = db.connect()) {
          c.setAutoCommit(false);
          kept = client.enqueue(c, NewJob.of("CompatRecord", "committed"));
          c.commit();
        }
        Peer.PeerResult w = peer.cmd(db, "work", "--until-empty").ok();
        assertEquals(1, w.summary().worked(), w.describe());
        var runs = db.runs();
        assertEquals(1, runs.size());
        assertEquals(kept.id(), runs.get(0).jobId());
        assertEquals(peer.name, runs.get(0).peer());
        assertEquals(0, db.jobCount());
      }
    });
  }

  private static long countIn(Connection c, String idColumn, long id) throws Exception {
    try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM que_jobs WHERE " + idColumn + " = ?")) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
