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

  /** The peers Java is paired with: the argument source of the parameterised scenarios. */
  static Stream<Peer> others() {
    return Peer.OTHERS.stream();
  }

  /** How exactly args must survive from {@code enqueuer} to {@code worker}. */
  static JsonCompare.Mode mode(Peer enqueuer, Peer worker) {
    // Ruby Que 0.x re-serialises args (JSON.parse, then JSON.dump): same values, floats as doubles.
    if (enqueuer == RUBY || worker == RUBY) {
      return JsonCompare.Mode.VALUE_FLOATS_AS_DOUBLE;
    }
    return JsonCompare.Mode.EXACT_TEXT;
  }

  /** que_jobs at schema 3 created by que-java's Migrator; returns a client on it. */
  static Client javaSchema(CompatDb db) {
    assertEquals(3, Migrator.create(db.ds).migrate(), "Migrator.migrate()");
    return Client.create(db.ds);
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
