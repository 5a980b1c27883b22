package io.quejava.bench;

import io.quejava.bench.Bench.Ctx;
import io.quejava.bench.Report.Cell;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scenario 4: does a backlog slow the head of the queue down? 8 workers drain the 10,000 jobs at
 * the head of the queue (priority 50) with 10,000 or 1,000,000 ready jobs queued behind them
 * (priority 100); then the same with 2,000 jobs that are not ready sitting in front of them in the
 * index (priority 1): 1,000 scheduled a day ahead and 1,000 failed ones in backoff (error_count 3,
 * run_at an hour ahead). Schema 3's only index is (queue, priority, run_at, job_id), so every lock
 * walk steps over those 2,000 entries before it finds a ready job.
 *
 * <p>Only the head jobs are counted; the backlog is generated with one INSERT ... SELECT
 * generate_series and topped up after each run.
 */
final class BacklogBench {
  static final int WORKERS = 8;
  static final int NOT_READY = 1_000;

  private BacklogBench() {}

  static void run(Ctx ctx) throws Exception {
    Env env = ctx.env;
    int head = ctx.options.quick ? 2_000 : 10_000;
    int small = 10_000;
    int large = ctx.options.quick ? 100_000 : 1_000_000;
    ctx.report.section(String.format("4. Backlog: %d workers drain the %,d jobs at the head", WORKERS, head));
    Map<String, Cell[]> rows = new LinkedHashMap<>();
    String smallLabel = String.format("%,d behind", small);
    String largeLabel = String.format("%,d behind", large);
    String junk = String.format(" + %,d not ready in front", 2 * NOT_READY);
    for (String key : List.of(smallLabel, largeLabel, smallLabel + junk, largeLabel + junk)) {
      rows.put(key, null);
    }

    env.exec("TRUNCATE que_jobs");
    behind(env, small);
    rows.put(smallLabel, drainAll(ctx, head, small, smallLabel));
    addNotReady(env);
    rows.put(smallLabel + junk, drainAll(ctx, head, small, smallLabel + junk));
    Bench.progress(String.format("backlog: generating %,d jobs", large));
    behind(env, large);
    rows.put(largeLabel + junk, drainAll(ctx, head, large, largeLabel + junk));
    env.exec("DELETE FROM que_jobs WHERE priority = 1");
    rows.put(largeLabel, drainAll(ctx, head, large, largeLabel));
    env.exec("TRUNCATE que_jobs");

    for (var e : rows.entrySet()) {
      Cell[] c = e.getValue();
      ctx.report.row(String.format("%,d at the head, %s", head, e.getKey()), "jobs/s", c[0], c[1], c[2]);
    }
  }

  /** que-java, que-go and pgbench each drain the head once, from the same starting state. */
  private static Cell[] drainAll(Ctx ctx, int head, int behind, String label) throws Exception {
    Runnable reset = () -> resetHead(ctx.env, head, behind);
    String what = "backlog, " + label + ": ";
    List<Cell> cells = new ArrayList<>();
    cells.add(WorkBench.java(ctx, reset, WORKERS, head, JavaDrain.HEAD, what + "que-java"));
    cells.add(WorkBench.go(ctx, reset, WORKERS, head, JavaDrain.HEAD, what + "que-go"));
    cells.add(WorkBench.floor(ctx, reset, WORKERS, head, "job_class = '" + JavaDrain.HEAD + "'", what + "pgbench"));
    return cells.toArray(new Cell[0]);
  }

  /** Tops the ready backlog (priority 100) up to {@code n} jobs. */
  private static void behind(Env env, int n) throws SQLException {
    long have = env.queryLong("SELECT count(*) FROM que_jobs WHERE priority = 100");
    if (have < n) {
      env.exec("INSERT INTO que_jobs (priority, job_class) SELECT 100, '" + JavaDrain.NOOP
          + "' FROM generate_series(1, " + (n - have) + ")");
    }
  }

  /** 1,000 jobs scheduled for tomorrow and 1,000 failed jobs waiting out their backoff, all at priority 1. */
  private static void addNotReady(Env env) throws SQLException {
    env.exec("INSERT INTO que_jobs (priority, run_at, job_class) SELECT 1, now() + interval '1 day', '"
        + JavaDrain.NOOP + "' FROM generate_series(1, " + NOT_READY + ")");
    env.exec("INSERT INTO que_jobs (priority, run_at, job_class, error_count, last_error)"
        + " SELECT 1, now() + interval '1 hour', '" + JavaDrain.NOOP + "', 3, 'RuntimeError: failed in the benchmark'"
        + " FROM generate_series(1, " + NOT_READY + ")");
  }

  /** A fresh head of {@code head} jobs (priority 50), the backlog topped up, then vacuum, analyze, checkpoint. */
  private static void resetHead(Env env, int head, int behind) {
    try {
      env.exec("DELETE FROM que_jobs WHERE job_class = '" + JavaDrain.HEAD + "'");
      env.exec("INSERT INTO que_jobs (priority, job_class) SELECT 50, '" + JavaDrain.HEAD
          + "' FROM generate_series(1, " + head + ")");
      behind(env, behind);
      env.settle();
    } catch (SQLException e) {
      throw new IllegalStateException("resetting the head of the queue failed: " + e.getMessage(), e);
    }
  }
}
