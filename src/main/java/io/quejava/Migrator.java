package io.quejava;

import io.quejava.internal.SchemaInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates and versions the que_jobs table with the SQL in {@code migrations/que/} (shipped in the
 * jar), recording the version as the table comment exactly as Ruby Que does.
 *
 * <p>{@link #migrate()} is the safe default for applications: it creates the table when there is
 * none and otherwise leaves it alone, accepting a table that Ruby Que or que-go created. Changing an
 * existing table happens only through {@link #migrateTo(int)}, which the caller asks for explicitly.
 * Every run is one transaction, serialised with other que-java migrators by a transaction-scoped
 * advisory lock in the two-key space (which never collides with job locks).
 */
public final class Migrator {
  private static final Logger log = LoggerFactory.getLogger(Migrator.class);

  /** The schema version {@link #migrate()} creates: {@value}. */
  public static final int DEFAULT_VERSION = 3;

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");
  /** Two-int advisory key ('quej', 'migr'): a lock space apart from the bigint job locks. */
  private static final String LOCK = "SELECT pg_advisory_xact_lock(1903521130, 1835624306)";

  private final DataSource dataSource;
  private final String schema;

  private Migrator(DataSource dataSource, String schema) {
    this.dataSource = dataSource;
    this.schema = schema;
  }

  /** A migrator for que_jobs where the connections' search_path finds it (or would create it). */
  public static Migrator create(DataSource dataSource) {
    return new Migrator(Objects.requireNonNull(dataSource, "dataSource"), null);
  }

  /**
   * A migrator for que_jobs in this schema. The name must be a plain identifier (letters, digits, _
   * and $, not starting with a digit, at most 63 characters).
   */
  public static Migrator create(DataSource dataSource, String schema) {
    Objects.requireNonNull(schema, "schema");
    if (!IDENTIFIER.matcher(schema).matches()) {
      throw new IllegalArgumentException("schema: '" + schema + "' is not a plain SQL identifier");
    }
    return new Migrator(Objects.requireNonNull(dataSource, "dataSource"), schema);
  }

  /**
   * The version of que_jobs: 0 when there is no table, else its comment, cross-checked against its
   * columns.
   *
   * @throws QueException for a missing, unknown or inconsistent version
   */
  public int currentVersion() {
    try (Connection c = dataSource.getConnection()) {
      SchemaInfo info = SchemaInfo.inspect(c, schema);
      return info.exists() ? info.version(null) : 0;
    } catch (SQLException e) {
      throw new QueException("cannot read the que_jobs version: " + e.getMessage(), e);
    }
  }

  /**
   * Creates que_jobs at {@link #DEFAULT_VERSION} when it does not exist; otherwise checks that the
   * existing table is at a version que-java speaks and changes nothing. Idempotent. Returns the
   * version.
   */
  public int migrate() {
    return run(DEFAULT_VERSION, false);
  }

  /**
   * Moves que_jobs up or down to {@code target} (0 drops it), one step at a time, in one
   * transaction. This alters an existing table: stop every worker, Ruby and Go ones included, first.
   */
  public int migrateTo(int target) {
    if (target < 0 || target > SchemaInfo.NEWEST_SUPPORTED) {
      throw new IllegalArgumentException(
          "target: que-java can migrate to versions 0 to " + SchemaInfo.NEWEST_SUPPORTED + ", not " + target);
    }
    return run(target, true);
  }

  private int run(int target, boolean alterExisting) {
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        int result = migrateIn(c, target, alterExisting);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      throw new QueException("migration of que_jobs failed: " + e.getMessage(), e);
    }
  }

  private int migrateIn(Connection c, int target, boolean alterExisting) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(LOCK);
    }
    SchemaInfo info = SchemaInfo.inspect(c, schema);
    int current = info.exists() ? info.version(null) : 0;
    if (current > SchemaInfo.NEWEST_SUPPORTED) {
      throw new QueException(info.table() + " is at schema version " + current
          + ", newer than this release of que-java knows (up to " + SchemaInfo.NEWEST_SUPPORTED + ")");
    }
    if (!alterExisting && info.exists()) {
      if (current != DEFAULT_VERSION) {
        throw new QueException(info.table() + " is at schema version " + current + "; que-java speaks "
            + DEFAULT_VERSION + ". It changes an existing table only when asked: Migrator.migrateTo("
            + DEFAULT_VERSION + ")");
      }
      log.debug("{} is at version {}; nothing to do", info.table(), current);
      return current;
    }
    if (current == target) {
      return current;
    }
    try (Statement st = c.createStatement()) {
      // Unqualified names in the migration files land in the chosen schema.
      st.execute("SET LOCAL search_path TO " + quote(info.schema()));
      if (target > current) {
        for (int v = current + 1; v <= target; v++) {
          st.execute(load(v + ".up.sql"));
        }
      } else {
        for (int v = current; v > target; v--) {
          st.execute(load(v + ".down.sql"));
        }
      }
    }
    if (target > 0) {
      // COMMENT takes no parameters; the value is our own integer, never user text.
      try (PreparedStatement ps = c.prepareStatement("COMMENT ON TABLE que_jobs IS '" + target + "'")) {
        ps.execute();
      }
    }
    log.info("migrated {} from version {} to {}", info.table(), current, target);
    return target;
  }

  /** A quoted SQL identifier; the schema name comes from the catalog or from a checked argument. */
  private static String quote(String identifier) {
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }

  private static String load(String name) {
    String path = "/migrations/que/" + name;
    try (InputStream in = Migrator.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new QueException("migration " + path + " is missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new QueException("cannot read migration " + path + ": " + e.getMessage(), e);
    }
  }
}
