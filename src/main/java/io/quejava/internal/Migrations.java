package io.quejava.internal;

import io.quejava.QueException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What the core's {@code Migrator} and the extensions' {@code ExtensionMigrator} share: the lock
 * that serialises every que-java schema change in a database, and how the steps run.
 *
 * <p>A step is a file on the class path, run as one multi-statement string in the caller's
 * transaction. Unqualified names in it land in the chosen schema ({@link #enterSchema} sets the
 * transaction's {@code search_path}); what must not depend on a later caller's search_path
 * (function bodies, CHECKs, triggers) names the schema through the token {@value #SCHEMA_TOKEN}.
 */
public final class Migrations {
  private Migrations() {}

  /** Stands for the target schema, as a quoted identifier, in migration files. */
  public static final String SCHEMA_TOKEN = "@SCHEMA@";

  /** Two-int advisory key ('quej', 'migr'): a lock space apart from the bigint job locks. */
  private static final String LOCK = "SELECT pg_advisory_xact_lock(1903521130, 1835624306)";

  /** Where step {@code version} of a migration is on the class path, going up or down. */
  @FunctionalInterface
  public interface StepFile {
    /** The absolute resource path of the step. */
    String path(int version, boolean up);
  }

  /** Waits for the migration lock of this database; it is held until the transaction ends. */
  public static void lock(Connection c) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(LOCK);
    }
  }

  /**
   * Sets this transaction's {@code search_path} to {@code schema} (from the catalog or checked by
   * {@link Identifiers#requirePlain}); returns the schema quoted, for {@link #run}.
   */
  public static String enterSchema(Connection c, String schema) throws SQLException {
    String quoted = Identifiers.quote(c, schema);
    try (Statement st = c.createStatement()) {
      st.execute("SET LOCAL search_path TO " + quoted);
    }
    return quoted;
  }

  /**
   * Runs the steps from {@code current} to {@code target}, one at a time: up through
   * {@code current + 1 .. target}, or down through {@code current .. target + 1}, each with
   * {@value #SCHEMA_TOKEN} replaced by {@code quotedSchema}.
   */
  public static void run(Connection c, String quotedSchema, int current, int target, StepFile files)
      throws SQLException {
    try (Statement st = c.createStatement()) {
      if (target > current) {
        for (int v = current + 1; v <= target; v++) {
          st.execute(load(files.path(v, true)).replace(SCHEMA_TOKEN, quotedSchema));
        }
      } else {
        for (int v = current; v > target; v--) {
          st.execute(load(files.path(v, false)).replace(SCHEMA_TOKEN, quotedSchema));
        }
      }
    }
  }

  private static String load(String path) {
    try (InputStream in = Migrations.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new QueException("migration " + path + " is missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new QueException("cannot read migration " + path + ": " + e.getMessage(), e);
    }
  }
}
