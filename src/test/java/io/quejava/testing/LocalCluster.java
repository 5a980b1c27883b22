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
 * data lives for one test JVM. The benchmark ({@code bench/}) starts its cluster here too.
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
    Path bin = findBin();
    if (bin == null) {
      return null;
    }
    boolean root = "root".equals(System.getProperty("user.name"));
    if (root && !userExists("postgres")) {
      System.err.println("[que-java tests] running as root with no 'postgres' OS user; skipping local binaries");
      return null;
    }
    try {
      Path dir = Files.createTempDirectory("que-java-pg-");
      if (root) {
        UserPrincipal pgUser = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
        Files.setOwner(dir, pgUser);
      }
      Path data = dir.resolve("data");
      int port = freePort();
      run(root, bin.resolve("initdb").toString(), "-D", data.toString(), "-A", "trust", "-U", "postgres",
          "-E", "UTF8", "--no-locale", "--no-sync");
      String opts = "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c max_connections=300"
          + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
      for (String setting : settings) {
        opts += " -c " + setting;
      }
      run(root, bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-o", opts,
          "-l", dir.resolve("server.log").toString(), "start");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          run(root, bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "stop");
        } catch (IOException | RuntimeException ignored) {
          // the JVM is exiting; the temp dir goes with the machine
        }
        deleteTree(dir);
      }));
      return new TestDatabase.Endpoint("127.0.0.1", port, "postgres", null, "postgres", "local binaries in " + bin);
    } catch (IOException | RuntimeException e) {
      System.err.println("[que-java tests] local PostgreSQL from " + bin + " did not start: " + e.getMessage());
      return null;
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
