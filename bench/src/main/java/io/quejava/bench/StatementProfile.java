package io.quejava.bench;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a run's time went on the server: what pg_stat_statements counted for the bench database
 * (statements per job by kind, their mean execution time) and what pg_stat_wal counted for the
 * cluster (WAL flushes and bytes per job: with synchronous_commit on, each flush is a commit
 * waiting for the disk). Every statement here is one round trip (autocommit, no BEGIN or
 * COMMIT of its own), for que-java, que-go and pgbench alike.
 */
final class StatementProfile {
  /** A statement kind's totals over one run. */
  record Kind(String name, long calls, double totalMs) {}

  /** Counters at one moment. */
  record Snapshot(Map<String, Kind> kinds, long walSync, long walBytes, long rows, double serverCpuMs, double jvmCpuMs) {}

  private final Env env;
  private final List<String> lines = new ArrayList<>();

  private final long postmaster;

  StatementProfile(Env env) {
    this.env = env;
    this.postmaster = Cpu.postmaster(env);
  }

  /** A database other than the bench's own (a control connection to it, and its name). */
  record Db(java.sql.Connection control, String name, String exceptApp) {
    Db(java.sql.Connection control, String name) {
      this(control, name, "");
    }
  }

  /** Forgets the statements counted so far and returns the WAL counters now. */
  Snapshot begin() throws SQLException {
    return begin(null);
  }

  /** As {@link #begin()}, for a run in {@code db} (null: the bench database). */
  Snapshot begin(Db db) throws SQLException {
    if (env.pgss) {
      env.exec("SELECT pg_stat_statements_reset()");
    }
    return snapshot(db);
  }

  /** Counters now; call after the run's sessions have ended (their statistics are flushed at exit). */
  Snapshot snapshot(Db db) throws SQLException {
    java.sql.Connection control = db == null ? env.control : db.control();
    try (Statement st = control.createStatement()) {
      st.execute("SELECT pg_stat_clear_snapshot()");
    }
    Map<String, Kind> kinds = new LinkedHashMap<>();
    if (env.pgss) {
      try (Statement st = control.createStatement(); ResultSet rs = st.executeQuery(
          "SELECT query, calls, total_exec_time FROM pg_stat_statements"
              + " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
              + " AND query NOT ILIKE '%pg_stat%'")) {
        while (rs.next()) {
          String kind = classify(rs.getString(1));
          Kind k = kinds.getOrDefault(kind, new Kind(kind, 0, 0));
          kinds.put(kind, new Kind(kind, k.calls() + rs.getLong(2), k.totalMs() + rs.getDouble(3)));
        }
      }
    }
    long sync = 0;
    long bytes = 0;
    try (Statement st = control.createStatement();
        ResultSet rs = st.executeQuery("SELECT wal_sync, wal_bytes FROM pg_stat_wal")) {
      if (rs.next()) {
        sync = rs.getLong(1);
        bytes = rs.getLong(2);
      }
    } catch (SQLException e) {
      // before PostgreSQL 14
    }
    long rows;
    try (Statement st = control.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM que_jobs")) {
      rs.next();
      rows = rs.getLong(1);
    }
    return new Snapshot(kinds, sync, bytes, rows, postmaster > 0 ? Cpu.treeMs(postmaster) : Double.NaN, Cpu.jvmMs());
  }

  /** The kind of a normalised statement text, named after the protocol step it is. */
  static String classify(String sql) {
    String s = sql.strip().toLowerCase(Locale.ROOT);
    if (s.contains("pg_try_advisory_lock")) {
      return "lock walk";
    }
    if (s.contains("pg_advisory_unlock")) {
      return "unlock";
    }
    if (s.startsWith("delete")) {
      return "delete";
    }
    if (s.startsWith("insert")) {
      return "insert";
    }
    if (s.startsWith("copy")) {
      return "copy";
    }
    if (s.startsWith("update")) {
      return "set error";
    }
    if (s.startsWith("select exists") || s.startsWith("select count(*) from que_jobs")) {
      return "other"; // the bench's own is-it-empty checks
    }
    if (s.startsWith("select") && s.contains("que_jobs")) {
      return "re-check";
    }
    return "other";
  }

  /**
   * Records one line for the run that ended: per job, statements (and each kind with its mean time),
   * server execution time, WAL flushes and WAL bytes (cluster-wide counters). A job is a row the
   * run inserted or deleted, counted in que_jobs, so that work a pool did after its measured window
   * (que-go's shutdown drains on) is divided by the jobs it did.
   */
  void end(String label, Snapshot before) throws SQLException {
    end(label, before, Double.NaN);
  }

  /** As {@link #end(String, Snapshot)}, for a run whose client was a child process that used {@code clientCpuMs}. */
  void end(String label, Snapshot before, double childCpuMs) throws SQLException {
    end(label, before, childCpuMs, null);
  }

  /** As {@link #end(String, Snapshot, double)}, for a run in {@code db} (null: the bench database). */
  void end(String label, Snapshot before, double childCpuMs, Db db) throws SQLException {
    env.awaitQuiet(db == null ? env.bench.database() : db.name(), java.time.Duration.ofSeconds(10),
        db == null ? "" : db.exceptApp());
    Snapshot after = snapshot(db);
    long jobs = Math.abs(after.rows() - before.rows());
    if (jobs <= 0) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "| %s |", label));
    if (env.pgss) {
      long calls = 0;
      double ms = 0;
      StringBuilder kinds = new StringBuilder();
      for (Kind k : after.kinds().values()) {
        calls += k.calls();
        ms += k.totalMs();
        double perJob = (double) k.calls() / jobs;
        if (perJob >= 0.005) {
          kinds.append(kinds.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.2f (%.3f ms)",
              k.name(), perJob, k.calls() == 0 ? 0 : k.totalMs() / k.calls()));
        }
      }
      sb.append(String.format(Locale.ROOT, " %.2f | %.3f | %s |", (double) calls / jobs, ms / jobs, kinds));
    } else {
      sb.append(" n/a | n/a | pg_stat_statements not loaded |");
    }
    sb.append(String.format(Locale.ROOT, " %.3f | %,.0f |", (double) (after.walSync() - before.walSync()) / jobs,
        (double) (after.walBytes() - before.walBytes()) / jobs));
    double client = Double.isNaN(childCpuMs) ? after.jvmCpuMs() - before.jvmCpuMs() : childCpuMs;
    double server = after.serverCpuMs() - before.serverCpuMs();
    sb.append(' ').append(Double.isNaN(client) ? "n/a" : String.format(Locale.ROOT, "%.3f", client / jobs)).append(" |");
    sb.append(' ').append(Double.isNaN(server) ? "n/a" : String.format(Locale.ROOT, "%.3f", server / jobs)).append(" |");
    lines.add(sb.toString());
  }

  List<String> lines() {
    return lines;
  }

  static String header() {
    return "| run | statements/job | server exec ms/job | statements per job by kind (mean exec time) | WAL flushes/job"
        + " | WAL bytes/job | client CPU ms/job | server CPU ms/job |\n"
        + "|---|--:|--:|---|--:|--:|--:|--:|";
  }
}
