package io.quejava.bench;

import io.quejava.Client;
import io.quejava.NewJob;
import io.quejava.WorkerPool;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The que-java benchmark: que-java beside que-go (the real v1.0.1, through the Go compat peer) and
 * beside the database's own floor (pgbench running the same per-job SQL; COPY for batch enqueue),
 * measured in one run on one database. Prints a Markdown table.
 *
 * <pre>
 * mvn -q test-compile exec:java@bench                                  # full run, ~10 min
 * mvn -q test-compile exec:java@bench -Dexec.args="--quick"            # smoke run, ~2 min
 * mvn -q test-compile exec:java@bench -Dexec.args="--only work,enqueue"
 * </pre>
 *
 * See bench/README.md for what each scenario measures and how.
 */
public final class Bench {
  static final List<String> SCENARIOS = List.of("enqueue", "work", "latency", "backlog", "idle", "stats", "metrics", "dashboard");

  static final String USAGE = """
      usage: mvn -q test-compile exec:java@bench [-Dexec.args="OPTIONS"]
        --quick                 smoke run at a small scale (~2 min)
        --only LIST             scenarios to run, comma-separated: enqueue,work,latency,backlog,idle,stats,
                                metrics,dashboard
        --url URL               use this server (postgres://user:pw@host:port/db) instead of a
                                throwaway cluster; also QUE_BENCH_DATABASE_URL. A database is
                                created in it for the run and dropped afterwards
        --unsafe                throwaway cluster with fsync, synchronous_commit and
                                full_page_writes off (default: all on, as a production server)
        --pg-setting NAME=VALUE extra server setting for the throwaway cluster (repeatable)
        --jobs N                jobs drained per run in the work scenario (default 50000)
        --workers LIST          worker counts of the work scenario (default 1,4,8,16)
        --max-seconds S         cap of each drain in the work and backlog scenarios (default 10)
        --no-go                 leave que-go out
      """;

  /** The command line. */
  static final class Options {
    boolean quick;
    Set<String> only = new LinkedHashSet<>(SCENARIOS);
    String url = blankToNull(System.getenv("QUE_BENCH_DATABASE_URL"));
    boolean unsafe;
    List<String> pgSettings = new ArrayList<>();
    Integer jobs;
    List<Integer> workers;
    Integer maxSeconds;
    boolean noGo;

    static Options parse(String[] args) {
      Options o = new Options();
      List<String> a = new ArrayList<>();
      for (String s : args) {
        a.addAll(Arrays.asList(s.trim().split("\\s+")));
      }
      a.removeIf(String::isEmpty);
      for (int i = 0; i < a.size(); i++) {
        String k = a.get(i);
        String v = k.contains("=") && k.startsWith("--") ? k.substring(k.indexOf('=') + 1) : null;
        if (v != null) {
          k = k.substring(0, k.indexOf('='));
        }
        switch (k) {
          case "--quick" -> o.quick = true;
          case "--unsafe" -> o.unsafe = true;
          case "--no-go" -> o.noGo = true;
          case "--only", "--url", "--pg-setting", "--jobs", "--workers", "--max-seconds" -> {
            if (v == null) {
              if (i + 1 >= a.size()) {
                throw new IllegalArgumentException(k + " needs a value");
              }
              v = a.get(++i);
            }
            switch (k) {
              case "--only" -> {
                o.only = new LinkedHashSet<>();
                for (String s : v.split(",")) {
                  if (!SCENARIOS.contains(s)) {
                    throw new IllegalArgumentException("unknown scenario '" + s + "'; know " + SCENARIOS);
                  }
                  o.only.add(s);
                }
              }
              case "--url" -> o.url = v;
              case "--pg-setting" -> o.pgSettings.add(v);
              case "--jobs" -> o.jobs = Integer.parseInt(v);
              case "--max-seconds" -> o.maxSeconds = Integer.parseInt(v);
              default -> o.workers = Arrays.stream(v.split(",")).map(Integer::parseInt).toList();
            }
          }
          case "-h", "--help" -> throw new IllegalArgumentException("");
          default -> throw new IllegalArgumentException("unknown option '" + k + "'");
        }
      }
      if (o.url != null && (o.unsafe || !o.pgSettings.isEmpty())) {
        throw new IllegalArgumentException("--unsafe and --pg-setting apply to the throwaway cluster, not to --url");
      }
      return o;
    }

    /** Jobs per work run. */
    int workJobs() {
      return jobs != null ? jobs : quick ? 10_000 : 50_000;
    }

    List<Integer> workCounts() {
      return workers != null ? workers : quick ? List.of(1, 8) : List.of(1, 4, 8, 16);
    }

    /** The longest a drain runs before its figures are taken from the jobs worked so far. */
    Duration cap() {
      return Duration.ofSeconds(maxSeconds != null ? maxSeconds : quick ? 3 : 10);
    }

    /** Seconds each enqueue measurement runs in all (in slices; see EnqueueBench). */
    double enqueueSeconds() {
      return quick ? 2 : 6;
    }

    int batchCalls() {
      return quick ? 3 : 10;
    }
  }

  /** What every scenario shares. */
  static final class Ctx {
    final Options options;
    final Env env;
    final Report report = new Report();
    final StatementProfile profile;
    final GoPeer go;
    final Pgbench pgbench;
    final Client client;
    final int cores = Runtime.getRuntime().availableProcessors();

    Ctx(Options options, Env env, GoPeer go, Pgbench pgbench) {
      this.options = options;
      this.env = env;
      this.go = go;
      this.pgbench = pgbench;
      this.profile = new StatementProfile(env);
      this.client = Client.create(Env.dataSource(env.bench, "que-bench-java"));
    }

    boolean hasGo() {
      return go != null && go.available();
    }

    Report.Cell goMissing() {
      return Report.Cell.na(go == null ? "n/a (--no-go)" : "n/a (Go peer unavailable)");
    }
  }

  private static final long START = System.nanoTime();

  static void progress(String msg) {
    System.err.printf(Locale.ROOT, "[bench %5.0fs] %s%n", (System.nanoTime() - START) / 1e9, msg);
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      if (!e.getMessage().isEmpty()) {
        System.err.println("bench: " + e.getMessage());
      }
      System.err.print(USAGE);
      System.exit(2);
      return;
    }
    int failures = 0;
    Path root = repoRoot();
    progress(o.url != null ? "connecting to --url" : "starting a throwaway PostgreSQL");
    try (Env env = Env.open(o.url, o.unsafe, o.pgSettings)) {
      GoPeer go = null;
      if (!o.noGo) {
        progress("building/probing the Go peer (compat-tests/go/peer)");
        go = GoPeer.find(root);
        if (!go.available()) {
          progress("que-go is n/a: " + go.unavailableReason());
        }
      }
      Pgbench pgbench = env.pgbench() != null ? new Pgbench(env.pgbench(), Runtime.getRuntime().availableProcessors()) : null;
      Ctx ctx = new Ctx(o, env, go, pgbench);
      String header = header(ctx, root);
      System.out.println(header);
      System.out.flush();
      if (o.only.stream().anyMatch(s -> !s.equals("idle") && !s.equals("stats"))) {
        warmUp(ctx);
      }
      for (String s : o.only) {
        progress("scenario " + s);
        try {
          switch (s) {
            case "enqueue" -> EnqueueBench.run(ctx);
            case "work" -> WorkBench.run(ctx);
            case "latency" -> LatencyBench.run(ctx);
            case "backlog" -> BacklogBench.run(ctx);
            case "stats" -> StatsBench.run(ctx);
            case "metrics" -> MetricsBench.run(ctx);
            case "dashboard" -> DashboardBench.run(ctx);
            default -> IdleBench.run(ctx);
          }
        } catch (Exception | AssertionError e) {
          failures++;
          progress("scenario " + s + " FAILED: " + e);
          e.printStackTrace();
          ctx.report.note("Scenario " + s + " failed: " + e.getMessage());
        }
      }
      ctx.report.note(legend(ctx));
      String profile = StatementProfile.header() + "\n" + String.join("\n", ctx.profile.lines());
      String total = String.format(Locale.ROOT, "Total run time: %.0f s; load average at the end: %s.",
          (System.nanoTime() - START) / 1e9, loadAverage());
      PrintStream out = System.out;
      out.println();
      ctx.report.print(out);
      out.println();
      if (!ctx.profile.lines().isEmpty()) {
        out.println("Where the time goes (pg_stat_statements for the bench database, pg_stat_wal for the cluster; per job):");
        out.println();
        out.println(profile);
        out.println();
      }
      out.println(total);
      saveCopy(root, header, ctx, profile, total);
    }
    System.exit(failures > 0 ? 1 : 0);
  }

  /** A little of everything first, so the JIT has compiled the hot paths before the first timed run. */
  private static void warmUp(Ctx ctx) throws Exception {
    progress("warming up the JVM");
    Env env = ctx.env;
    env.exec("TRUNCATE que_jobs");
    try (FixedPool pool = new FixedPool(Env.dataSource(env.bench, "que-bench-warmup"), 1)) {
      Client c = Client.create(pool);
      long until = System.nanoTime() + (ctx.options.quick ? 1_000_000_000L : 4_000_000_000L);
      int single = 0;
      while (System.nanoTime() < until) {
        c.enqueue(NewJob.of(JavaDrain.NOOP));
        single++;
      }
      for (int k = 0; k < 3; k++) {
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
          batch.add(NewJob.of(JavaDrain.NOOP));
        }
        c.enqueueAll(batch);
      }
      JavaDrain d = new JavaDrain(single + 30_000, null);
      WorkerPool workers = d.start(ctx.client, 4, Duration.ofMillis(100));
      d.await(workers, Duration.ofMinutes(5), true);
    }
    env.exec("TRUNCATE que_jobs");
  }

  static String header(Ctx ctx, Path root) throws Exception {
    Env env = ctx.env;
    StringBuilder sb = new StringBuilder();
    sb.append("# que-java benchmark\n\n");
    sb.append("- date: ").append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"))).append('\n');
    sb.append("- que-java: ").append(gitDescription(root)).append('\n');
    sb.append("- machine: ").append(ctx.cores).append(" cores (").append(cpuModel()).append("), ")
        .append(memory()).append(" memory, ").append(System.getProperty("os.name")).append(' ')
        .append(System.getProperty("os.version")).append(", Java ").append(System.getProperty("java.vm.name"))
        .append(' ').append(System.getProperty("java.version")).append('\n');
    sb.append("- PostgreSQL: ").append(env.setting("server_version")).append(", ").append(env.source)
        .append(", over TCP from the same machine\n");
    Map<String, String> settings = env.settings();
    sb.append("- settings: ").append(settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(", "))).append('\n');
    boolean durable = "on".equals(settings.get("fsync")) && "on".equals(settings.get("synchronous_commit"));
    sb.append("- durability: ").append(durable ? "durable (fsync and synchronous_commit on: every commit waits for its WAL flush)"
        : "NOT durable (fsync or synchronous_commit off): commits do not wait for the disk").append('\n');
    sb.append("- que-go: ").append(ctx.hasGo() ? goVersions(root) : ctx.goMissing().text()
        + (ctx.go != null ? ": " + ctx.go.unavailableReason() : "")).append('\n');
    sb.append("- floor: ").append(ctx.pgbench != null ? "pgbench from " + env.pgbench() + " (prepared statements)"
        : "n/a (no pgbench found)").append("; COPY through pgjdbc\n");
    sb.append("- statement counts: ").append(env.pgss ? "pg_stat_statements" : "n/a (pg_stat_statements not loaded)").append('\n');
    sb.append("- scale: ").append(ctx.options.quick ? "--quick (smoke run; figures are rough)" : "default").append('\n');
    sb.append("- load average at the start: ").append(loadAverage())
        .append(" (anything else running on the machine competes for its cores)\n");
    return sb.toString();
  }

  private static String legend(Ctx ctx) {
    return """
        Ratios are que-java / other. For jobs/s above 1 means que-java is faster; for ms and queries/s \
        below 1 means que-java is better. Floors: single enqueue = pgbench, one prepared INSERT per \
        transaction; batch enqueue = COPY of the same number of rows per call; work and backlog = \
        pgbench running the classic protocol's per-job SQL (lock walk, re-check by the 4-column key, \
        DELETE by the key, pg_advisory_unlock), one job per script run, with jobs lost to lock races \
        not counted; "que-java's batch SQL" = the statements que-java's WorkerPool sends at full \
        prefetch: per batch of up to 16 jobs (the default prefetch) one walk, one re-check and one \
        unlock, and one DELETE per \
        job; "its batched SQL" = the same with batchedCompletion: per batch of up to 32 one walk, one \
        re-check, ONE DELETE of the batch and one unlock (pgbench clients cannot pass over each other's \
        held jobs as a pool's workers do).""";
  }

  private static void saveCopy(Path root, String header, Ctx ctx, String profile, String total) {
    try {
      Path dir = root.resolve("target").resolve("bench");
      Files.createDirectories(dir);
      java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
      try (PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
        p.println(header);
        ctx.report.print(p);
        p.println();
        p.println(profile);
        p.println();
        p.println(total);
      }
      Path file = dir.resolve("results-" + ZonedDateTime.now(ZoneOffset.UTC)
          .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".md");
      Files.write(file, buf.toByteArray());
      progress("results also written to " + file);
    } catch (IOException e) {
      progress("could not save a copy of the results: " + e.getMessage());
    }
  }

  static Path repoRoot() {
    Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path q = p; q != null; q = q.getParent()) {
      if (Files.isDirectory(q.resolve("bench")) && Files.exists(q.resolve("pom.xml"))) {
        return q;
      }
    }
    return p;
  }

  private static String gitDescription(Path root) {
    try {
      Proc.Result head = Proc.run(List.of("git", "rev-parse", "--short", "HEAD"), root, Map.of(), Duration.ofSeconds(10));
      Proc.Result dirty = Proc.run(List.of("git", "status", "--porcelain", "--", "src/main", "migrations"), root, Map.of(),
          Duration.ofSeconds(10));
      if (head.exit() != 0) {
        return "unknown commit";
      }
      return "commit " + head.stdout().strip()
          + (dirty.stdout().isBlank() ? "" : " plus uncommitted changes in src/main (measured as they are)");
    } catch (RuntimeException e) {
      return "unknown commit";
    }
  }

  private static String goVersions(Path root) {
    String queGo = "?";
    String pgx = "?";
    try {
      String mod = Files.readString(root.resolve("compat-tests/go/go.mod"));
      queGo = find(mod, "github.com/bgentry/que-go (\\S+)");
      pgx = find(mod, "github.com/jackc/pgx (\\S+)");
    } catch (IOException ignored) {
      // versions stay unknown
    }
    String goVersion;
    try {
      goVersion = Proc.run(List.of("go", "version"), null, Map.of(), Duration.ofSeconds(20)).stdout().strip();
    } catch (RuntimeException e) {
      goVersion = "go version unknown";
    }
    return "github.com/bgentry/que-go " + queGo + " on pgx " + pgx + " (" + goVersion
        + "), through compat-tests/go/peer bench-enqueue / bench-work";
  }

  private static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? m.group(1) : "?";
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
    } catch (IOException e) {
      return "unknown CPU";
    }
  }

  private static String memory() {
    try {
      String kb = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
          .map(l -> l.replaceAll("\\D", "")).findFirst().orElse("0");
      return String.format(Locale.ROOT, "%.1f GiB", Long.parseLong(kb) / 1024.0 / 1024.0);
    } catch (IOException | NumberFormatException e) {
      return "unknown";
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}
