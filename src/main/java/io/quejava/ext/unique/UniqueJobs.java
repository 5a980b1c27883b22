package io.quejava.ext.unique;

import io.quejava.QueException;
import io.quejava.ext.ExtensionMigrator;
import io.quejava.internal.Args;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Installs and looks after the {@code unique} extension: the table {@code que_unique_jobs} that holds
 * the keys of unique jobs ({@link io.quejava.NewJob#unique}) and the triggers on {@code que_jobs} that
 * release a key when its job is deleted (by anyone: Ruby Que, que-go, que-java, an operator),
 * finished or expired (schema 4-7), or the table is truncated. See the package documentation.
 *
 * <pre>{@code
 * UniqueJobs.install(dataSource);                       // once; idempotent
 * Job job = client.enqueue(NewJob.of("SendReceipt", 42).unique(UniqueOptions.byArgs()));
 * if (job.isDuplicate()) { ... }                        // job is the one already there
 * }</pre>
 */
public final class UniqueJobs {
  /** The extension's name: its SQL is under {@code migrations/ext/unique/}. */
  public static final String EXTENSION = "unique";

  private UniqueJobs() {}

  /** The extension's migrator, for the schema the data source's connections resolve to. */
  public static ExtensionMigrator migrator(DataSource dataSource) {
    return ExtensionMigrator.create(Args.notNull(dataSource, "dataSource"), EXTENSION);
  }

  /**
   * Installs (or brings up to date) the table and the triggers on que_jobs, and puts right triggers
   * made before que_jobs moved between schema 3 and 4 (the id column was renamed). Idempotent.
   * Returns the installed version.
   *
   * @throws QueException when there is no que_jobs table, or the database fails
   */
  public static int install(DataSource dataSource) {
    int version = migrator(dataSource).migrate();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT que_java_unique_install(to_regclass('que_jobs'))");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
    } catch (SQLException e) {
      throw new QueException("installing the unique extension's triggers failed: " + e.getMessage(), e);
    }
    return version;
  }

  /** Removes the triggers, their functions and every key: que_jobs is left exactly as before the install. */
  public static void uninstall(DataSource dataSource) {
    migrator(dataSource).migrateTo(0);
  }

  /**
   * Deletes keys whose job is no longer there (or, on schema 4-7, is finished or expired): only
   * possible when que_jobs was changed with its triggers off ({@code session_replication_role =
   * replica}, a restore of que_jobs alone). Such a key is also taken over by the next enqueue of
   * it, so this is housekeeping, not needed for correctness. Returns how many were deleted.
   */
  public static int purge(DataSource dataSource) {
    Args.notNull(dataSource, "dataSource");
    try (Connection c = dataSource.getConnection()) {
      boolean modern;
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('que_jobs') AND attname = 'id'"
              + " AND attnum > 0 AND NOT attisdropped)");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        modern = rs.getBoolean(1);
      }
      String sql = modern
          ? "DELETE FROM que_unique_jobs u WHERE NOT EXISTS (SELECT 1 FROM que_jobs j WHERE j.id = u.job_id"
              + " AND j.finished_at IS NULL AND j.expired_at IS NULL)"
          : "DELETE FROM que_unique_jobs u WHERE NOT EXISTS (SELECT 1 FROM que_jobs j WHERE j.queue = u.queue"
              + " AND j.priority = u.priority AND j.run_at = u.run_at AND j.job_id = u.job_id)";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        return ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new QueException("purging unique keys failed: " + e.getMessage(), e);
    }
  }

  /** How many keys are held now (one per unique job that still counts, plus lapsed ones not yet taken over). */
  public static long count(DataSource dataSource) {
    Args.notNull(dataSource, "dataSource");
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM que_unique_jobs");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new QueException("counting unique keys failed: " + e.getMessage(), e);
    }
  }
}
