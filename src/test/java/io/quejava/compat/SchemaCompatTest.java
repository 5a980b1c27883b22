package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quejava.Client;
import io.quejava.LockedJob;
import io.quejava.Migrator;
import io.quejava.compat.CompatMatrix.Scenario;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 9: the schema a peer's own migrate creates is the one que-java's Migrator creates (same
 * catalog), Java accepts it without touching it and works jobs on it; and each peer accepts, and
 * works on, the schema Java created.
 */
@Tag("compat")
@Timeout(120)
class SchemaCompatTest extends CompatTestBase {
  private static volatile String javaCatalog;

  /** que_jobs as que-java's Migrator creates it on an empty database. */
  static String javaCatalog() throws Exception {
    String c = javaCatalog;
    if (c == null) {
      try (CompatDb db = CompatDb.create("schema_ref")) {
        javaSchema(db);
        c = db.catalog(false);
      }
      javaCatalog = c;
    }
    return c;
  }

  @ParameterizedTest(name = "{0} migrates, java accepts")
  @MethodSource("others")
  void peerSchemaAcceptedByJava(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.SCHEMA_FROM_PEER, CompatMatrix.pair(peer), () -> {
      peer.require();
      try (CompatDb db = CompatDb.create("schema_" + peer.name + "2j")) {
        peerSchema(peer, db);
        assertEquals(javaCatalog(), db.catalog(false), "catalog of que_jobs: " + peer.name + "'s migrate vs que-java's Migrator");

        String before = db.catalog(true);
        Migrator m = Migrator.create(db.ds);
        assertEquals(3, m.currentVersion(), "Migrator.currentVersion() on " + peer.name + "'s schema");
        assertEquals(3, m.migrate(), "Migrator.migrate() on " + peer.name + "'s schema");
        assertEquals(before, db.catalog(true), "Migrator.migrate() changed nothing (catalog rows and their xmin)");

        Client client = Client.create(db.ds);
        assertEquals(3, client.schemaVersion());
        peer.cmd(db, "enqueue", "--class", "CompatRecord", "--args", "[\"from " + peer.name + "\"]").ok();
        try (LockedJob locked = client.lockJob("").orElseThrow(() -> new AssertionError("Java locked no job"))) {
          assertEquals("CompatRecord", locked.job().jobClass());
          JsonCompare.assertSame("args", "[\"from " + peer.name + "\"]", locked.job().argsJson(), JsonCompare.Mode.VALUE);
          assertEquals(100, locked.job().priority());
          assertEquals("", locked.job().queue());
          locked.delete();
        }
        assertEquals(0, db.jobCount());
        assertEquals(0, db.advisoryLocks());
      }
    });
  }

  @ParameterizedTest(name = "java migrates, {0} accepts")
  @MethodSource("others")
  void javaSchemaAcceptedByPeer(Peer peer) throws Throwable {
    CompatMatrix.cell(Scenario.SCHEMA_FROM_JAVA, CompatMatrix.pair(peer), () -> {
      peer.require();
      try (CompatDb db = CompatDb.create("schema_j2" + peer.name)) {
        javaSchema(db);
        String before = db.catalog(false);
        // The peer's own migrate sees a finished schema 3 and leaves it as it is.
        peerSchema(peer, db);
        assertEquals(before, db.catalog(false), peer.name + "'s migrate on que-java's schema");

        peer.cmd(db, "enqueue", "--class", "CompatRecord", "--args", "[\"on java's schema\"]", "--count", "2").ok();
        assertEquals(2, db.jobCount());
        Peer.PeerResult w = peer.cmd(db, "work", "--until-empty").ok();
        assertEquals(new Peer.Summary(2, 0, w.summary().elapsedMs()), w.summary(), w.describe());
        assertEquals(2, db.runs().stream().filter(r -> r.peer().equals(peer.name)).count());
        assertEquals(0, db.jobCount());
      }
    });
  }
}
