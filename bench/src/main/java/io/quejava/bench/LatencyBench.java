package io.quejava.bench;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.PoolExtension;
import io.quejava.WorkerConfig;
import io.quejava.WorkerPool;
import io.quejava.bench.Bench.Ctx;
import io.quejava.bench.Report.Cell;
import io.quejava.testing.TestDatabase.Endpoint;
import java.lang.reflect.InvocationTargetException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/**
 * Scenario 3: enqueue-to-start latency under light load. One thread enqueues a job every 5 ms
 * (~200 jobs/s) with que-java's Client; each job carries the wall-clock time just before its
 * enqueue, and the handler subtracts it from its own start time. For que-java's pool (same JVM) a
 * second figure is measured from the enqueue's commit: System.nanoTime() right after
 * {@code Client.enqueue} returned (autocommit: its commit is done) against System.nanoTime() at the
 * start of the job's handler. A handler that starts before the enqueuing call has returned counts
 * as a negative latency (the job was running before its enqueuer heard that the commit was done). The workers (4, the WorkerPool
 * default) are que-java's pool or que-go's (Go peer).
 *
 * <p>Each way of waking idle workers is one {@link Mode}: polling with the default wake interval
 * (5 s) and with a short one, and LISTEN/NOTIFY wake-ups from the {@code io.quejava.ext.notify}
 * extension. That one is reached by reflection ({@code install} and {@code create}), so the
 * benchmark builds whatever happens to the extension; its row says "n/a (extension not
 * installed)" when the class is absent. Another way of waking workers is one more Mode.
 */
final class LatencyBench {
  static final int WORKERS = 4;
  static final long PERIOD_NANOS = 5_000_000; // 200 jobs/s
  static final Duration SHORT_WAKE = Duration.ofMillis(100);

  /** The notify extension's entry point: {@code install(DataSource)} and {@code create(DataSource)}. */
  static final String NOTIFY_EXTENSION = "io.quejava.ext.notify.NotifyWakeups";

  /** How idle workers learn of a new job. */
  interface Mode {
    String label();

    /** The wake interval of the pools (que-java's and, when {@link #withGo}, que-go's). */
    Duration wake();

    /** Whether que-go can run this mode too. */
    boolean withGo();

    /** Why the mode cannot run here, or null. */
    default String unavailable() {
      return null;
    }

    /** The database to run in (with whatever the mode installs there). */
    default Endpoint database(Ctx ctx) throws Exception {
      return ctx.env.bench;
    }

    /** Adds what the mode needs to que-java's pool. */
    default void configure(WorkerPool.Builder pool, DataSource dataSource) throws Exception {}
  }

  /** Polling: idle workers look for jobs every wake interval (que-java: one idle worker polls; que-go: each). */
  record Polling(Duration wake, String label) implements Mode {
    @Override
    public boolean withGo() {
      return true;
    }
  }

  /**
   * LISTEN/NOTIFY: the notify extension's trigger announces each insert and its listener wakes an
   * idle worker; polling (default interval) stays underneath. que-go has nothing like it. Runs in a
   * database of its own, so its trigger never touches the other scenarios.
   */
  static final class Notify implements Mode {
    private Endpoint db;

    @Override
    public String label() {
      return "NOTIFY wake-ups (io.quejava.ext.notify), wake interval 5 s";
    }

    @Override
    public Duration wake() {
      return WorkerConfig.DEFAULT_WAKE_INTERVAL;
    }

    @Override
    public boolean withGo() {
      return false;
    }

    @Override
    public String unavailable() {
      try {
        Class.forName(NOTIFY_EXTENSION);
        return null;
      } catch (ClassNotFoundException e) {
        return "n/a (extension not installed)";
      }
    }

    @Override
    public Endpoint database(Ctx ctx) throws Exception {
      if (db == null) {
        db = ctx.env.createDatabase("que_bench_notify");
        DataSource ds = Env.dataSource(db, "que-bench-control");
        Migrator.create(ds).migrate();
        call("install", ds);
      }
      return db;
    }

    @Override
    public void configure(WorkerPool.Builder pool, DataSource dataSource) throws Exception {
      pool.extension((PoolExtension) call("create", dataSource));
    }

    static Object call(String method, DataSource ds) throws Exception {
      try {
        return Class.forName(NOTIFY_EXTENSION).getMethod(method, DataSource.class).invoke(null, ds);
      } catch (InvocationTargetException e) {
        throw e.getCause() instanceof Exception ex ? ex : e;
      }
    }
  }

  private LatencyBench() {}

  static List<Mode> modes() {
    return List.of(
        new Polling(WorkerConfig.DEFAULT_WAKE_INTERVAL, "polling, wake interval 5 s (default)"),
        new Polling(SHORT_WAKE, "polling, wake interval 100 ms"),
        new Notify());
  }

  static void run(Ctx ctx) throws Exception {
    ctx.report.section("3. Latency: enqueue to handler start at ~200 jobs/s, " + WORKERS + " workers");
    for (Mode mode : modes()) {
      if (mode.unavailable() != null) {
        ctx.report.row(mode.label() + ", p50", "ms", Cell.na(mode.unavailable()), Cell.NONE, Cell.NONE);
        continue;
      }
      // Long enough for a few wake intervals at the default, a few seconds otherwise.
      double seconds = mode.wake().toSeconds() >= 5 && mode.withGo()
          ? (ctx.options.quick ? 4 : 15) : (ctx.options.quick ? 2 : 5);
      int jobs = (int) (seconds * 1e9 / PERIOD_NANOS);
      Cell[] java;
      try {
        double[] v = java(ctx, mode, jobs);
        java = new Cell[v.length];
        for (int i = 0; i < v.length; i++) {
          java[i] = Cell.of(v[i]);
        }
      } catch (Exception e) {
        Bench.progress("latency, " + mode.label() + ": que-java failed: " + e);
        java = new Cell[] {Cell.na("error: " + e.getMessage()), Cell.NONE, Cell.NONE,
            Cell.na("error: " + e.getMessage()), Cell.NONE, Cell.NONE};
      }
      Cell[] go = !mode.withGo() ? new Cell[] {Cell.NONE, Cell.NONE, Cell.NONE}
          : ctx.hasGo() ? cells(go(ctx, mode, jobs)) : new Cell[] {ctx.goMissing(), ctx.goMissing(), ctx.goMissing()};
      String[] names = {"p50", "p95", "p99"};
      for (int i = 0; i < names.length; i++) {
        ctx.report.row(mode.label() + ", " + names[i], "ms", java[i], go[i], Cell.NONE);
      }
      for (int i = 0; i < names.length; i++) {
        ctx.report.row(mode.label() + ", from the enqueue's commit, " + names[i], "ms", java[3 + i], Cell.NONE, Cell.NONE);
      }
    }
  }

  private static Cell[] cells(double[] v) {
    return new Cell[] {Cell.of(v[0]), Cell.of(v[1]), Cell.of(v[2])};
  }

  private static double[] java(Ctx ctx, Mode mode, int jobs) throws Exception {
    Bench.progress("latency, " + mode.label() + ": que-java");
    Endpoint db = mode.database(ctx);
    DataSource ds = Env.dataSource(db, "que-bench-java");
    try (var c = ds.getConnection(); var st = c.createStatement()) {
      st.execute("TRUNCATE que_jobs");
    }
    JavaDrain drain = new JavaDrain(jobs, JavaDrain.LATENCY);
    WorkerPool.Builder builder = drain.builder(Client.create(ds), WORKERS, mode.wake());
    mode.configure(builder, ds);
    WorkerPool pool = builder.build();
    pool.start();
    ctx.env.awaitSessions("que-bench-java", WORKERS, Duration.ofSeconds(30));
    Env.sleep(Duration.ofSeconds(1));
    Map<Long, Long> commits = enqueuePaced(db, jobs);
    drain.await(pool, Duration.ofSeconds(60), true);
    double[] ms = drain.latenciesMs();
    double[] fromCommit = commits.entrySet().stream()
        .filter(e -> drain.startNanos.containsKey(e.getKey()))
        .mapToDouble(e -> (drain.startNanos.get(e.getKey()) - e.getValue()) / 1e6)
        .sorted().toArray();
    return new double[] {JavaDrain.percentile(ms, 0.50), JavaDrain.percentile(ms, 0.95), JavaDrain.percentile(ms, 0.99),
        JavaDrain.percentile(fromCommit, 0.50), JavaDrain.percentile(fromCommit, 0.95), JavaDrain.percentile(fromCommit, 0.99)};
  }

  private static double[] go(Ctx ctx, Mode mode, int jobs) throws Exception {
    Bench.progress("latency, " + mode.label() + ": que-go");
    Endpoint db = mode.database(ctx);
    ctx.env.exec("TRUNCATE que_jobs");
    Proc peer = ctx.go.start("bench-work", List.of("--url", Env.libpqUrl(db, "que-bench-go"),
        "--workers", Integer.toString(WORKERS), "--interval-ms", Long.toString(mode.wake().toMillis()),
        "--expect", Integer.toString(jobs), "--expect-class", JavaDrain.LATENCY));
    if (!ctx.env.awaitSessions("que-bench-go", WORKERS + 1, Duration.ofSeconds(30))) {
      throw new IllegalStateException("the Go peer did not connect: " + peer.await(Duration.ofSeconds(5)).tail());
    }
    Env.sleep(Duration.ofSeconds(1));
    enqueuePaced(db, jobs);
    Map<String, String> r = GoPeer.result(peer.await(Duration.ofSeconds(90)));
    return new double[] {ms(r, "p50_us"), ms(r, "p95_us"), ms(r, "p99_us")};
  }

  private static double ms(Map<String, String> r, String key) {
    String v = r.get(key);
    return v == null ? Double.NaN : Long.parseLong(v) / 1000.0;
  }

  /**
   * Enqueues {@code jobs} BenchLatency jobs into {@code db}, one every 5 ms, on a connection of its
   * own; returns System.nanoTime() right after each enqueue (and so its commit) returned, by job id.
   */
  private static Map<Long, Long> enqueuePaced(Endpoint db, int jobs) throws Exception {
    Map<Long, Long> commits = new java.util.HashMap<>(jobs * 2);
    try (FixedPool pool = new FixedPool(Env.dataSource(db, "que-bench-enqueuer"), 1)) {
      Client client = Client.create(pool);
      long start = System.nanoTime();
      for (int i = 0; i < jobs; i++) {
        long wait;
        while ((wait = start + i * PERIOD_NANOS - System.nanoTime()) > 0) {
          LockSupport.parkNanos(wait);
        }
        long id = client.enqueue(NewJob.of(JavaDrain.LATENCY, JavaDrain.epochMicros())).id();
        commits.put(id, System.nanoTime());
      }
    }
    return commits;
  }
}
