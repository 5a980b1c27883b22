package io.quejava.bench;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.WorkerPool;
import io.quejava.bench.Bench.Ctx;
import io.quejava.bench.Report.Cell;
import io.quejava.testing.TestDatabase.Endpoint;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Scenario 2: drain a queue of no-op jobs with 1, 4, 8 and 16 workers: que-java's WorkerPool,
 * que-go's WorkerPool (Go peer), and pgbench running the protocol's per-job SQL with as many
 * clients. Before each run the table is refilled with one INSERT ... SELECT generate_series,
 * vacuumed and analyzed, and checkpointed. A run ends when the queue is empty or at the cap
 * ({@code --max-seconds}); jobs/s counts the jobs worked until then. With durable commits one
 * worker of que-go does a few hundred jobs per second here, so draining all 50,000 would take
 * minutes per run.
 *
 * <p>The drain helpers here are shared with the backlog scenario.
 */
final class WorkBench {
  /** The wake interval of both pools while draining (only matters when a worker finds no job). */
  static final Duration DRAIN_WAKE = Duration.ofMillis(100);

  private WorkBench() {}

  /** Worker counts at which que-java also drains a schema-7 table (Que 2.x's), beside schema 3. */
  static final List<Integer> SCHEMA_7_WORKERS = List.of(1, 8);

  static void run(Ctx ctx) throws Exception {
    String ab = System.getProperty("que.bench.prefetchAB");
    if (ab != null) {
      prefetchAB(ctx, ab);
      return;
    }
    if (System.getProperty("que.bench.skipAB") != null) {
      skipAB(ctx, System.getProperty("que.bench.skipAB"));
      return;
    }
    int jobs = ctx.options.workJobs();
    ctx.report.section(String.format("2. Work: drain %,d queued no-op jobs (each run stops when empty or at %d s)",
        jobs, ctx.options.cap().toSeconds()));
    Schema7 s7 = null;
    try {
      for (int workers : ctx.options.workCounts()) {
        String what = workers + (workers == 1 ? " worker" : " workers");
        Runnable refill = () -> refill(ctx.env, jobs);
        Cell java = java(ctx, refill, workers, jobs, null, "work, " + what + ": que-java");
        Cell go = go(ctx, refill, workers, jobs, null, "work, " + what + ": que-go");
        Cell floor = floor(ctx, refill, workers, 0, "true", "work, " + what + ": pgbench");
        Cell batchFloor = floor(ctx, refill, workers, 0, "true", "work, " + what + ": pgbench, que-java's batch SQL",
            Pgbench.BATCH_SCRIPT);
        ctx.report.row(what, "jobs/s", java, go, floor);
        ctx.report.row(what + ", floor = que-java's batch SQL in pgbench", "jobs/s", java, Cell.NONE, batchFloor);
        Cell batched = java(ctx, refill, workers, jobs, null, "work, " + what + ": que-java, batched completion",
            b -> b.batchedCompletion(BATCHED_JOBS, BATCHED_DELAY));
        Cell batchedFloor = floor(ctx, refill, workers, 0, "true",
            "work, " + what + ": pgbench, que-java's batched-completion SQL", Pgbench.batchedCompletionScript(BATCHED_JOBS));
        ctx.report.row(what + ", batchedCompletion(" + BATCHED_JOBS + ", " + BATCHED_DELAY.toMillis() + " ms); que-go as above",
            "jobs/s", batched, go, Cell.NONE);
        ctx.report.row(what + ", batchedCompletion; floor = its batched SQL in pgbench", "jobs/s", batched, Cell.NONE,
            batchedFloor);
        if (SCHEMA_7_WORKERS.contains(workers)) {
          if (s7 == null) {
            s7 = new Schema7(ctx);
          }
          Cell modern = s7.drain(ctx, s7.client, workers, jobs, "work, " + what + ": que-java, schema 7");
          ctx.report.row(what + ", schema 7 (Que 2.x's table); floor = que-java on schema 3 (row above)", "jobs/s",
              modern, Cell.NONE, java);
          if (workers == 8) {
            Cell loud = s7.drain(ctx, s7.notifying, workers, jobs,
                "work, " + what + ": que-java, schema 7, stateNotifications(true)");
            ctx.report.row(what + ", schema 7, stateNotifications(true): que_state_notify fires per job;"
                + " floor = schema 3", "jobs/s", loud, Cell.NONE, java);
          }
        }
      }
    } finally {
      if (s7 != null) {
        s7.close();
      }
    }
  }

  /**
   * Experiment (system property {@code que.bench.prefetchAB=8,4,2}): que-java's default mode at each
   * worker count with these prefetch values, in three interleaved rounds; one row per value with
   * the median, the first value in the floor column.
   */
  private static void prefetchAB(Ctx ctx, String values) throws Exception {
    int jobs = ctx.options.workJobs();
    List<Integer> prefetches = java.util.Arrays.stream(values.split(",")).map(String::trim).map(Integer::valueOf).toList();
    ctx.report.section("2x. Work, prefetch A/B (3 interleaved rounds, median)");
    for (int workers : ctx.options.workCounts()) {
      java.util.Map<Integer, List<Double>> rates = new java.util.LinkedHashMap<>();
      for (int round = 0; round < 3; round++) {
        for (int p : prefetches) {
          Cell c = java(ctx, () -> refill(ctx.env, jobs), workers, jobs, null,
              "work, " + workers + " workers, prefetch " + p + ", round " + (round + 1), b -> b.prefetch(p));
          rates.computeIfAbsent(p, k -> new ArrayList<>()).add(c.value());
        }
      }
      double base = median(rates.get(prefetches.get(0)));
      for (int p : prefetches) {
        ctx.report.row(workers + " workers, prefetch " + p + " " + rates.get(p), "jobs/s", Cell.of(median(rates.get(p))),
            Cell.NONE, Cell.of(base));
      }
    }
  }

  /**
   * Experiment (system property {@code que.bench.skipAB}, empty or {@code batched}): walks that pass
   * over the jobs the pool's other workers hold (on) against walks that step over them (off), in
   * three interleaved rounds per worker count; medians, off in the floor column.
   */
  /** WorkerPool's switch for walks that pass over the jobs its workers hold. */
  private static final String PASS_HELD = "que.worker.passHeldJobs";

  private static void skipAB(Ctx ctx, String mode) throws Exception {
    int jobs = ctx.options.workJobs();
    boolean batched = mode.equals("batched");
    ctx.report.section("2y. Work, walks passing over the siblings' jobs: on vs off (3 interleaved rounds, median)"
        + (batched ? ", batchedCompletion(" + BATCHED_JOBS + ", " + BATCHED_DELAY.toMillis() + " ms)" : ""));
    try {
      for (int workers : ctx.options.workCounts()) {
        List<Double> on = new ArrayList<>();
        List<Double> off = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
          for (boolean skip : new boolean[] {round % 2 == 0, round % 2 != 0}) {
            System.setProperty(PASS_HELD, Boolean.toString(skip)); // read when the pool is built
            Cell c = java(ctx, () -> refill(ctx.env, jobs), workers, jobs, null,
                "work, " + workers + " workers, skip " + (skip ? "on" : "off") + ", round " + (round + 1),
                b -> batched ? b.batchedCompletion(BATCHED_JOBS, BATCHED_DELAY) : b);
            (skip ? on : off).add(c.value());
          }
        }
        ctx.report.row(workers + " workers, on " + on + " off " + off, "jobs/s", Cell.of(median(on)), Cell.NONE,
            Cell.of(median(off)));
      }
    } finally {
      System.clearProperty(PASS_HELD);
    }
  }

  private static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    java.util.Collections.sort(s);
    return s.get(s.size() / 2);
  }

  /**
   * A database of its own whose que_jobs is at schema 7 (Que 2.x's table, with its que_job_notify and
   * que_state_notify triggers), created by {@code Migrator.migrateTo(7)}, and two clients on it:
   * the default one, and one with {@code stateNotifications(true)}, whose completions fire
   * que_state_notify as before.
   */
  static final class Schema7 implements AutoCloseable {
    final StatementProfile.Db db;
    final Client client;
    final Client notifying;

    Schema7(Ctx ctx) throws Exception {
      Endpoint e = ctx.env.createDatabase("que_bench_s7");
      DataSource ds = Env.dataSource(e, "que-bench-java");
      Migrator.create(Env.dataSource(e, "que-bench-control")).migrateTo(7);
      this.db = new StatementProfile.Db(Env.dataSource(e, "que-bench-control").getConnection(), e.database());
      if (ctx.env.pgss) {
        try (Statement st = db.control().createStatement()) {
          st.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        }
      }
      this.client = Client.create(ds);
      this.notifying = Client.builder(ds).stateNotifications(true).build();
    }

    /** Refills the table with {@code jobs} no-op jobs (Que 2.x's job_schema_version), vacuumed and checkpointed. */
    void refill(int jobs) {
      try (Statement st = db.control().createStatement()) {
        st.execute("TRUNCATE que_jobs");
        st.execute("INSERT INTO que_jobs (job_class, job_schema_version) SELECT '" + JavaDrain.NOOP
            + "', 2 FROM generate_series(1, " + jobs + ")");
        st.execute("VACUUM (ANALYZE) que_jobs");
        st.execute("CHECKPOINT");
      } catch (java.sql.SQLException ex) {
        throw new IllegalStateException("refilling the schema-7 que_jobs failed: " + ex.getMessage(), ex);
      }
    }

    Cell drain(Ctx ctx, Client c, int workers, int jobs, String label) throws Exception {
      Bench.progress(label);
      refill(jobs);
      var before = ctx.profile.begin(db);
      JavaDrain drain = new JavaDrain(jobs, null);
      WorkerPool pool = drain.start(c, workers, DRAIN_WAKE);
      JavaDrain.Drained d = drain.await(pool, ctx.options.cap(), false);
      ctx.profile.end(label, before, Double.NaN, db);
      return Cell.of(d.rate());
    }

    @Override
    public void close() throws java.sql.SQLException {
      db.control().close();
    }
  }

  static void refill(Env env, int jobs) {
    try {
      env.exec("TRUNCATE que_jobs");
      env.exec("INSERT INTO que_jobs (job_class) SELECT '" + JavaDrain.NOOP + "' FROM generate_series(1, " + jobs + ")");
      env.settle();
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("refilling que_jobs failed: " + e.getMessage(), e);
    }
  }

  /** Batched completion in the work scenario: the most jobs per delete (and per walk). */
  static final int BATCHED_JOBS = 32;
  /** Batched completion in the work scenario: the longest a succeeded job waits for its delete. */
  static final Duration BATCHED_DELAY = Duration.ofMillis(50);

  /** que-java: a WorkerPool until {@code jobs} jobs of {@code countedClass} (null: any) have run, or the cap. */
  static Cell java(Ctx ctx, Runnable setUp, int workers, long jobs, String countedClass, String label) throws Exception {
    return java(ctx, setUp, workers, jobs, countedClass, label, b -> b);
  }

  /** The same, with the pool's settings changed by {@code tune}. */
  static Cell java(Ctx ctx, Runnable setUp, int workers, long jobs, String countedClass, String label,
      java.util.function.UnaryOperator<WorkerPool.Builder> tune) throws Exception {
    Bench.progress(label);
    setUp.run();
    var before = ctx.profile.begin();
    JavaDrain drain = new JavaDrain(jobs, countedClass);
    WorkerPool pool = tune.apply(drain.builder(ctx.client, workers, DRAIN_WAKE)).build();
    pool.start();
    JavaDrain.Drained d = drain.await(pool, ctx.options.cap(), false);
    ctx.profile.end(label, before);
    if (d.complete()) {
      checkDrained(ctx, countedClass, label);
    }
    return Cell.of(d.rate());
  }

  /** que-go: the Go peer's bench-work until the queue is empty (or {@code jobs} of {@code countedClass} ran), or the cap. */
  static Cell go(Ctx ctx, Runnable setUp, int workers, long jobs, String countedClass, String label) throws Exception {
    if (!ctx.hasGo()) {
      return ctx.goMissing();
    }
    Bench.progress(label);
    setUp.run();
    var before = ctx.profile.begin();
    List<String> args = new ArrayList<>(List.of("--url", Env.libpqUrl(ctx.env.bench, "que-bench-go"),
        "--workers", Integer.toString(workers), "--interval-ms", Long.toString(DRAIN_WAKE.toMillis()),
        "--max-seconds", Long.toString(ctx.options.cap().toSeconds())));
    if (countedClass == null) {
      args.add("--until-empty");
    } else {
      args.addAll(List.of("--expect", Long.toString(jobs), "--expect-class", countedClass));
    }
    var r = ctx.go.run("bench-work", args, ctx.options.cap().plusMinutes(2));
    long worked = Long.parseLong(r.get("worked"));
    ctx.profile.end(label, before, Double.parseDouble(r.get("cpu_ms")));
    if (worked == jobs) {
      checkDrained(ctx, countedClass, label);
    }
    return Cell.of(worked / (Long.parseLong(r.get("elapsed_us")) / 1e6));
  }

  /**
   * The floor: pgbench with {@code clients} connections running the per-job script, either until
   * the queue is empty or the cap ({@code jobs == 0}), or {@code jobs} transactions in all (when
   * ready jobs remain behind the ones counted). A transaction that loses a lock race deletes
   * nothing, so jobs/s = rows deleted (matching {@code where}) / pgbench's time.
   */
  static Cell floor(Ctx ctx, Runnable setUp, int clients, long jobs, String where, String label) throws Exception {
    return floor(ctx, setUp, clients, jobs, where, label, Pgbench.WORK_SCRIPT);
  }

  static Cell floor(Ctx ctx, Runnable setUp, int clients, long jobs, String where, String label, String script)
      throws Exception {
    if (ctx.pgbench == null) {
      return Cell.na("n/a (no pgbench)");
    }
    Bench.progress(label);
    setUp.run();
    long before = ctx.env.queryLong("SELECT count(*) FROM que_jobs WHERE " + where);
    var stats = ctx.profile.begin();
    long perClient = jobs == 0 ? 0 : (jobs + clients - 1) / clients;
    Pgbench.Result r = ctx.pgbench.run(ctx.env.bench, script, clients, perClient, ctx.options.cap().toSeconds());
    long deleted = before - ctx.env.queryLong("SELECT count(*) FROM que_jobs WHERE " + where);
    ctx.profile.end(label, stats, r.cpuMs());
    return Cell.of(deleted / r.seconds());
  }

  /** After a full drain nothing ready may be left (a job left over would mean a lost job). */
  private static void checkDrained(Ctx ctx, String countedClass, String label) throws Exception {
    String where = countedClass == null ? "run_at <= now()" : "job_class = '" + countedClass + "'";
    long left = ctx.env.queryLong("SELECT count(*) FROM que_jobs WHERE " + where);
    if (left != 0) {
      ctx.report.note("Note: " + left + " jobs were left after '" + label + "'.");
    }
  }
}
