package io.quejava.bench;

import io.quejava.Migrator;
import io.quejava.testing.LocalCluster;
import io.quejava.testing.TestDatabase;
import io.quejava.testing.TestDatabase.Endpoint;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Where the benchmark runs: the server (a throwaway cluster of our own, or {@code --url}), the
 * database created for this run (que_jobs at schema 3, migrated by {@link Migrator}), a control
 * connection to it, and the tools found on the machine (pgbench).
 */
final class Env implements AutoCloseable {
  /** The settings printed at the top: the ones that decide what a commit costs. */
  static final List<String> SHOWN_SETTINGS = List.of("fsync", "synchronous_commit", "full_page_writes",
      "wal_sync_method", "shared_buffers", "max_connections", "shared_preload_libraries");

  final Endpoint server;
  final Endpoint bench;
  final String source;
  final boolean ownCluster;
  final Path pgBin;
  final boolean pgss;
  final Connection control;
  private final List<String> createdDatabases = new ArrayList<>();
  private int databaseCounter;

  private Env(Endpoint server, String source, boolean ownCluster, Path pgBin) throws SQLException {
    this.server = server;
    this.source = source;
    this.ownCluster = ownCluster;
    this.pgBin = pgBin;
    this.bench = createDatabase("que_bench");
    this.control = dataSource(bench, "que-bench-control").getConnection();
    Migrator.create(dataSource(bench, "que-bench-control")).migrate();
    this.pgss = enableStatements();
  }

  /** Connects to {@code url}, or starts a throwaway cluster with durable settings unless {@code unsafe}. */
  static Env open(String url, boolean unsafe, List<String> extraSettings) throws SQLException {
    Path bin = LocalCluster.findBin();
    if (url != null) {
      Endpoint e = TestDatabase.parse(url, "--url");
      return new Env(e, "the server at " + e.host() + ":" + e.port() + " (--url)", false, bin);
    }
    if (bin == null) {
      throw new IllegalStateException("no PostgreSQL server binaries found (set QUE_TEST_PG_BIN) and no --url given");
    }
    List<String> settings = new ArrayList<>();
    if (!unsafe) {
      settings.addAll(List.of("fsync=on", "synchronous_commit=on", "full_page_writes=on"));
    }
    if (Files.exists(bin.getParent().resolve("lib").resolve("pg_stat_statements.so"))) {
      settings.add("shared_preload_libraries=pg_stat_statements");
    }
    settings.addAll(extraSettings);
    Endpoint e = LocalCluster.startIfPossible(settings);
    if (e == null) {
      throw new IllegalStateException("the throwaway PostgreSQL from " + bin + " did not start (see above)");
    }
    return new Env(e, "a throwaway cluster from " + bin + " on 127.0.0.1:" + e.port(), true, bin);
  }

  /** A data source for {@code e} whose sessions carry {@code app} as application_name. */
  static PGSimpleDataSource dataSource(Endpoint e, String app) {
    PGSimpleDataSource ds = e.dataSource();
    ds.setApplicationName(app);
    return ds;
  }

  /** The libpq URL the Go peer takes, with {@code app} as application_name. */
  static String libpqUrl(Endpoint e, String app) {
    return e.libpqUrl() + "&application_name=" + app;
  }

  /** A fresh database on the server, with que_jobs at schema 3 in it once migrated by the caller. */
  Endpoint createDatabase(String prefix) throws SQLException {
    String name = prefix + "_" + ProcessHandle.current().pid() + (databaseCounter++ == 0 ? "" : "_" + databaseCounter);
    try (Connection c = server.connect(); Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    }
    createdDatabases.add(name);
    return server.withDatabase(name);
  }

  private boolean enableStatements() {
    try (Statement st = control.createStatement()) {
      if (!setting("shared_preload_libraries").contains("pg_stat_statements")) {
        return false;
      }
      st.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      st.execute("SELECT pg_stat_statements_reset()");
      return true;
    } catch (SQLException e) {
      System.err.println("[bench] pg_stat_statements unavailable: " + e.getMessage());
      return false;
    }
  }

  String setting(String name) throws SQLException {
    try (Statement st = control.createStatement(); ResultSet rs = st.executeQuery("SHOW " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }

  Map<String, String> settings() throws SQLException {
    Map<String, String> m = new LinkedHashMap<>();
    for (String s : SHOWN_SETTINGS) {
      m.put(s, setting(s));
    }
    return m;
  }

  void exec(String sql) throws SQLException {
    try (Statement st = control.createStatement()) {
      st.execute(sql);
    }
  }

  long queryLong(String sql) throws SQLException {
    try (Statement st = control.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** A checkpoint before each timed run, so that none lands inside one by chance of timing. */
  void checkpoint() {
    try {
      exec("CHECKPOINT");
    } catch (SQLException e) {
      // not allowed for this role on a foreign server: runs are then a little noisier
    }
  }

  /** Vacuum and analyze que_jobs, then checkpoint: the state every timed run starts from. */
  void settle() throws SQLException {
    exec("VACUUM (ANALYZE) que_jobs");
    checkpoint();
  }

  /** Waits until no session but ours is connected to {@code db}, so that their statistics are flushed. */
  void awaitQuiet(String db, Duration timeout) throws SQLException {
    awaitQuiet(db, timeout, "");
  }

  /** As {@link #awaitQuiet(String, Duration)}, not counting sessions named {@code exceptApp}. */
  void awaitQuiet(String db, Duration timeout, String exceptApp) throws SQLException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try (var ps = control.prepareStatement(
          "SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
              + " AND application_name <> ?")) {
        ps.setString(1, db);
        ps.setString(2, exceptApp);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getLong(1) == 0) {
            sleep(Duration.ofMillis(100));
            return;
          }
        }
      }
      sleep(Duration.ofMillis(20));
    }
  }

  /** Waits until at least {@code n} sessions named {@code app} are connected; false on timeout. */
  boolean awaitSessions(String app, int n, Duration timeout) throws SQLException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try (var ps = control.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?")) {
        ps.setString(1, app);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getLong(1) >= n) {
            return true;
          }
        }
      }
      sleep(Duration.ofMillis(20));
    }
    return false;
  }

  /** pgbench from the server binaries, else from the PATH; null when there is none. */
  Path pgbench() {
    if (pgBin != null && Files.isExecutable(pgBin.resolve("pgbench"))) {
      return pgBin.resolve("pgbench");
    }
    for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!p.isEmpty() && Files.isExecutable(Path.of(p, "pgbench"))) {
        return Path.of(p, "pgbench");
      }
    }
    return null;
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    try {
      control.close();
    } catch (SQLException ignored) {
      // going away
    }
    if (ownCluster) {
      return; // the cluster goes with the JVM
    }
    try (Connection c = server.connect(); Statement st = c.createStatement()) {
      for (String db : createdDatabases) {
        st.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      }
    } catch (SQLException e) {
      System.err.println("[bench] could not drop the databases " + createdDatabases + ": " + e.getMessage());
    }
  }

  static Path tempFile(String prefix, String content) {
    try {
      Path p = Files.createTempFile(prefix, ".sql");
      Files.writeString(p, content);
      p.toFile().deleteOnExit();
      return p;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
