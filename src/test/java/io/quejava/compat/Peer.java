package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;

/**
 * One compat peer: an executable under {@code compat-tests/<name>/peer} that speaks the shared
 * command line (migrate, enqueue, work; see compat-tests/README.md). Runs it as a child process with
 * a timeout, or starts it in the background.
 *
 * <p>Two peers share {@code compat-tests/ruby/peer}: {@code ruby} (que 0.14.3, schema 3) and
 * {@code ruby2} (que 2.4.x, schema 7); the driver picks the target with {@code QUE_RUBY_TARGET}.
 *
 * <p>{@code QUE_COMPAT_PEER_<NAME>} (environment or system property) replaces the executable, e.g.
 * {@code QUE_COMPAT_PEER_GO=/opt/my-que-go-peer}. A peer that exits 3 with a {@code SKIPPED:} line is
 * unavailable: its scenarios are skipped, unless it is listed in {@code QUE_COMPAT_REQUIRE}
 * (comma-separated; java and go are always required).
 */
final class Peer {
  static final Path ROOT = findRoot();
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(90);
  /** The first call of a peer may build it (mvn compile, go build). */
  static final Duration BUILD_TIMEOUT = Duration.ofMinutes(10);

  static final Peer JAVA = new Peer("java", "Java", "java", 3, Map.of());
  static final Peer GO = new Peer("go", "Go", "go", 3, Map.of());
  static final Peer RUBY = new Peer("ruby", "Ruby", "ruby", 3, Map.of("QUE_RUBY_TARGET", "0.14.3"));
  static final Peer RUBY2 = new Peer("ruby2", "Ruby que2", "ruby", 7, Map.of("QUE_RUBY_TARGET", "que2"));
  static final List<Peer> ALL = List.of(JAVA, GO, RUBY, RUBY2);
  /** The peers Java is paired with. */
  static final List<Peer> OTHERS = List.of(GO, RUBY, RUBY2);

  final String name;
  final String label;
  final Path executable;
  /**
   * The que_jobs schema the peer's library speaks: 3 (que-go, Ruby Que 0.x) or 7 (Ruby Que 2.x). Java
   * speaks both and takes its partner's.
   */
  final int schema;
  private final Map<String, String> env;
  private volatile Availability availability;

  /** Whether the peer runs here; {@code reason} says why not. */
  record Availability(boolean available, boolean skippable, String reason) {}

  private Peer(String name, String label, String dir, int schema, Map<String, String> env) {
    this.name = name;
    this.label = label;
    this.schema = schema;
    this.env = env;
    String override = setting("QUE_COMPAT_PEER_" + name.toUpperCase(Locale.ROOT));
    this.executable = override != null ? Path.of(override).toAbsolutePath()
        : ROOT.resolve("compat-tests").resolve(dir).resolve("peer");
  }

  /** True for a peer on the modern schema (4-7: Que 1.x/2.x). */
  boolean modern() {
    return schema >= 4;
  }

  @Override
  public String toString() {
    return name;
  }

  static String setting(String key) {
    String v = System.getProperty(key, System.getenv(key));
    return v == null || v.isBlank() ? null : v.trim();
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

  private static Set<String> required() {
    String v = setting("QUE_COMPAT_REQUIRE");
    Set<String> names = new java.util.HashSet<>(Set.of("java", "go"));
    if (v != null) {
      Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty())
          .map(s -> s.toLowerCase(Locale.ROOT)).forEach(names::add);
    }
    return names;
  }

  /** Probes (and so builds) every peer in parallel; called once before the first scenario. */
  static void probeAll() {
    CompletableFuture.allOf(ALL.stream()
        .map(p -> CompletableFuture.runAsync(p::availability))
        .toArray(CompletableFuture[]::new)).join();
  }

  /** Runs the peer once with no arguments (it builds itself, then exits 2 with its usage, or 3). */
  Availability availability() {
    Availability a = availability;
    if (a == null) {
      synchronized (this) {
        a = availability;
        if (a == null) {
          a = probe();
          availability = a;
          System.err.println("[compat] peer " + name + " (" + executable + "): "
              + (a.available() ? "available" : "UNAVAILABLE: " + a.reason()));
        }
      }
    }
    return a;
  }

  private Availability probe() {
    boolean skippable = !required().contains(name);
    if (!Files.isExecutable(executable)) {
      return new Availability(false, skippable, executable + " is not an executable file");
    }
    PeerResult r;
    try {
      r = run(BUILD_TIMEOUT, List.of());
    } catch (AssertionError | RuntimeException e) {
      return new Availability(false, false, "probe failed: " + e.getMessage());
    }
    if (r.exit() == 2) {
      return new Availability(true, skippable, "");
    }
    if (r.exit() == 3) {
      String line = r.stdout().lines().filter(l -> l.startsWith("SKIPPED:")).findFirst()
          .orElse("SKIPPED: (no reason given)");
      return new Availability(false, skippable, line);
    }
    // A broken build or a missing tool chain is never a skip.
    return new Availability(false, false, "probe exited " + r.exit() + " (expected 2 for usage): " + PeerResult.tail(r.stderr(), 1500));
  }

  /**
   * Returns when the peer can run; aborts the test (JUnit skip) when it reported SKIPPED and is not
   * required; fails it otherwise.
   */
  void require() {
    Availability a = availability();
    if (a.available()) {
      return;
    }
    if (a.skippable()) {
      Assumptions.abort(label + " peer unavailable: " + a.reason());
    }
    fail(label + " peer cannot run: " + a.reason());
  }

  /** {@code peer <sub> --url URL <flags>} with the default timeout; any exit status. */
  PeerResult cmd(CompatDb db, String sub, String... flags) {
    return cmd(DEFAULT_TIMEOUT, db.url(), sub, flags);
  }

  PeerResult cmd(Duration timeout, String url, String sub, String... flags) {
    List<String> args = new ArrayList<>();
    args.add(sub);
    args.add("--url");
    args.add(url);
    args.addAll(Arrays.asList(flags));
    return run(timeout, args);
  }

  /** Starts {@code peer <sub> --url URL <flags>} in the background. */
  Running start(String url, String sub, String... flags) {
    List<String> args = new ArrayList<>();
    args.add(sub);
    args.add("--url");
    args.add(url);
    args.addAll(Arrays.asList(flags));
    return new Running(this, args);
  }

  PeerResult run(Duration timeout, List<String> args) {
    try (Running r = new Running(this, args)) {
      return r.await(timeout);
    }
  }

  /** A peer process; its output goes to temporary files so that no pipe can fill up. */
  static final class Running implements AutoCloseable {
    final Peer peer;
    final List<String> command;
    private final Process process;
    private final Path out;
    private final Path err;
    private final long startNanos = System.nanoTime();

    Running(Peer peer, List<String> args) {
      this.peer = peer;
      this.command = new ArrayList<>();
      command.add(peer.executable.toString());
      command.addAll(args);
      try {
        out = Files.createTempFile("compat-" + peer.name + "-", ".out");
        err = Files.createTempFile("compat-" + peer.name + "-", ".err");
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(peer.env);
        pb.directory(ROOT.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
        process = pb.start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start " + command, e);
      }
    }

    long pid() {
      return process.pid();
    }

    boolean isAlive() {
      return process.isAlive();
    }

    /** SIGTERM: the peer's clean shutdown. */
    void term() {
      process.destroy();
    }

    /** SIGKILL: the peer dies mid-job; PostgreSQL drops its session and locks. */
    void kill() {
      process.destroyForcibly();
    }

    String stdoutSoFar() {
      return read(out);
    }

    String stderrSoFar() {
      return read(err);
    }

    /** Waits for the exit; past the timeout the process is killed and the test fails. */
    PeerResult await(Duration timeout) {
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly();
          process.waitFor(10, TimeUnit.SECONDS);
          throw new AssertionError("peer " + peer.name + " did not finish within " + timeout + ": "
              + String.join(" ", command) + "\n--- stdout:\n" + PeerResult.tail(read(out), 2000)
              + "\n--- stderr:\n" + PeerResult.tail(read(err), 4000));
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + command, e);
      }
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
      return new PeerResult(peer.name, List.copyOf(command), process.exitValue(), read(out), read(err), ms);
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
        // temp files
      }
    }

    private static String read(Path p) {
      try {
        return Files.readString(p, StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(cannot read " + p + ": " + e.getMessage() + ")";
      }
    }
  }

  /** What a peer run left: exit status, output, wall time. */
  record PeerResult(String peer, List<String> command, int exit, String stdout, String stderr, long millis) {
    private static final Pattern SUMMARY =
        Pattern.compile("^worked=(\\d+) failed=(\\d+) elapsed_ms=(\\d+)$", Pattern.MULTILINE);

    /** Asserts exit status 0. */
    PeerResult ok() {
      if (exit != 0) {
        throw new AssertionError("peer " + peer + " exited " + exit + ", expected 0\n" + describe());
      }
      return this;
    }

    /** The {@code worked=N failed=N elapsed_ms=M} line. */
    Summary summary() {
      Matcher m = SUMMARY.matcher(stdout);
      Summary s = null;
      while (m.find()) {
        s = new Summary(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
      }
      if (s == null) {
        throw new AssertionError("peer " + peer + " printed no worked=/failed= line\n" + describe());
      }
      return s;
    }

    /** The job ids printed one per line (peers whose API returns them). */
    List<Long> ids() {
      return stdout.lines().filter(l -> l.matches("\\d+")).map(Long::parseLong).collect(Collectors.toList());
    }

    String describe() {
      return "$ " + command.stream().map(PeerResult::shorten).collect(Collectors.joining(" "))
          + "\n--- exit " + exit + " after " + millis + " ms\n--- stdout:\n" + tail(stdout, 2000)
          + "\n--- stderr:\n" + tail(stderr, 4000);
    }

    static String tail(String s, int max) {
      return s.length() <= max ? s : "..." + s.substring(s.length() - max);
    }

    private static String shorten(String arg) {
      return arg.length() > 200 ? arg.substring(0, 200) + "...(" + arg.length() + " chars)" : arg;
    }
  }

  record Summary(long worked, long failed, long elapsedMs) {}
}
