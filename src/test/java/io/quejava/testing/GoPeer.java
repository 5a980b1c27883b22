package io.quejava.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The compat suite's Go peer ({@code compat-tests/go/peer}, the real que-go v1.0.1) for tests outside
 * the compat package, such as the extensions' proof that Go-enqueued jobs wake Java workers and that
 * Go workers run unchanged with the extensions installed. Same command line as the suite's
 * (compat-tests/README.md); {@code QUE_COMPAT_PEER_GO} replaces the executable. The first run may
 * build the peer (go build), so its timeout is long.
 */
public final class GoPeer {
  private static final Path ROOT = findRoot();

  private GoPeer() {}

  /** What a finished run left. */
  public record Result(int exit, String stdout, String stderr) {
    /** Asserts exit status 0 and returns this. */
    public Result ok() {
      if (exit != 0) {
        throw new AssertionError("go peer exited " + exit + "\n--- stdout:\n" + stdout + "\n--- stderr:\n" + stderr);
      }
      return this;
    }
  }

  /** A fresh database of the test server (the peer uses its public schema); dropped by {@link Db#close()}. */
  public record Db(TestDatabase.Endpoint endpoint) implements AutoCloseable {
    public static Db create(String prefix) {
      return new Db(TestDatabase.newDatabase(prefix));
    }

    /** The libpq URL the peer takes, with an application_name to find its sessions by. */
    public String url(String applicationName) {
      return endpoint.libpqUrl() + "&application_name=" + applicationName;
    }

    @Override
    public void close() throws SQLException {
      try (Connection c = endpoint.withDatabase("postgres").connect(); Statement st = c.createStatement()) {
        st.execute("DROP DATABASE IF EXISTS " + endpoint.database() + " WITH (FORCE)");
      }
    }
  }

  /** Runs {@code peer <args...>} and waits for it. */
  public static Result run(Duration timeout, String... args) {
    try (Running r = start(args)) {
      return r.await(timeout);
    }
  }

  /** Starts {@code peer <args...>} in the background. */
  public static Running start(String... args) {
    return new Running(Arrays.asList(args));
  }

  /** A running peer; its output goes to temporary files. */
  public static final class Running implements AutoCloseable {
    private final Process process;
    private final Path out;
    private final Path err;
    private final List<String> command = new ArrayList<>();

    private Running(List<String> args) {
      String override = System.getProperty("QUE_COMPAT_PEER_GO", System.getenv("QUE_COMPAT_PEER_GO"));
      command.add(override != null && !override.isBlank() ? override
          : ROOT.resolve("compat-tests").resolve("go").resolve("peer").toString());
      command.addAll(args);
      try {
        out = Files.createTempFile("ext-go-peer-", ".out");
        err = Files.createTempFile("ext-go-peer-", ".err");
        process = new ProcessBuilder(command).directory(ROOT.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start " + command, e);
      }
    }

    /** Waits for the exit; past the timeout the process is killed and the test fails. */
    public Result await(Duration timeout) {
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly();
          throw new AssertionError("go peer did not finish within " + timeout + ": " + command
              + "\n--- stderr:\n" + read(err));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + command, e);
      }
      return new Result(process.exitValue(), read(out), read(err));
    }

    @Override
    public void close() {
      if (process.isAlive()) {
        process.destroyForcibly();
        try {
          process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      try {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      } catch (IOException ignored) {
        // temporary files
      }
    }

    private static String read(Path p) {
      try {
        return Files.readString(p, StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(cannot read " + p + ")";
      }
    }
  }

  private static Path findRoot() {
    Path p = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    for (Path q = p; q != null; q = q.getParent()) {
      if (Files.isDirectory(q.resolve("compat-tests")) && Files.exists(q.resolve("pom.xml"))) {
        return q;
      }
    }
    return p;
  }
}
