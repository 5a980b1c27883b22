package io.quejava;

import io.quejava.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;

/**
 * A test class with a schema of its own on the real test PostgreSQL, at {@link #schemaVersion()}
 * (3 unless a subclass says otherwise: the classic table of Ruby Que 0.x and que-go).
 *
 * <p>The same test class runs against the modern table (Ruby Que 1.x/2.x) by a subclass that
 * overrides {@link #schemaVersion()}; the helpers below name what differs between the two, so a
 * test reads the same on both and branches only where the protocols really differ.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class PgTest {
  protected DataSource ds;
  protected Client client;

  /** The que_jobs schema version this class runs against: 3 (classic) or 4 to 7 (modern). */
  protected int schemaVersion() {
    return 3;
  }

  @BeforeAll
  void createSchema() {
    ds = schemaAt(schemaVersion(), getClass().getSimpleName());
    client = Client.create(ds);
    if (client.schemaVersion() != schemaVersion()) {
      throw new AssertionError("the client speaks schema " + client.schemaVersion() + ", not " + schemaVersion());
    }
    // Advisory lock keys are shared by the whole server, and every schema's ids would start at 1:
    // start each class's ids at a random point far apart, so lock checks by id (advisoryLocksOn)
    // see this class's jobs only, even with other test runs on the same server.
    try {
      exec("SELECT setval(pg_get_serial_sequence('que_jobs', '" + idColumn() + "'),"
          + " 1000000000 + (random() * 1e15)::bigint)");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot move the job id sequence: " + e.getMessage(), e);
    }
  }

  @BeforeEach
  void emptyQueue() throws SQLException {
    exec("TRUNCATE que_jobs");
  }

  /**
   * A fresh schema holding que_jobs at {@code version}: schema 3 the way applications get it
   * ({@code migrate()}), 4 to 7 by {@code migrateTo}. The data source has it as its search_path.
   */
  protected static DataSource schemaAt(int version, String prefix) {
    DataSource fresh = TestDatabase.newSchema(prefix);
    if (version == 3) {
      Migrator.create(fresh).migrate();
    } else {
      Migrator.create(fresh).migrateTo(version);
    }
    return fresh;
  }

  /** True on schemas 4 to 7 (Ruby Que 1.x/2.x). */
  protected boolean modern() {
    return schemaVersion() >= 4;
  }

  /** The job id column: {@code job_id} on schema 3, {@code id} on 4 to 7. */
  protected String idColumn() {
    return modern() ? "id" : "job_id";
  }

  /** The column of the failure's text: {@code last_error} on 3, {@code last_error_message} on 4 to 7. */
  protected String lastErrorColumn() {
    return modern() ? "last_error_message" : "last_error";
  }

  /** The queue jobs go to when none is named: {@code ''} on 3, {@code 'default'} on 4 to 7. */
  protected String defaultQueue() {
    return modern() ? "default" : "";
  }

  /**
   * Inserts one row with these columns (SQL expressions in {@code values}, {@code ?} for params),
   * adding {@code job_schema_version} = the client's on 6/7 when not given (the column has no
   * default there). Returns the new job's id.
   */
  protected long insertRaw(String columns, String values, Object... params) throws SQLException {
    if (schemaVersion() >= 6 && !columns.contains("job_schema_version")) {
      columns = columns + ", job_schema_version";
      values = values + ", " + client.jobSchemaVersion().getAsInt();
    }
    return count("INSERT INTO que_jobs (" + columns + ") VALUES (" + values + ") RETURNING " + idColumn(), params);
  }

  /**
   * Inserts a job exactly as the Ruby Que of this schema does, all options left to their defaults:
   * Que 0.14's {@code que_insert_job} on 3, 1.0–1.2's on 4, 1.3–1.4's on 5 (job_schema_version 1),
   * 2.x's on 6/7 (job_schema_version 2). Returns the new job's id.
   */
  protected long insertAsRuby(String jobClass, String argsJson) throws SQLException {
    String sql = switch (schemaVersion()) {
      case 3 -> "INSERT INTO que_jobs (queue, priority, run_at, job_class, args) VALUES"
          + " (coalesce(NULL,''), coalesce(NULL,100)::smallint, coalesce(NULL,now()), ?, coalesce(?,'[]')::json)";
      case 4 -> "INSERT INTO que_jobs (queue, priority, run_at, job_class, args, data) VALUES"
          + " (coalesce(NULL, 'default')::text, coalesce(NULL, 100)::smallint, coalesce(NULL, now())::timestamptz,"
          + " ?::text, coalesce(?, '[]')::jsonb, coalesce(NULL, '{}')::jsonb)";
      case 5 -> "INSERT INTO que_jobs (queue, priority, run_at, job_class, args, data, job_schema_version) VALUES"
          + " (coalesce(NULL, 'default')::text, coalesce(NULL, 100)::smallint, coalesce(NULL, now())::timestamptz,"
          + " ?::text, coalesce(?, '[]')::jsonb, coalesce(NULL, '{}')::jsonb, 1)";
      default -> "INSERT INTO que_jobs (queue, priority, run_at, job_class, args, kwargs, data, job_schema_version) VALUES"
          + " (coalesce(NULL, 'default')::text, coalesce(NULL, 100)::smallint, coalesce(NULL, now())::timestamptz,"
          + " ?::text, coalesce(?, '[]')::jsonb, coalesce(NULL, '{}')::jsonb, coalesce(NULL, '{}')::jsonb, 2)";
    };
    return count(sql + " RETURNING " + idColumn(), jobClass, argsJson);
  }

  protected void exec(String sql, Object... params) throws SQLException {
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, params);
      ps.execute();
    }
  }

  protected long count(String sql, Object... params) throws SQLException {
    Object v = one(sql, params);
    return ((Number) v).longValue();
  }

  protected Object one(String sql, Object... params) throws SQLException {
    List<Object[]> rows = rows(sql, params);
    if (rows.size() != 1) {
      throw new AssertionError("expected one row from " + sql + ", got " + rows.size());
    }
    return rows.get(0)[0];
  }

  protected List<Object[]> rows(String sql, Object... params) throws SQLException {
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, params);
      try (ResultSet rs = ps.executeQuery()) {
        int n = rs.getMetaData().getColumnCount();
        List<Object[]> out = new ArrayList<>();
        while (rs.next()) {
          Object[] row = new Object[n];
          for (int i = 0; i < n; i++) {
            row[i] = rs.getObject(i + 1);
          }
          out.add(row);
        }
        return out;
      }
    }
  }

  protected long jobCount() throws SQLException {
    return count("SELECT count(*) FROM que_jobs");
  }

  /** Advisory locks (bigint form, any session) held on any of these job ids. */
  protected long advisoryLocksOn(Collection<Long> ids) throws SQLException {
    return count(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
            + " AND ((classid::bigint << 32) | objid::bigint) = ANY(?)",
        (Object) ids.toArray(new Long[0]));
  }

  /** Advisory locks held by one backend on one job id. */
  protected long locksHeldBy(int backendPid, long jobId) throws SQLException {
    return count(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND pid = ?"
            + " AND ((classid::bigint << 32) | objid::bigint) = ?",
        backendPid, jobId);
  }

  protected static int backendPid(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_backend_pid()");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static void bind(PreparedStatement ps, Object... params) throws SQLException {
    for (int i = 0; i < params.length; i++) {
      Object p = params[i];
      if (p instanceof Long[] arr) {
        ps.setArray(i + 1, ps.getConnection().createArrayOf("bigint", arr));
      } else {
        ps.setObject(i + 1, p);
      }
    }
  }
}
