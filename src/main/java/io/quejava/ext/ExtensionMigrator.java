package io.quejava.ext;

import io.quejava.QueException;
import io.quejava.internal.Args;
import io.quejava.internal.Identifiers;
import io.quejava.internal.Migrations;
import io.quejava.internal.Tx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Versions the tables of one extension, apart from que_jobs' own version (its table comment, which
 * Ruby and Go read and which an extension never touches).
 *
 * <p>An extension's SQL lives on the class path at {@code migrations/ext/<name>/<n>.up.sql} and
 * {@code <n>.down.sql}, n = 1, 2, ...; its version is a row in {@code que_java_extensions (name,
 * version, migrated_at)}. Each run is one transaction under the same advisory lock as
 * {@link io.quejava.Migrator}. Unqualified names in the files resolve to the chosen schema (the run
 * sets {@code search_path} to it); the token {@code @SCHEMA@} is replaced with that schema as a
 * quoted identifier, for function bodies that must not depend on the caller's search_path.
 */
public final class ExtensionMigrator {
  private static final Logger log = LoggerFactory.getLogger(ExtensionMigrator.class);
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,40}");

  private final DataSource dataSource;
  private final String schema;
  private final String extension;

  private ExtensionMigrator(DataSource dataSource, String schema, String extension) {
    this.dataSource = Args.notNull(dataSource, "dataSource");
    this.schema = schema;
    this.extension = Args.notNull(extension, "extension");
    if (!NAME.matcher(extension).matches()) {
      throw new IllegalArgumentException("extension: '" + extension + "' is not a valid extension name");
    }
    if (schema != null) {
      Identifiers.requirePlain("schema", schema);
    }
  }

  /** A migrator for {@code extension}'s tables in the schema the connections' search_path puts them in. */
  public static ExtensionMigrator create(DataSource dataSource, String extension) {
    return new ExtensionMigrator(dataSource, null, extension);
  }

  /** A migrator for {@code extension}'s tables in {@code schema} (a plain identifier). */
  public static ExtensionMigrator create(DataSource dataSource, String schema, String extension) {
    return new ExtensionMigrator(dataSource, Args.notNull(schema, "schema"), extension);
  }

  /** The extension's name, the folder of its SQL. */
  public String extension() {
    return extension;
  }

  /** The newest version this release ships for the extension. */
  public int newestVersion() {
    int n = 0;
    while (ExtensionMigrator.class.getResource(path(n + 1, true)) != null) {
      n++;
    }
    return n;
  }

  /** The installed version, 0 when the extension is not installed. */
  public int currentVersion() {
    try (Connection c = dataSource.getConnection()) {
      return current(c, resolveSchema(c));
    } catch (SQLException e) {
      throw new QueException("cannot read the version of extension " + extension + ": " + e.getMessage(), e);
    }
  }

  /** Installs the extension, or brings it up to {@link #newestVersion()}. Idempotent; returns the version. */
  public int migrate() {
    return migrateTo(newestVersion());
  }

  /** Moves the extension up or down to {@code target}, 0 removing it, in one transaction. */
  public int migrateTo(int target) {
    int newest = newestVersion();
    if (target < 0 || target > newest) {
      throw new IllegalArgumentException(
          "target: extension " + extension + " has versions 0 to " + newest + ", not " + target);
    }
    return Tx.run(dataSource, "migration of extension " + extension, c -> migrateIn(c, target));
  }

  private int migrateIn(Connection c, int target) throws SQLException {
    Migrations.lock(c); // the lock Migrator takes too: schema changes never interleave
    String s = resolveSchema(c);
    int current = current(c, s);
    if (current > newestVersion()) {
      throw new QueException("extension " + extension + " is at version " + current
          + ", newer than this release knows (" + newestVersion() + ")");
    }
    if (current == target) {
      return current;
    }
    String quoted = Migrations.enterSchema(c, s);
    try (Statement st = c.createStatement()) {
      st.execute("""
          CREATE TABLE IF NOT EXISTS que_java_extensions (
            name text PRIMARY KEY, version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())""");
    }
    Migrations.run(c, quoted, current, target, this::path);
    String sql = target == 0
        ? "DELETE FROM que_java_extensions WHERE name = ?"
        : """
            INSERT INTO que_java_extensions (name, version) VALUES (?, ?)
            ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, migrated_at = now()""";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, extension);
      if (target != 0) {
        ps.setInt(2, target);
      }
      ps.executeUpdate();
    }
    log.info("migrated extension {} in schema {} from version {} to {}", extension, s, current, target);
    return target;
  }

  private String resolveSchema(Connection c) throws SQLException {
    if (schema != null) {
      return schema;
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT current_schema()");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      String s = rs.getString(1);
      if (s == null) {
        throw new QueException("the connection's search_path names no existing schema");
      }
      return s;
    }
  }

  private int current(Connection c, String s) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT to_regclass(format('%I.%I', ?::text, 'que_java_extensions')) IS NOT NULL")) {
      ps.setString(1, s);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (!rs.getBoolean(1)) {
          return 0;
        }
      }
    }
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT version FROM " + Identifiers.quote(c, s) + ".que_java_extensions WHERE name = ?")) {
      ps.setString(1, extension);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      }
    }
  }

  private String path(int version, boolean up) {
    return "/migrations/ext/" + extension + "/" + version + (up ? ".up.sql" : ".down.sql");
  }
}
