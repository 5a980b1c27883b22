package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quejava.Client;
import io.quejava.Migrator;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/** Shared helpers of the compat scenarios. */
@Tag("compat")
@ExtendWith(CompatMatrix.Printer.class)
abstract class CompatTestBase {
  static final Peer JAVA = Peer.JAVA;
  static final Peer GO = Peer.GO;
  static final Peer RUBY = Peer.RUBY;
  static final Peer RUBY2 = Peer.RUBY2;

  /** The peers Java is paired with: the argument source of the parameterised scenarios. */
  static Stream<Peer> others() {
    return Peer.OTHERS.stream();
  }

  /** How exactly args must survive from {@code enqueuer} to {@code worker}. */
  static JsonCompare.Mode mode(Peer enqueuer, Peer worker) {
    // Ruby Que re-serialises args (JSON.parse, then JSON.dump): same values, floats as doubles.
    if (enqueuer == RUBY || worker == RUBY || enqueuer == RUBY2 || worker == RUBY2) {
      return JsonCompare.Mode.VALUE_FLOATS_AS_DOUBLE;
    }
    // jsonb (schema 4-7) keeps values, numbers exactly, but not spacing, key order or escapes.
    if (enqueuer.modern() || worker.modern()) {
      return JsonCompare.Mode.VALUE;
    }
    return JsonCompare.Mode.EXACT_TEXT;
  }

  /**
   * que_jobs created by que-java's Migrator at the schema {@code partner} speaks: 3 by
   * {@code migrate()}, 7 by {@code migrateTo(7)}; returns a client on it, which detects the schema.
   */
  static Client javaSchema(CompatDb db, Peer partner) {
    Migrator m = Migrator.create(db.ds);
    if (partner.modern()) {
      assertEquals(partner.schema, m.migrateTo(partner.schema), "Migrator.migrateTo(" + partner.schema + ")");
    } else {
      assertEquals(3, m.migrate(), "Migrator.migrate()");
    }
    Client client = Client.create(db.ds);
    assertEquals(partner.schema, client.schemaVersion(), "Client.schemaVersion()");
    return client;
  }

  /** The queue jobs go to when none is named: '' on schema 3, 'default' on 4-7. */
  static String defaultQueue(Peer peer) {
    return peer.modern() ? "default" : "";
  }

  /** que_jobs created by the peer's own migrate. */
  static void peerSchema(Peer peer, CompatDb db) {
    Peer.PeerResult r = peer.cmd(db, "migrate").ok();
    assertEquals("migrated", r.stdout().strip(), "output of migrate\n" + r.describe());
  }

  /** ISO 8601 in UTC with microseconds, which every peer's --run-at takes. */
  static String iso(OffsetDateTime t) {
    return DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").format(t.withOffsetSameInstant(ZoneOffset.UTC));
  }

  static OffsetDateTime micros(Instant t) {
    return t.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC);
  }

  static Duration seconds(double s) {
    return Duration.ofMillis((long) (s * 1000));
  }
}
