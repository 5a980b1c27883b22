package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.util.PSQLException;

/**
 * Schemas 4 to 7 as que-java's Migrator makes them, against what Ruby Que 2.4's own migrations
 * make, recorded in {@link RubyQueExpectations}: the full catalog at every version up and down,
 * the behaviour of the functions and triggers ({@link QueScenarios#behaviour}), and what moving
 * up and down does to existing rows ({@link QueScenarios#dataRoundTrip}). {@link
 * MigratorRubyParityTest} checks the same live against Ruby when it is installed.
 */
class MigratorModernSchemaTest {
  @Test
  void emptyDatabaseGoesToTheNewestVersion() throws SQLException {
    DataSource ds = TestDatabase.newSchema("modern_empty");
    Migrator m = Migrator.create(ds);
    assertEquals(7, Migrator.NEWEST_VERSION);
    assertEquals(7, m.migrateTo(Migrator.NEWEST_VERSION));
    assertEquals(7, m.currentVersion());
    assertEquals(RubyQueExpectations.load("catalog-7"), catalog(ds));
    assertEquals(7, Client.create(ds).schemaVersion(), "a Client speaks the table it finds");
  }

  @Test
  void stepsUpFromThreeThroughEveryVersion() throws SQLException {
    DataSource ds = TestDatabase.newSchema("modern_up");
    Migrator m = Migrator.create(ds);
    assertEquals(3, m.migrate());
    assertEquals(RubyQueExpectations.load("catalog-3"), catalog(ds));
    for (int v = 4; v <= 7; v++) {
      assertEquals(v, m.migrateTo(v));
      assertEquals(v, m.currentVersion());
      assertEquals(RubyQueExpectations.load("catalog-" + v), catalog(ds), "catalog at " + v);
    }
  }

  @Test
  void stepsDownThroughEveryVersionToNothing() throws SQLException {
    DataSource ds = TestDatabase.newSchema("modern_down");
    Migrator m = Migrator.create(ds);
    m.migrateTo(7);
    // Unlike Ruby's own step down from 7, ours leaves what a fresh migration up leaves.
    for (int v = 6; v >= 4; v--) {
      assertEquals(v, m.migrateTo(v));
      assertEquals(RubyQueExpectations.load("catalog-" + v), catalog(ds), "catalog at " + v + " after 7");
    }
    assertEquals(3, m.migrateTo(3));
    assertEquals(RubyQueExpectations.load("catalog-3-after-down"), catalog(ds));
    assertEquals(0, m.migrateTo(0));
    assertEquals(0, m.currentVersion());
    assertEquals(List.of(), catalog(ds), "nothing is left behind");
  }

  @Test
  void upDownAndUpAgainLeavesTheSameCatalog() throws SQLException {
    DataSource ds = TestDatabase.newSchema("modern_updown");
    Migrator m = Migrator.create(ds);
    m.migrateTo(7);
    List<String> at7 = catalog(ds);
    for (int low : new int[] {6, 5, 4, 3, 0}) {
      assertEquals(low, m.migrateTo(low));
      assertEquals(7, m.migrateTo(7));
      assertEquals(at7, catalog(ds), "7 -> " + low + " -> 7");
    }
    m.migrateTo(4);
    m.migrateTo(6);
    assertEquals(RubyQueExpectations.load("catalog-6"), catalog(ds), "7 -> 4 -> 6");
    assertEquals(6, m.migrateTo(6), "a second run changes nothing");
    assertEquals(RubyQueExpectations.load("catalog-6"), catalog(ds));
  }

  /** In a database of its own (so that only its own notifications arrive), in public as Ruby's. */
  @Test
  void functionsAndTriggersBehaveAsRubysAtEveryVersion() throws SQLException {
    for (int v = 4; v <= 7; v++) {
      try (ScratchDatabase db = new ScratchDatabase("modern_behaviour_" + v)) {
        Migrator.create(db.dataSource).migrateTo(v);
        assertEquals(RubyQueExpectations.load("behaviour-" + v), QueScenarios.behaviour(db.dataSource, v),
            "behaviour at " + v);
      }
    }
  }

  @Test
  void stepsDownBehaveAsAFreshTable() throws SQLException {
    for (int v = 6; v >= 4; v--) {
      try (ScratchDatabase db = new ScratchDatabase("modern_behaviour_down_" + v)) {
        Migrator m = Migrator.create(db.dataSource);
        m.migrateTo(7);
        m.migrateTo(v);
        assertEquals(RubyQueExpectations.load("behaviour-" + v), QueScenarios.behaviour(db.dataSource, v),
            "behaviour at " + v + " after 7");
      }
    }
  }

  @Test
  void rowsSurviveMigrationsUpAndDownAsInRuby() throws Exception {
    DataSource ds = TestDatabase.newSchema("modern_rows");
    Migrator m = Migrator.create(ds);
    assertEquals(RubyQueExpectations.load("data-round-trip"), QueScenarios.dataRoundTrip(ds, m::migrateTo));
  }

  @Test
  void aFailingStepLeavesTheTableAsItWas() throws SQLException {
    DataSource ds = TestDatabase.newSchema("modern_rollback");
    Migrator m = Migrator.create(ds);
    m.migrateTo(5);
    // Schema 5 allows a NULL job_schema_version; step 6 makes the column NOT NULL and must fail.
    exec(ds, "INSERT INTO que_jobs (job_class, job_schema_version) VALUES (?, NULL)", "Orphan");
    List<String> before = catalog(ds);
    QueException e = assertThrows(QueException.class, () -> m.migrateTo(7));
    assertEquals("23502", e.sqlState(), e.getMessage());
    assertEquals(5, m.currentVersion());
    assertEquals(before, catalog(ds));
    assertEquals(List.of("Orphan"), strings(ds, "SELECT job_class FROM que_jobs"));
  }

  @Test
  void migrateAcceptsAModernTableUntouched() throws SQLException {
    for (int v = 4; v <= 7; v++) {
      DataSource ds = TestDatabase.newSchema("modern_accept_" + v);
      Migrator m = Migrator.create(ds);
      m.migrateTo(v);
      List<String> before = catalog(ds);
      assertEquals(v, m.migrate());
      assertEquals(before, catalog(ds));
    }
    DataSource at2 = TestDatabase.newSchema("modern_accept_2");
    Migrator.create(at2).migrateTo(2);
    QueException e = assertThrows(QueException.class, () -> Migrator.create(at2).migrate());
    assertTrue(e.getMessage().contains("migrateTo(3)"), e.getMessage());
  }

  @Test
  void rejectsTargetsOutsideTheKnownVersions() {
    Migrator m = Migrator.create(TestDatabase.newSchema("modern_bounds"));
    assertThrows(IllegalArgumentException.class, () -> m.migrateTo(Migrator.NEWEST_VERSION + 1));
    assertThrows(IllegalArgumentException.class, () -> m.migrateTo(-1));
    assertEquals(0, m.currentVersion(), "nothing was created");
  }

  /**
   * Ruby's functions name public.que_lockers; ours name the schema they were migrated into, so two
   * queues in two schemas (one whose name must be quoted) keep to themselves, whatever the
   * inserting session's search_path.
   */
  @Test
  void functionsUseTheirOwnSchemaWhateverTheSearchPath() throws SQLException {
    try (ScratchDatabase db = new ScratchDatabase("modern_schemas")) {
      twoSchemas(db.dataSource);
    }
  }

  private static void twoSchemas(DataSource server) throws SQLException {
    String mixed = "QueMixed";
    String otherSchema = "que_other";
    exec(server, "CREATE SCHEMA \"" + mixed + "\"");
    exec(server, "CREATE SCHEMA " + otherSchema);
    assertEquals(7, Migrator.create(server, mixed).migrateTo(7));
    assertEquals(7, Migrator.create(server, otherSchema).migrateTo(7));
    assertEquals(RubyQueExpectations.load("catalog-7"), QueCatalog.list(server, mixed));

    String mixedJobs = "\"" + mixed + "\".que_jobs";
    exec(server, "INSERT INTO \"" + mixed + "\".que_lockers (pid, worker_count, worker_priorities, ruby_pid,"
        + " ruby_hostname, queues, listening, job_schema_version) VALUES (?, 1, '{NULL}', 1, 'h', '{default}', true, 2)",
        777);
    try (Connection c = server.getConnection()) {
      // search_path is the server's default here: neither schema is on it.
      execOn(c, "LISTEN que_listener_777");
      execOn(c, "LISTEN que_state");
      String insert = " (id, job_class, run_at, job_schema_version) VALUES (?, ?, ?::timestamptz, 2)";
      execOn(c, "INSERT INTO " + mixedJobs + insert, 5L, "Here", QueScenarios.PAST);
      assertEquals(List.of(
          "que_listener_777 {\"message_type\":\"job_available\",\"queue\":\"default\",\"priority\":100,\"id\":5,"
              + "\"run_at\":\"2020-01-02T03:04:05.123456Z\"}",
          "que_state ready"), notifications(c));
      execOn(c, "INSERT INTO \"" + otherSchema + "\".que_jobs" + insert, 5L, "There", QueScenarios.PAST);
      assertEquals(List.of("que_state ready"), notifications(c), "no locker in the other schema");
      PSQLException tooLong = assertThrows(PSQLException.class, () -> execOn(c,
          "INSERT INTO " + mixedJobs + " (job_class, data, job_schema_version) VALUES (?, ?::jsonb, 2)",
          "Tagged", "{\"tags\":[\"" + "t".repeat(99) + "\"]}"));
      assertNotNull(tooLong.getServerErrorMessage());
      assertEquals("valid_data", tooLong.getServerErrorMessage().getConstraint());
      List<String> states = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT \"" + mixed + "\".que_determine_job_state(j) FROM " + mixedJobs + " j");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          states.add(rs.getString(1));
        }
      }
      assertEquals(List.of("ready"), states);
    }
    assertEquals(0, Migrator.create(server, mixed).migrateTo(0));
    assertEquals(List.of(), QueCatalog.list(server, mixed));
  }

  private static List<String> catalog(DataSource ds) throws SQLException {
    return QueCatalog.list(ds, QueCatalog.currentSchema(ds));
  }

  /** Channel and, for que_state, the new state only. */
  private static List<String> notifications(Connection c) throws SQLException {
    List<String> out = new ArrayList<>();
    PGNotification[] ns = c.unwrap(PGConnection.class).getNotifications();
    for (PGNotification n : ns == null ? new PGNotification[0] : ns) {
      String p = n.getParameter();
      out.add(n.getName().equals("que_state")
          ? "que_state " + p.replaceAll(".*\"current_state\":\"([a-z]+)\".*", "$1")
          : n.getName() + " " + p);
    }
    out.sort(null);
    return out;
  }

  private static void exec(DataSource ds, String sql, Object... params) throws SQLException {
    try (Connection c = ds.getConnection()) {
      execOn(c, sql, params);
    }
  }

  private static void execOn(Connection c, String sql, Object... params) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
      ps.execute();
    }
  }

  private static List<String> strings(DataSource ds, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }
}
