package io.quejava.compat;

import io.quejava.testing.Await;
import io.quejava.testing.TestDatabase;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A fresh database of the test PostgreSQL for one scenario (peers use the public schema), plus the
 * queries the scenarios check with. Dropped on close unless {@code QUE_COMPAT_KEEP_DATABASES=1}.
 */
final class CompatDb implements AutoCloseable {
  final TestDatabase.Endpoint endpoint;
  final PGSimpleDataSource ds;

  /**
   * A compat_runs row. kwargs, lastError and lastErrorBacktrace are what the Java peer and the Ruby
   * que2 peer were handed with the job; que-go and Ruby que 0.14 leave them null.
   */
  record Run(long jobId, String peer, String jobClass, String args, int errorCount,
      OffsetDateTime startedAt, OffsetDateTime finishedAt, String kwargs, String lastError,
      String lastErrorBacktrace) {}

  /**
   * A que_jobs row, on either schema. lastError is {@code last_error} on schema 3 and
   * {@code last_error_message} on 4-7; the fields after it are null on schema 3.
   */
  record JobRow(long id, String queue, int priority, OffsetDateTime runAt, String jobClass, String args,
      int errorCount, String lastError, String lastErrorBacktrace, String kwargs, Integer jobSchemaVersion,
      OffsetDateTime finishedAt, OffsetDateTime expiredAt) {}

  private static final String CLASSIC_COLUMNS =
      "job_id, queue, priority, run_at, job_class, args, error_count, last_error,"
          + " NULL::text, NULL::text, NULL::int, NULL::timestamptz, NULL::timestamptz";
  private static final String MODERN_COLUMNS =
      "id, queue, priority, run_at, job_class, args, error_count, last_error_message,"
          + " last_error_backtrace, kwargs, job_schema_version, finished_at, expired_at";

  private CompatDb(TestDatabase.Endpoint endpoint) {
    this.endpoint = endpoint;
    this.ds = endpoint.dataSource();
  }

  static CompatDb create(String prefix) {
    return new CompatDb(TestDatabase.newDatabase("compat_" + prefix));
  }

  String name() {
    return endpoint.database();
  }

  /** The libpq-style URL every peer takes. */
  String url() {
    return endpoint.libpqUrl();
  }

  /** The URL with an application_name, to find a peer's sessions in pg_stat_activity. */
  String url(String applicationName) {
    String u = endpoint.libpqUrl();
    return u + (u.contains("?") ? "&" : "?") + "application_name="
        + URLEncoder.encode(applicationName, StandardCharsets.UTF_8);
  }

  Connection connect() throws SQLException {
    return ds.getConnection();
  }

  void exec(String sql, Object... params) throws SQLException {
    try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, params);
      ps.execute();
    }
  }

  long count(String sql, Object... params) throws SQLException {
    return ((Number) one(sql, params)).longValue();
  }

  Object one(String sql, Object... params) throws SQLException {
    List<Map<String, Object>> rows = rows(sql, params);
    if (rows.size() != 1) {
      throw new AssertionError("expected one row from " + sql + ", got " + rows.size());
    }
    return rows.get(0).values().iterator().next();
  }

  List<Map<String, Object>> rows(String sql, Object... params) throws SQLException {
    try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, params);
      try (ResultSet rs = ps.executeQuery()) {
        int n = rs.getMetaData().getColumnCount();
        List<Map<String, Object>> out = new ArrayList<>();
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (int i = 1; i <= n; i++) {
            Object v = rs.getObject(i);
            if (v instanceof java.sql.Timestamp) {
              v = rs.getObject(i, OffsetDateTime.class);
            }
            row.put(rs.getMetaData().getColumnLabel(i), v);
          }
          out.add(row);
        }
        return out;
      }
    }
  }

  /** The database clock. */
  OffsetDateTime now() throws SQLException {
    try (Connection c = connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT now()")) {
      rs.next();
      return rs.getObject(1, OffsetDateTime.class);
    }
  }

  long jobCount() throws SQLException {
    return count("SELECT count(*) FROM que_jobs");
  }

  /** True when que_jobs is at schema 4-7 (Que 1.x/2.x: keyed by id). */
  boolean modern() throws SQLException {
    return count("SELECT count(*) FROM pg_attribute WHERE attrelid = 'que_jobs'::regclass AND attname = 'id'"
        + " AND NOT attisdropped") > 0;
  }

  /** The id column of que_jobs: job_id on schema 3, id on 4-7. */
  String idColumn() throws SQLException {
    return modern() ? "id" : "job_id";
  }

  private String jobColumns() throws SQLException {
    return modern() ? MODERN_COLUMNS : CLASSIC_COLUMNS;
  }

  Optional<JobRow> job(long id) throws SQLException {
    try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(
        "SELECT " + jobColumns() + " FROM que_jobs WHERE " + idColumn() + " = ?")) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(jobRow(rs));
      }
    }
  }

  List<JobRow> jobs() throws SQLException {
    List<JobRow> out = new ArrayList<>();
    try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(
        "SELECT " + jobColumns() + " FROM que_jobs ORDER BY queue, priority, run_at, " + idColumn());
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(jobRow(rs));
      }
    }
    return out;
  }

  private static JobRow jobRow(ResultSet rs) throws SQLException {
    return new JobRow(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getObject(4, OffsetDateTime.class),
        rs.getString(5), rs.getString(6), rs.getInt(7), rs.getString(8), rs.getString(9), rs.getString(10),
        (Integer) rs.getObject(11), rs.getObject(12, OffsetDateTime.class), rs.getObject(13, OffsetDateTime.class));
  }

  /**
   * Creates compat_runs as the peers do. Peers started at the same moment would race on their own
   * CREATE TABLE IF NOT EXISTS (PostgreSQL raises a unique violation on pg_type for the loser).
   */
  void createCompatRuns() throws SQLException {
    exec("CREATE TABLE IF NOT EXISTS compat_runs (job_id bigint, peer text, job_class text, args text,"
        + " error_count int, started_at timestamptz, finished_at timestamptz, kwargs text, last_error text,"
        + " last_error_backtrace text)");
  }

  boolean hasCompatRuns() throws SQLException {
    return count("SELECT count(*) FROM pg_class WHERE relname = 'compat_runs' AND relkind = 'r'") > 0;
  }

  /** compat_runs in the order the jobs finished (database clock). Empty when no peer worked yet. */
  List<Run> runs() throws SQLException {
    List<Run> out = new ArrayList<>();
    if (!hasCompatRuns()) {
      return out;
    }
    // to_jsonb(r): the later columns read as null where a peer created compat_runs without them.
    try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(
        "SELECT job_id, peer, job_class, args, error_count, started_at, finished_at, to_jsonb(r) ->> 'kwargs',"
            + " to_jsonb(r) ->> 'last_error', to_jsonb(r) ->> 'last_error_backtrace' FROM compat_runs r"
            + " ORDER BY finished_at, job_id");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new Run(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getInt(5),
            rs.getObject(6, OffsetDateTime.class), rs.getObject(7, OffsetDateTime.class), rs.getString(8),
            rs.getString(9), rs.getString(10)));
      }
    }
    return out;
  }

  long compatRunCount() throws SQLException {
    return hasCompatRuns() ? count("SELECT count(*) FROM compat_runs") : 0;
  }

  /** Advisory locks of any kind held by any session in this database. */
  long advisoryLocks() throws SQLException {
    return count("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        + " WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()");
  }

  /** Whether some session holds the bigint advisory lock of job {@code id}. */
  boolean jobLocked(long id) throws SQLException {
    return count("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        + " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND d.datname = current_database()"
        + " AND ((l.classid::bigint << 32) | l.objid::bigint) = ?", id) > 0;
  }

  /** Sessions connected to this database under this application_name. */
  long sessions(String applicationName) throws SQLException {
    return count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?",
        applicationName);
  }

  /**
   * The queue's objects as the catalog describes them: for every table of the public schema but
   * compat_runs (que_jobs; on schema 4-7 also que_lockers and que_values), its columns with types,
   * defaults and nullability in column order, constraints, indexes, triggers and reloptions; the
   * version comment, the id sequence, every relation, and every function of the public schema
   * (signature, language, volatility; not the body: que-java's migrations 4-7 are its own SQL, whose
   * behaviour the core suite checks against Ruby's). With {@code rowVersions}, the xmin of all those
   * catalog rows too, so that any rewrite of a definition or of the comment shows.
   */
  String catalog(boolean rowVersions) throws SQLException {
    String tables = "SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')"
        + " AND relname <> 'compat_runs'";
    String functions = "SELECT oid FROM pg_proc WHERE pronamespace = 'public'::regnamespace";
    String sql = "SELECT x FROM (\n"
        + " SELECT 1 AS k, a.attrelid::regclass::text AS t, a.attnum AS n, format('column %s %s %s %s%s%s',\n"
        + "   a.attrelid::regclass, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),\n"
        + "   CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,\n"
        + "   coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')) AS x\n"
        + " FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum\n"
        + " WHERE a.attrelid IN (" + tables + ") AND a.attnum > 0 AND NOT a.attisdropped\n"
        + " UNION ALL SELECT 2, conrelid::regclass::text, 0, format('constraint %s %s %s', conrelid::regclass, conname,\n"
        + "   pg_get_constraintdef(oid)) FROM pg_constraint WHERE conrelid IN (" + tables + ")\n"
        + " UNION ALL SELECT 3, indrelid::regclass::text, 0, format('index %s', pg_get_indexdef(indexrelid))\n"
        + "   FROM pg_index WHERE indrelid IN (" + tables + ")\n"
        + " UNION ALL SELECT 4, tgrelid::regclass::text, 0, format('trigger %s', pg_get_triggerdef(oid))\n"
        + "   FROM pg_trigger WHERE tgrelid IN (" + tables + ") AND NOT tgisinternal\n"
        + " UNION ALL SELECT 5, '', 0, format('comment %L', obj_description('que_jobs'::regclass, 'pg_class'))\n"
        + " UNION ALL SELECT 6, '', 0, format('sequence %s', pg_get_serial_sequence('que_jobs', '" + idColumn() + "'))\n"
        + " UNION ALL SELECT 7, '', 0, format('relation %s kind=%s persistence=%s options=%s', c.relname, c.relkind,\n"
        + "   c.relpersistence, c.reloptions)\n"
        + "   FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relname <> 'compat_runs'\n"
        + " UNION ALL SELECT 8, '', 0, format('function %s(%s) returns %s language %s volatile=%s strict=%s',\n"
        + "   p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid), l.lanname,\n"
        + "   p.provolatile, p.proisstrict)\n"
        + "   FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.oid IN (" + functions + ")\n"
        + (rowVersions
            ? " UNION ALL SELECT 9, '', 0, format('pg_class xmin %s %s', relname, xmin) FROM pg_class\n"
                + "   WHERE relnamespace = 'public'::regnamespace AND relname <> 'compat_runs'\n"
                + " UNION ALL SELECT 10, '', 0, format('pg_description xmin %s', xmin) FROM pg_description\n"
                + "   WHERE objoid = 'que_jobs'::regclass AND classoid = 'pg_class'::regclass AND objsubid = 0\n"
                + " UNION ALL SELECT 11, '', 0, format('pg_proc xmin %s %s', proname, xmin) FROM pg_proc\n"
                + "   WHERE oid IN (" + functions + ")\n"
                + " UNION ALL SELECT 12, '', 0, format('pg_trigger xmin %s %s', tgname, xmin) FROM pg_trigger\n"
                + "   WHERE tgrelid IN (" + tables + ") AND NOT tgisinternal\n"
            : "")
        + ") s ORDER BY k, t, n, x";
    StringBuilder b = new StringBuilder();
    for (Map<String, Object> row : rows(sql)) {
      b.append(row.get("x")).append('\n');
    }
    return b.toString();
  }

  /** Polls (with a deadline) until {@code condition} holds; SQL errors fail the wait. */
  void await(Duration timeout, String what, SqlCondition condition) {
    Await.until(timeout, what, () -> {
      try {
        return condition.test();
      } catch (SQLException e) {
        throw new AssertionError("while waiting for " + what + ": " + e.getMessage(), e);
      }
    });
  }

  @FunctionalInterface
  interface SqlCondition {
    boolean test() throws SQLException;
  }

  private static void bind(PreparedStatement ps, Object... params) throws SQLException {
    for (int i = 0; i < params.length; i++) {
      ps.setObject(i + 1, params[i]);
    }
  }

  @Override
  public void close() {
    if ("1".equals(Peer.setting("QUE_COMPAT_KEEP_DATABASES"))) {
      System.err.println("[compat] keeping database " + name());
      return;
    }
    try (Connection c = TestDatabase.endpoint().connect(); Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + name() + " WITH (FORCE)");
    } catch (SQLException e) {
      System.err.println("[compat] could not drop database " + name() + ": " + e.getMessage());
    }
  }
}
