package io.quejava;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Every object PostgreSQL's catalog holds in one schema, one line each, as text that can be compared
 * between a schema que-java migrated and a database Ruby Que migrated.
 *
 * <p>Lines cover relations (kind, persistence, access method, reloptions, ACL, comment), columns in
 * order (type, NOT NULL, default, collation, storage, identity, comment), constraints and indexes
 * with their full definitions, functions (arguments, result, kind, language, volatility,
 * strictness, security, parallel safety, cost, settings, comment; not the body, whose behaviour
 * the scenarios compare), triggers with their definitions, sequences with their parameters and
 * owner column, and any other type, rule, policy or statistics object.
 *
 * <p>The listing runs with an empty search_path, so every reference to the schema is written out,
 * and then replaces the schema's name with {@value #SCHEMA}: a table in {@code public} and one in
 * {@code mig_7_123} list the same.
 */
final class QueCatalog {
  static final String SCHEMA = "@SCHEMA@";

  private static final String RELATIONS =
      "SELECT format('relation %s kind=%s persistence=%s am=%s options=%s acl=%s rls=%s comment=%s',\n"
          + "  c.relname, c.relkind, c.relpersistence, coalesce(am.amname, '-'),\n"
          + "  coalesce(array_to_string(c.reloptions, ','), '-'), coalesce(c.relacl::text, '-'),\n"
          + "  c.relrowsecurity, coalesce(obj_description(c.oid, 'pg_class'), '-'))\n"
          + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n"
          + "LEFT JOIN pg_am am ON am.oid = c.relam\n"
          + "WHERE n.nspname = ? ORDER BY c.relname";

  private static final String COLUMNS =
      "SELECT format('column %s.%s #%s %s%s%s%s%s%s%s', c.relname, a.attname,\n"
          + "  row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),\n"
          + "  format_type(a.atttypid, a.atttypmod),\n"
          + "  CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,\n"
          + "  coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''),\n"
          + "  CASE WHEN a.attcollation <> t.typcollation THEN ' COLLATE ' || co.collname ELSE '' END,\n"
          + "  CASE WHEN a.attstorage <> t.typstorage THEN ' STORAGE ' || a.attstorage::text ELSE '' END,\n"
          + "  CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text\n"
          + "       WHEN a.attgenerated <> '' THEN ' GENERATED ' || a.attgenerated::text ELSE '' END,\n"
          + "  coalesce(' COMMENT ' || col_description(c.oid, a.attnum), ''))\n"
          + "FROM pg_attribute a\n"
          + "JOIN pg_class c ON c.oid = a.attrelid\n"
          + "JOIN pg_namespace n ON n.oid = c.relnamespace\n"
          + "JOIN pg_type t ON t.oid = a.atttypid\n"
          + "LEFT JOIN pg_collation co ON co.oid = a.attcollation\n"
          + "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum\n"
          + "WHERE n.nspname = ? AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped\n"
          + "ORDER BY c.relname, a.attnum";

  private static final String CONSTRAINTS =
      "SELECT format('constraint %s.%s %s%s', coalesce(c.relname, '-'), con.conname,\n"
          + "  pg_get_constraintdef(con.oid), coalesce(' COMMENT ' || obj_description(con.oid, 'pg_constraint'), ''))\n"
          + "FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace\n"
          + "LEFT JOIN pg_class c ON c.oid = con.conrelid\n"
          + "WHERE n.nspname = ? ORDER BY 1";

  private static final String INDEXES =
      "SELECT format('index %s %s', i.relname, pg_get_indexdef(i.oid))\n"
          + "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid\n"
          + "JOIN pg_namespace n ON n.oid = i.relnamespace\n"
          + "WHERE n.nspname = ? ORDER BY i.relname";

  private static final String FUNCTIONS =
      "SELECT format('function %s(%s) returns %s kind=%s language=%s volatility=%s strict=%s"
          + " security_definer=%s leakproof=%s parallel=%s cost=%s rows=%s config=%s acl=%s comment=%s',\n"
          + "  p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), p.prokind,\n"
          + "  l.lanname, p.provolatile, p.proisstrict, p.prosecdef, p.proleakproof, p.proparallel,\n"
          + "  p.procost, p.prorows, coalesce(array_to_string(p.proconfig, ','), '-'),\n"
          + "  coalesce(p.proacl::text, '-'), coalesce(obj_description(p.oid, 'pg_proc'), '-'))\n"
          + "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace\n"
          + "JOIN pg_language l ON l.oid = p.prolang\n"
          + "WHERE n.nspname = ? ORDER BY 1";

  private static final String TRIGGERS =
      "SELECT format('trigger %s.%s enabled=%s %s', c.relname, t.tgname, t.tgenabled, pg_get_triggerdef(t.oid))\n"
          + "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid\n"
          + "JOIN pg_namespace n ON n.oid = c.relnamespace\n"
          + "WHERE n.nspname = ? AND NOT t.tgisinternal ORDER BY c.relname, t.tgname";

  private static final String SEQUENCES =
      "SELECT format('sequence %s type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s owned_by=%s',\n"
          + "  c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,\n"
          + "  s.seqcache, s.seqcycle,\n"
          + "  coalesce((SELECT string_agg(r.relname || '.' || a.attname || ' (' || d.deptype::text || ')', ', ')\n"
          + "            FROM pg_depend d\n"
          + "            JOIN pg_class r ON r.oid = d.refobjid\n"
          + "            JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid\n"
          + "            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid\n"
          + "              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')), '-'))\n"
          + "FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid\n"
          + "JOIN pg_namespace n ON n.oid = c.relnamespace\n"
          + "WHERE n.nspname = ? ORDER BY c.relname";

  /** Types that are not a relation's row type or the array of one. */
  private static final String OTHER_TYPES =
      "SELECT format('type %s typtype=%s', t.typname, t.typtype)\n"
          + "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace\n"
          + "LEFT JOIN pg_type e ON e.oid = t.typelem\n"
          + "WHERE n.nspname = ? AND t.typrelid = 0 AND coalesce(e.typrelid, 0) = 0 ORDER BY 1";

  private static final String OTHERS =
      "SELECT format('rule %s.%s %s', c.relname, r.rulename, pg_get_ruledef(r.oid))\n"
          + "FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace\n"
          + "WHERE n.nspname = ? AND c.relkind <> 'v'\n"
          + "UNION ALL\n"
          + "SELECT format('policy %s.%s', c.relname, p.polname)\n"
          + "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace\n"
          + "WHERE n.nspname = ?\n"
          + "UNION ALL\n"
          + "SELECT format('statistics %s', s.stxname)\n"
          + "FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE n.nspname = ?\n"
          + "ORDER BY 1";

  private QueCatalog() {}

  /** The listing of {@code schema}, read through {@code ds}, with the schema's name normalised. */
  static List<String> list(DataSource ds, String schema) throws SQLException {
    try (Connection c = ds.getConnection()) {
      // Everything outside pg_catalog is then written with its schema, which is replaced below.
      try (PreparedStatement ps = c.prepareStatement("SELECT set_config('search_path', '', false)")) {
        ps.execute();
      }
      String qualifier = one(c, "SELECT quote_ident(?)", schema) + ".";
      List<String> out = new ArrayList<>();
      for (String sql : List.of(RELATIONS, COLUMNS, CONSTRAINTS, INDEXES, FUNCTIONS, TRIGGERS, SEQUENCES,
          OTHER_TYPES)) {
        out.addAll(lines(c, sql, schema));
      }
      out.addAll(lines(c, OTHERS, schema, schema, schema));
      // One line per object, also for definitions PostgreSQL prints over several lines.
      out.replaceAll(line -> line.replace(qualifier, SCHEMA + ".").replace("\n", "\\n"));
      return out;
    }
  }

  /** The schema the data source's connections put new tables in. */
  static String currentSchema(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection()) {
      return one(c, "SELECT current_schema()");
    }
  }

  private static String one(Connection c, String sql, String... params) throws SQLException {
    List<String> l = lines(c, sql, params);
    return l.get(0);
  }

  private static List<String> lines(Connection c, String sql, String... params) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setString(i + 1, params[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        List<String> out = new ArrayList<>();
        while (rs.next()) {
          out.add(rs.getString(1));
        }
        return out;
      }
    }
  }
}
