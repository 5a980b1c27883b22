package io.quejava.bench;

import io.quejava.WorkerPool;
import io.quejava.bench.Bench.Ctx;
import io.quejava.bench.Report.Cell;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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

  static void run(Ctx ctx) throws Exception {
    int jobs = ctx.options.workJobs();
    ctx.report.section(String.format("2. Work: drain %,d queued no-op jobs (each run stops when empty or at %d s)",
        jobs, ctx.options.cap().toSeconds()));
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

  /** que-java: a WorkerPool until {@code jobs} jobs of {@code countedClass} (null: any) have run, or the cap. */
  static Cell java(Ctx ctx, Runnable setUp, int workers, long jobs, String countedClass, String label) throws Exception {
    Bench.progress(label);
    setUp.run();
    var before = ctx.profile.begin();
    JavaDrain drain = new JavaDrain(jobs, countedClass);
    WorkerPool pool = drain.start(ctx.client, workers, DRAIN_WAKE);
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
