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

/** A test class with a schema of its own on the real test PostgreSQL, migrated to schema 3. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PgTest {
  protected DataSource ds;
  protected Client client;

  @BeforeAll
  void createSchema() {
    ds = TestDatabase.newSchema(getClass().getSimpleName());
    Migrator.create(ds).migrate();
    client = Client.create(ds);
  }

  @BeforeEach
  void emptyQueue() throws SQLException {
    exec("TRUNCATE que_jobs");
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
