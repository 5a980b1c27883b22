package io.quejava.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import javax.sql.DataSource;

/**
 * What PostgreSQL's catalog says about que_jobs (resolved through the data source's search_path),
 * one line per fact, for the extensions' "migrations leave que_jobs untouched" tests: the relation's
 * oid (a rewrite would change it), kind, persistence, options and comment; each column in order with
 * its type, NOT NULL and default; constraints, indexes, triggers (with their enabled state) and rules
 * with their definitions; and the sequence behind the id column.
 */
public final class QueJobsListing {
  private QueJobsListing() {}

  private static final String SQL =
      "WITH t AS (SELECT to_regclass('que_jobs') AS oid)\n"
          + "SELECT 'relation ' || c.oid || ' ' || c.relkind::text || c.relpersistence::text || ' '\n"
          + "  || coalesce(array_to_string(c.reloptions, ','), '-') || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-')\n"
          + "FROM pg_class c, t WHERE c.oid = t.oid\n"
          + "UNION ALL SELECT format('column %s %s %s%s%s', a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),\n"
          + "  CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END, coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''))\n"
          + "FROM t, pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum\n"
          + "WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped\n"
          + "UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(k.oid) FROM pg_constraint k, t WHERE conrelid = t.oid\n"
          + "UNION ALL SELECT 'index ' || indexrelid::regclass::text || ' ' || pg_get_indexdef(indexrelid) FROM pg_index, t WHERE indrelid = t.oid\n"
          + "UNION ALL SELECT 'trigger ' || tgname || ' ' || pg_get_triggerdef(g.oid) || ' enabled=' || tgenabled::text\n"
          + "FROM pg_trigger g, t WHERE tgrelid = t.oid\n"
          + "UNION ALL SELECT 'rule ' || r.rulename || ' ' || pg_get_ruledef(r.oid) FROM pg_rewrite r, t WHERE r.ev_class = t.oid\n"
          + "UNION ALL SELECT 'sequence ' || s.seqrelid::regclass::text || ' ' || s.seqtypid::regtype::text\n"
          + "FROM pg_sequence s, pg_depend dep, t WHERE dep.objid = s.seqrelid AND dep.refobjid = t.oid AND dep.deptype IN ('a', 'i')\n"
          + "ORDER BY 1";

  /** Every line. */
  public static List<String> of(DataSource ds) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(SQL);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  /** The lines that {@code drop} does not match (e.g. an extension's own trigger). */
  public static List<String> without(List<String> listing, Predicate<String> drop) {
    return listing.stream().filter(drop.negate()).toList();
  }
}
