package io.quejava.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Plain JDBC for tests outside the root package (the extensions'): run a statement, read rows, and
 * list what PostgreSQL's catalog says about que_jobs.
 */
public final class TestSql {
  private final DataSource ds;

  public TestSql(DataSource ds) {
    this.ds = ds;
  }

  /** The data source the statements run on. */
  public DataSource ds() {
    return ds;
  }

  public void exec(String sql, Object... params) throws SQLException {
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, params);
      ps.execute();
    }
  }

  public long count(String sql, Object... params) throws SQLException {
    return ((Number) one(sql, params)).longValue();
  }

  public Object one(String sql, Object... params) throws SQLException {
    List<Object[]> rows = rows(sql, params);
    if (rows.size() != 1) {
      throw new AssertionError("expected one row from " + sql + ", got " + rows.size());
    }
    return rows.get(0)[0];
  }

  public List<Object[]> rows(String sql, Object... params) throws SQLException {
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, params);
      try (ResultSet rs = ps.executeQuery()) {
        int n = rs.getMetaData().getColumnCount();
        List<Object[]> out = new ArrayList<>();
        while (rs.next()) {
          Object[] row = new Object[n];
          for (int i = 0; i < n; i++) {
            row[i] = rs.getObject(i + 1);
            if (row[i] instanceof java.sql.Timestamp) {
              row[i] = rs.getObject(i + 1, java.time.OffsetDateTime.class).toInstant();
            }
          }
          out.add(row);
        }
        return out;
      }
    }
  }

  /**
   * que_jobs as the catalog describes it, one line per fact: its oid (a rewrite would change it),
   * kind, persistence and options, comment, columns in order with type, NOT NULL and default,
   * constraints, indexes, triggers and rules with their definitions, plus the functions of the
   * schema (signature and a digest of the body). Equal listings mean nothing about que_jobs changed.
   */
  public List<String> queJobsCatalog() throws SQLException {
    String sql =
        "SELECT 'relation ' || c.oid || ' ' || c.relkind::text || c.relpersistence::text || ' '\n"
            + "  || coalesce(array_to_string(c.reloptions, ','), '-') || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-')\n"
            + "FROM pg_class c WHERE c.oid = 'que_jobs'::regclass\n"
            + "UNION ALL SELECT format('column %s %s %s%s%s', a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),\n"
            + "  CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END, coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''))\n"
            + "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum\n"
            + "WHERE a.attrelid = 'que_jobs'::regclass AND a.attnum > 0 AND NOT a.attisdropped\n"
            + "UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint\n"
            + "WHERE conrelid = 'que_jobs'::regclass\n"
            + "UNION ALL SELECT 'index ' || indexrelid::regclass || ' ' || pg_get_indexdef(indexrelid) FROM pg_index\n"
            + "WHERE indrelid = 'que_jobs'::regclass\n"
            + "UNION ALL SELECT 'trigger ' || tgname || ' ' || pg_get_triggerdef(oid) || ' enabled=' || tgenabled::text FROM pg_trigger\n"
            + "WHERE tgrelid = 'que_jobs'::regclass\n"
            + "UNION ALL SELECT 'rule ' || r.rulename || ' ' || pg_get_ruledef(r.oid) FROM pg_rewrite r\n"
            + "WHERE r.ev_class = 'que_jobs'::regclass\n"
            + "UNION ALL SELECT 'function ' || p.oid::regprocedure || ' ' || md5(p.prosrc) FROM pg_proc p\n"
            + "WHERE p.pronamespace = current_schema()::regnamespace\n"
            + "ORDER BY 1";
    List<String> out = new ArrayList<>();
    for (Object[] row : rows(sql)) {
      out.add((String) row[0]);
    }
    return out;
  }

  private static void bind(PreparedStatement ps, Object... params) throws SQLException {
    for (int i = 0; i < params.length; i++) {
      Object p = params[i];
      if (p instanceof Long[] arr) {
        ps.setArray(i + 1, ps.getConnection().createArrayOf("bigint", arr));
      } else if (p instanceof java.time.Instant t) {
        ps.setObject(i + 1, t.atOffset(java.time.ZoneOffset.UTC));
      } else {
        ps.setObject(i + 1, p);
      }
    }
  }
}
