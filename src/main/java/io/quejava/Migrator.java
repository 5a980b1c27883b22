package io.quejava;

import io.quejava.internal.Args;
import io.quejava.internal.Identifiers;
import io.quejava.internal.Migrations;
import io.quejava.internal.SchemaInfo;
import io.quejava.internal.Tx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates and versions the que_jobs table with the SQL in {@code migrations/que/} (shipped in the
 * jar), recording the version as the table comment exactly as Ruby Que does.
 *
 * <p>{@link #migrate()} is the safe default for applications: it creates the table at schema 3 (the
 * one que-go and Ruby Que 0.x share) when there is none and otherwise leaves it alone, accepting a
 * table that Ruby Que or que-go created. Changing an existing table happens only through {@link
 * #migrateTo(int)}, which the caller asks for explicitly; {@code migrateTo(NEWEST_VERSION)} creates
 * or upgrades to the schema of Ruby Que 2.x.
 *
 * <p>Versions 4 to 7 produce the catalog Ruby Que 2.4's own migrations produce (tables, columns,
 * constraints, indexes, functions, triggers), with one difference: where Ruby's function bodies
 * name {@code public.que_jobs} and {@code public.que_lockers}, ours name the schema migrated into,
 * so a schema other than public works too. Stepping down from 7 also restores both triggers, which
 * Ruby's step down does not (see {@code migrations/que/README.md}).
 *
 * <p>Every run is one transaction, serialised with other que-java migrators by a transaction-scoped
 * advisory lock in the two-key space (which never collides with job locks).
 */
public final class Migrator {
  private static final Logger log = LoggerFactory.getLogger(Migrator.class);

  /** The schema version {@link #migrate()} creates: {@value} (que-go, Ruby Que 0.x). */
  public static final int DEFAULT_VERSION = 3;

  /** The newest schema version this release can migrate to: {@value} (Ruby Que 2.1 and later). */
  public static final int NEWEST_VERSION = 7;

  /** The oldest version que-java's dialects speak; 1 and 2 exist only as steps on the way. */
  private static final int OLDEST_SPOKEN = 3;

  private final DataSource dataSource;
  private final String schema;

  private Migrator(DataSource dataSource, String schema) {
    this.dataSource = dataSource;
    this.schema = schema;
  }

  /**
   * A migrator for que_jobs where the connections' search_path finds it, or, when there is none,
   * for the first schema of the search_path (where it would be created).
   */
  public static Migrator create(DataSource dataSource) {
    return new Migrator(Args.notNull(dataSource, "dataSource"), null);
  }

  /**
   * A migrator for que_jobs in this schema. The name must be a plain identifier (letters, digits, _
   * and $, not starting with a digit, at most 63 characters).
   */
  public static Migrator create(DataSource dataSource, String schema) {
    Identifiers.requirePlain("schema", schema);
    return new Migrator(Args.notNull(dataSource, "dataSource"), schema);
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
   * existing table is at a version que-java speaks (3 to {@link #NEWEST_VERSION}) and changes
   * nothing. Idempotent. Returns the version.
   *
   * @throws QueException when the existing table is at version 1 or 2, is newer than this release
   *     knows, or its comment and columns disagree
   */
  public int migrate() {
    return run(DEFAULT_VERSION, false);
  }

  /**
   * Moves que_jobs up or down to {@code target}, one step at a time, in one transaction, and
   * records the version as the table comment. 0 drops the table; {@link #NEWEST_VERSION} creates
   * or upgrades to the schema of Ruby Que 2.x. Returns {@code target}; does nothing when the table
   * is already at {@code target}.
   *
   * <p>This alters an existing table: stop every worker, Ruby and Go ones included, first. Going up
   * from 3 to 4 rewrites every row (as Ruby's does). Going down loses what the lower version cannot
   * hold, exactly as Ruby Que's steps down do: kwargs (below 6), finished and expired jobs, data
   * and tags (below 4).
   *
   * @throws IllegalArgumentException when {@code target} is not within 0 and {@link #NEWEST_VERSION}
   * @throws QueException when the table's version is unknown or inconsistent, or a step fails (the
   *     transaction is then rolled back and the table is as it was)
   */
  public int migrateTo(int target) {
    if (target < 0 || target > NEWEST_VERSION) {
      throw new IllegalArgumentException(
          "target: que-java can migrate to versions 0 to " + NEWEST_VERSION + ", not " + target);
    }
    return run(target, true);
  }

  private int run(int target, boolean alterExisting) {
    return Tx.run(dataSource, "migration of que_jobs", c -> migrateIn(c, target, alterExisting));
  }

  private int migrateIn(Connection c, int target, boolean alterExisting) throws SQLException {
    Migrations.lock(c);
    SchemaInfo info = SchemaInfo.inspect(c, schema);
    int current = info.exists() ? info.version(null) : 0;
    if (current > NEWEST_VERSION) {
      throw new QueException(info.table() + " is at schema version " + current
          + ", newer than this release of que-java knows (up to " + NEWEST_VERSION + ")");
    }
    if (!alterExisting && info.exists()) {
      if (current < OLDEST_SPOKEN) {
        throw new QueException(info.table() + " is at schema version " + current + "; que-java speaks "
            + OLDEST_SPOKEN + " to " + NEWEST_VERSION + ". It changes an existing table only when asked: "
            + "Migrator.migrateTo(" + DEFAULT_VERSION + ")");
      }
      log.debug("{} is at version {}; nothing to do", info.table(), current);
      return current;
    }
    if (current == target) {
      return current;
    }
    String quoted = Migrations.enterSchema(c, info.schema());
    Migrations.run(c, quoted, current, target, (v, up) -> "/migrations/que/" + v + (up ? ".up.sql" : ".down.sql"));
    if (target > 0) {
      // COMMENT takes no parameters; the value is our own integer, never user text.
      try (PreparedStatement ps = c.prepareStatement("COMMENT ON TABLE que_jobs IS '" + target + "'")) {
        ps.execute();
      }
    }
    log.info("migrated {} from version {} to {}", info.table(), current, target);
    return target;
  }
}
