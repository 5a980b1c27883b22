package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.LockedJob;
import io.quejava.Migrator;
import io.quejava.compat.CompatMatrix.Scenario;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 9: the schema a peer's own migrate creates is the one que-java's Migrator creates (same
 * catalog), Java accepts it without touching it and works jobs on it; and each peer accepts, and
 * works on, the schema Java created.
 *
 * <p>For Ruby que2 that is schema 7: Ruby's {@code Que.migrate!(version: 7)} against
 * {@code Migrator.migrateTo(7)}, including que_lockers, que_values, the functions and the triggers.
 * Java's client detects 7, writes and takes job_schema_version 2, and a client set to job schema
 * version 1 (Que 1.x's argument layout) leaves Ruby 2's jobs alone.
 */
@Tag("compat")
@Timeout(120)
class SchemaCompatTest extends CompatTestBase {
  private static final java.util.Map<Integer, String> JAVA_CATALOGS = new java.util.concurrent.ConcurrentHashMap<>();

  /** The catalog que-java's Migrator creates on an empty database for {@code peer}'s schema. */
  static synchronized String javaCatalog(Peer peer) throws Exception {
    String c = JAVA_CATALOGS.get(peer.schema);
    if (c == null) {
      try (CompatDb db = CompatDb.create("schema_ref" + peer.schema)) {
        javaSchema(db, peer);
        c = db.catalog(false);
      }
      JAVA_CATALOGS.put(peer.schema, c);
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
        assertEquals(javaCatalog(peer), db.catalog(false), "catalog: " + peer.name + "'s migrate vs que-java's Migrator");

        String before = db.catalog(true);
        Migrator m = Migrator.create(db.ds);
        assertEquals(peer.schema, m.currentVersion(), "Migrator.currentVersion() on " + peer.name + "'s schema");
        assertEquals(peer.schema, m.migrate(), "Migrator.migrate() on " + peer.name + "'s schema");
        assertEquals(before, db.catalog(true), "Migrator.migrate() changed nothing (catalog rows and their xmin)");

        Client client = Client.create(db.ds);
        assertEquals(peer.schema, client.schemaVersion(), "Client.schemaVersion()");
        assertEquals(defaultQueue(peer), client.defaultQueue(), "Client.defaultQueue()");
        assertEquals(peer.modern() ? java.util.OptionalInt.of(2) : java.util.OptionalInt.empty(), client.jobSchemaVersion(), "Client.jobSchemaVersion()");
        String args = "[\"from " + peer.name + "\"]";
        String kwargs = "{\"from\":\"" + peer.name + "\",\"n\":[1,null]}";
        if (peer.modern()) {
          peer.cmd(db, "enqueue", "--class", "CompatRecord", "--args", args, "--kwargs", kwargs).ok();
          Client v1 = Client.builder(db.ds).jobSchemaVersion(1).build();
          assertEquals(java.util.OptionalInt.of(1), v1.jobSchemaVersion());
          assertTrue(v1.lockJob(defaultQueue(peer)).isEmpty(),
              "a client of job schema version 1 takes no job Que 2.x enqueued (version 2)");
        } else {
          peer.cmd(db, "enqueue", "--class", "CompatRecord", "--args", args).ok();
        }
        try (LockedJob locked = client.lockJob(defaultQueue(peer))
            .orElseThrow(() -> new AssertionError("Java locked no job"))) {
          assertEquals("CompatRecord", locked.job().jobClass());
          JsonCompare.assertSame("args", args, locked.job().argsJson(), JsonCompare.Mode.VALUE);
          assertEquals(100, locked.job().priority());
          assertEquals(defaultQueue(peer), locked.job().queue());
          if (peer.modern()) {
            JsonCompare.assertSame("kwargs", kwargs, locked.job().kwargsJson().orElse(null), JsonCompare.Mode.VALUE);
            assertEquals(java.util.OptionalInt.of(2), locked.job().jobSchemaVersion());
            assertEquals(List.of(), locked.job().tags());
          }
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
        javaSchema(db, peer);
        // The peer's own migrate sees a table at its version and leaves it as it is. que-go rewrites
        // the (identical) comment, so only Ruby que2's run is also held to the catalog rows' xmin.
        String before = db.catalog(peer.modern());
        peerSchema(peer, db);
        assertEquals(before, db.catalog(peer.modern()), peer.name + "'s migrate on que-java's schema");

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
