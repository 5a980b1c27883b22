package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class MigratorTest {
  /** que_jobs as Ruby Que 0.14 and que-go leave it: column, type, not null, default, in column order. */
  private static final List<String> EXPECTED_COLUMNS = List.of(
      "priority smallint NOT NULL DEFAULT 100",
      "run_at timestamp with time zone NOT NULL DEFAULT now()",
      "job_id bigint NOT NULL DEFAULT nextval('que_jobs_job_id_seq'::regclass)",
      "job_class text NOT NULL",
      "args json NOT NULL DEFAULT '[]'::json",
      "error_count integer NOT NULL DEFAULT 0",
      "last_error text",
      "queue text NOT NULL DEFAULT ''::text");

  /** que-go's schema.sql shape (our own DDL of it): one CREATE TABLE, then the comment. */
  private static final String GO_STYLE_DDL =
      "CREATE TABLE IF NOT EXISTS que_jobs (\n"
          + "  priority smallint NOT NULL DEFAULT 100,\n"
          + "  run_at timestamptz NOT NULL DEFAULT now(),\n"
          + "  job_id bigserial NOT NULL,\n"
          + "  job_class text NOT NULL,\n"
          + "  args json NOT NULL DEFAULT '[]'::json,\n"
          + "  error_count integer NOT NULL DEFAULT 0,\n"
          + "  last_error text,\n"
          + "  queue text NOT NULL DEFAULT '',\n"
          + "  CONSTRAINT que_jobs_pkey PRIMARY KEY (queue, priority, run_at, job_id));\n"
          + "COMMENT ON TABLE que_jobs IS '3'";

  @Test
  void emptyDatabaseGoesToVersion3WithTheExactCatalog() throws SQLException {
    DataSource ds = TestDatabase.newSchema("mig_empty");
    Migrator m = Migrator.create(ds);
    assertEquals(0, m.currentVersion());
    assertEquals(3, m.migrate());
    assertEquals(3, m.currentVersion());

    Catalog cat = Catalog.of(ds);
    assertEquals(EXPECTED_COLUMNS, cat.columns);
    assertEquals(List.of("que_jobs_pkey PRIMARY KEY (queue, priority, run_at, job_id)"), cat.constraints);
    assertEquals(List.of("que_jobs_pkey UNIQUE btree (queue, priority, run_at, job_id)"), cat.indexes);
    assertEquals("3", cat.comment);
    assertEquals(List.of("que_jobs_job_id_seq owned by que_jobs.job_id"), cat.sequences);
    assertEquals(0, cat.triggers);
  }

  @Test
  void migrateIsIdempotentAndMatchesAGoCreatedTable() throws SQLException {
    DataSource ours = TestDatabase.newSchema("mig_ours");
    Migrator.create(ours).migrate();
    Catalog first = Catalog.of(ours);
    assertEquals(3, Migrator.create(ours).migrate());
    assertEquals(first, Catalog.of(ours));

    DataSource go = TestDatabase.newSchema("mig_go");
    execAll(go, GO_STYLE_DDL);
    Catalog goCatalog = Catalog.of(go);
    assertEquals(first, goCatalog, "the Migrator's table differs from que-go's");
    assertEquals(3, Migrator.create(go).migrate(), "a table que-go created is accepted");
    assertEquals(goCatalog, Catalog.of(go), "and left exactly as it was");
    assertEquals(3, Client.create(go).schemaVersion());
  }

  @Test
  void refusesUnknownNewerAndMissingVersionsWithoutTouchingTheTable() throws SQLException {
    DataSource ds = TestDatabase.newSchema("mig_bad");
    execAll(ds, GO_STYLE_DDL);
    Catalog before = Catalog.of(ds);

    execAll(ds, "COMMENT ON TABLE que_jobs IS '8'");
    QueException e = assertThrows(QueException.class, () -> Migrator.create(ds).migrate());
    assertTrue(e.getMessage().contains("schema version 8"), e.getMessage());
    assertThrows(QueException.class, () -> Client.create(ds));

    execAll(ds, "COMMENT ON TABLE que_jobs IS 'banana'");
    e = assertThrows(QueException.class, () -> Migrator.create(ds).migrate());
    assertTrue(e.getMessage().contains("'banana'"), e.getMessage());

    execAll(ds, "COMMENT ON TABLE que_jobs IS '5'");
    e = assertThrows(QueException.class, () -> Migrator.create(ds).migrate());
    assertTrue(e.getMessage().contains("do not match"), e.getMessage());

    execAll(ds, "COMMENT ON TABLE que_jobs IS NULL");
    e = assertThrows(QueException.class, () -> Client.create(ds));
    assertTrue(e.getMessage().contains("no schema-version comment"), e.getMessage());
    assertEquals(3, Client.builder(ds).assumeSchemaVersion(3).build().schemaVersion(),
        "an explicit override stands in for a lost comment");

    execAll(ds, "COMMENT ON TABLE que_jobs IS '3'");
    assertEquals(before, Catalog.of(ds));
  }

  @Test
  void stepsDownAndUpAgain() throws SQLException {
    DataSource ds = TestDatabase.newSchema("mig_steps");
    Migrator m = Migrator.create(ds);
    m.migrate();
    Catalog at3 = Catalog.of(ds);
    assertEquals(1, m.migrateTo(1));
    assertEquals(1, m.currentVersion());
    QueException e = assertThrows(QueException.class, m::migrate);
    assertTrue(e.getMessage().contains("migrateTo(3)"), e.getMessage());
    assertEquals(0, m.migrateTo(0));
    assertEquals(0, m.currentVersion());
    assertEquals(3, m.migrateTo(3));
    assertEquals(at3, Catalog.of(ds));
    assertThrows(IllegalArgumentException.class, () -> m.migrateTo(Migrator.NEWEST_VERSION + 1));
    assertThrows(IllegalArgumentException.class, () -> m.migrateTo(-1));
  }

  @Test
  void explicitSchemaIsValidated() throws SQLException {
    DataSource ds = TestDatabase.newSchema("mig_named");
    String schema;
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT current_schema()")) {
      rs.next();
      schema = rs.getString(1);
    }
    assertEquals(3, Migrator.create(TestDatabase.endpoint().dataSource(), schema).migrate());
    assertEquals(3, Migrator.create(ds).currentVersion());
    assertThrows(IllegalArgumentException.class, () -> Migrator.create(ds, "x; DROP TABLE que_jobs"));
  }

  private static void execAll(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  /** Everything the catalog says about que_jobs in the data source's schema. */
  record Catalog(List<String> columns, List<String> constraints, List<String> indexes, String comment,
      List<String> sequences, long triggers) {
    static Catalog of(DataSource ds) throws SQLException {
      try (Connection c = ds.getConnection()) {
        return new Catalog(
            strings(c, "SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod)"
                + " || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END"
                + " || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')"
                + " FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                + " WHERE a.attrelid = 'que_jobs'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"),
            strings(c, "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint"
                + " WHERE conrelid = 'que_jobs'::regclass ORDER BY conname"),
            strings(c, "SELECT i.relname || CASE WHEN x.indisunique THEN ' UNIQUE ' ELSE ' ' END || am.amname || ' '"
                + " || substring(pg_get_indexdef(x.indexrelid) from '\\(.*\\)$')"
                + " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam"
                + " WHERE x.indrelid = 'que_jobs'::regclass ORDER BY i.relname"),
            strings(c, "SELECT obj_description('que_jobs'::regclass, 'pg_class')").get(0),
            strings(c, "SELECT s.relname || ' owned by que_jobs.' || a.attname FROM pg_depend d"
                + " JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
                + " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
                + " WHERE d.refobjid = 'que_jobs'::regclass AND d.deptype IN ('a', 'i') ORDER BY 1"),
            Long.parseLong(strings(c, "SELECT count(*)::text FROM pg_trigger WHERE tgrelid = 'que_jobs'::regclass").get(0)));
      }
    }

    private static List<String> strings(Connection c, String sql) throws SQLException {
      try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
        List<String> out = new java.util.ArrayList<>();
        while (rs.next()) {
          out.add(rs.getString(1));
        }
        return out;
      }
    }
  }
}
