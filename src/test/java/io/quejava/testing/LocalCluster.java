package io.quejava.testing;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL cluster started from the server binaries on the machine
 * ({@code QUE_TEST_PG_BIN}, else the newest /usr/lib/postgresql/N/bin, else pg_ctl on the PATH).
 * PostgreSQL refuses to run as root, so under root the server runs as the {@code postgres} OS user.
 * Durability is off (fsync, synchronous_commit) unless the caller's settings turn it back on: test
 * data lives for one test JVM. The benchmark ({@code bench/}) starts its cluster here too, and the
 * fault suite starts a durable one it crashes and restarts ({@link #start(List)}).
 */
public final class LocalCluster {
  private LocalCluster() {}

  static TestDatabase.Endpoint startIfPossible() {
    return startIfPossible(List.of());
  }

  /**
   * Starts a cluster with {@code settings} ({@code name=value}, passed as {@code -c}) after the test
   * defaults, which they override; null when there are no binaries or the server did not start.
   */
  public static TestDatabase.Endpoint startIfPossible(List<String> settings) {
    try {
      Cluster cluster = start(settings);
      return cluster == null ? null : cluster.endpoint();
    } catch (IOException | RuntimeException e) {
      System.err.println("[que-java tests] local PostgreSQL from " + findBin() + " did not start: " + e.getMessage());
      return null;
    }
  }

  /**
   * Starts a cluster the caller controls: it can crash it ({@code pg_ctl -m immediate stop}), start it
   * again on the same port and data directory, and stop it for good with {@link Cluster#close()} (a
   * shutdown hook does that too if the caller never does). {@code settings} as for
   * {@link #startIfPossible(List)}. Null when there are no binaries or no {@code postgres} OS user to
   * run them as root; an exception when the server did not start.
   */
  public static Cluster start(List<String> settings) throws IOException {
    return start(settings, null);
  }

  /**
   * As {@link #start(List)}, with {@code hbaConf} (when not null) as the cluster's pg_hba.conf instead
   * of initdb's trust-everyone one: for tests of logins that need a password. The file is written into
   * the data directory before the first start, so it goes with the cluster.
   */
  public static Cluster start(List<String> settings, String hbaConf) throws IOException {
    Path bin = findBin();
    if (bin == null) {
      return null;
    }
    boolean root = "root".equals(System.getProperty("user.name"));
    if (root && !userExists("postgres")) {
      System.err.println("[que-java tests] running as root with no 'postgres' OS user; skipping local binaries");
      return null;
    }
    Path dir = Files.createTempDirectory("que-java-pg-");
    try {
      if (root) {
        UserPrincipal pgUser = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
        Files.setOwner(dir, pgUser);
      }
      Path data = dir.resolve("data");
      int port = freePort();
      run(root, bin.resolve("initdb").toString(), "-D", data.toString(), "-A", "trust", "-U", "postgres",
          "-E", "UTF8", "--no-locale", "--no-sync");
      if (hbaConf != null) {
        Files.writeString(data.resolve("pg_hba.conf"), hbaConf); // initdb's file: its owner and mode stay
      }
      String opts = "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c max_connections=300"
          + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
      for (String setting : settings) {
        opts += " -c " + setting;
      }
      Cluster cluster = new Cluster(bin, root, dir, data, port, opts);
      try {
        cluster.start();
      } catch (IOException | RuntimeException e) {
        cluster.close(); // a server that came up too slowly for pg_ctl -w is stopped, not left behind
        throw e;
      }
      return cluster;
    } catch (IOException | RuntimeException e) {
      deleteTree(dir);
      throw e;
    }
  }

  /** A cluster started by {@link #start(List)}: one data directory, one port, restartable. */
  public static final class Cluster implements AutoCloseable {
    private final Path bin;
    private final boolean root;
    private final Path dir;
    private final Path data;
    private final int port;
    private final String opts;
    private final Thread hook;
    private boolean closed;

    private Cluster(Path bin, boolean root, Path dir, Path data, int port, String opts) {
      this.bin = bin;
      this.root = root;
      this.dir = dir;
      this.data = data;
      this.port = port;
      this.opts = opts;
      this.hook = new Thread(this::stopAndDelete, "que-test-cluster-" + port);
      Runtime.getRuntime().addShutdownHook(hook);
    }

    public TestDatabase.Endpoint endpoint() {
      return new TestDatabase.Endpoint("127.0.0.1", port, "postgres", null, "postgres", "local binaries in " + bin);
    }

    /** The server's log file (all of its starts append to it). */
    public Path serverLog() {
      return dir.resolve("server.log");
    }

    /** Starts the server (again) on its port and waits until it accepts connections (crash recovery included). */
    public synchronized void start() throws IOException {
      if (closed) {
        throw new IllegalStateException("cluster on port " + port + " was closed");
      }
      run(root, bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "120", "-o", opts,
          "-l", serverLog().toString(), "start");
    }

    /**
     * Stops the server as a crash does: {@code pg_ctl -m immediate stop} (SIGQUIT to the postmaster, no
     * checkpoint; the next start replays the WAL). Returns when the postmaster has exited.
     */
    public synchronized void crash() throws IOException {
      run(root, bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "-t", "60", "stop");
    }

    /** The last {@code maxChars} characters of the server log, for failure messages. */
    public String logTail(int maxChars) {
      try {
        String log = Files.readString(serverLog());
        return log.length() <= maxChars ? log : "..." + log.substring(log.length() - maxChars);
      } catch (IOException e) {
        return "(cannot read " + serverLog() + ": " + e.getMessage() + ")";
      }
    }

    /** Stops the server (immediately) and deletes its directory. */
    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      stopAndDelete();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException alreadyExiting) {
        // the hook runs (or ran) anyway
      }
    }

    private synchronized void stopAndDelete() {
      if (closed) {
        return;
      }
      closed = true;
      if (Files.exists(data.resolve("postmaster.pid"))) {
        try {
          run(root, bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "stop");
        } catch (IOException | RuntimeException e) {
          System.err.println("[que-java tests] stopping the cluster on port " + port + ": " + e.getMessage());
        }
      }
      deleteTree(dir);
    }
  }

  /** The directory of the server binaries a cluster would be started from, or null. */
  public static Path findBin() {
    String env = System.getenv("QUE_TEST_PG_BIN");
    if (env != null && Files.isExecutable(Path.of(env, "pg_ctl"))) {
      return Path.of(env);
    }
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> versions = Files.list(debian)) {
        Path best = versions
            .map(v -> v.resolve("bin"))
            .filter(b -> Files.isExecutable(b.resolve("pg_ctl")) && Files.isExecutable(b.resolve("initdb")))
            .max(Comparator.comparingInt(b -> versionOf(b.getParent().getFileName().toString())))
            .orElse(null);
        if (best != null) {
          return best;
        }
      } catch (IOException ignored) {
        // fall through to the PATH
      }
    }
    for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!p.isEmpty() && Files.isExecutable(Path.of(p, "pg_ctl")) && Files.isExecutable(Path.of(p, "initdb"))) {
        return Path.of(p);
      }
    }
    return null;
  }

  private static int versionOf(String name) {
    try {
      return Integer.parseInt(name);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static boolean userExists(String user) {
    try {
      return Files.readAllLines(Path.of("/etc/passwd")).stream().anyMatch(l -> l.startsWith(user + ":"));
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void run(boolean asPostgres, String... command) throws IOException {
    List<String> cmd = new ArrayList<>();
    if (asPostgres) {
      cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    cmd.addAll(List.of(command));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output;
    try {
      output = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " timed out");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + output);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
  }
}
