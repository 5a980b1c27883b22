package io.quejava.bench;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.WorkerConfig;
import io.quejava.WorkerPool;
import io.quejava.bench.Bench.Ctx;
import io.quejava.bench.Report.Cell;
import io.quejava.testing.TestDatabase.Endpoint;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

/**
 * Scenario 5: what an idle pool of 8 workers costs the database. The pool polls an empty queue in
 * a database of its own with the default wake interval (5 s); after a warm-up, the statements
 * counted for that database over the window (pg_stat_statements, else committed transactions from
 * pg_stat_database) give queries per second.
 */
final class IdleBench {
  static final int WORKERS = 8;
  static final Duration WARM_UP = Duration.ofSeconds(6); // past que-go's first poll, one interval after start

  private IdleBench() {}

  static void run(Ctx ctx) throws Exception {
    Env env = ctx.env;
    Duration window = Duration.ofSeconds(ctx.options.quick ? 6 : 20);
    Endpoint idle = env.createDatabase("que_bench_idle");
    Migrator.create(Env.dataSource(idle, "que-bench-control")).migrate();
    ctx.report.section("5. Idle cost: a pool of " + WORKERS + " workers on an empty queue, "
        + window.toSeconds() + " s " + (env.pgss ? "(pg_stat_statements)" : "(pg_stat_database.xact_commit)"));

    Bench.progress("idle: que-java");
    Client client = Client.create(Env.dataSource(idle, "que-bench-java"));
    WorkerPool pool = WorkerPool.builder(client, new JavaDrain(1, null).workMap()).workers(WORKERS).build();
    pool.start();
    Env.sleep(WARM_UP);
    long a = count(env, idle);
    Env.sleep(window);
    long b = count(env, idle);
    pool.shutdown(Duration.ofSeconds(30));
    Cell java = Cell.of((b - a) / (double) window.toSeconds());

    Cell go = ctx.goMissing();
    if (ctx.hasGo()) {
      Bench.progress("idle: que-go");
      Proc peer = ctx.go.start("bench-work", List.of("--url", Env.libpqUrl(idle, "que-bench-go"),
          "--workers", Integer.toString(WORKERS),
          "--interval-ms", Long.toString(WorkerConfig.DEFAULT_WAKE_INTERVAL.toMillis()),
          "--seconds", Long.toString(WARM_UP.plus(window).toSeconds() + 1)));
      Env.sleep(WARM_UP);
      long c = count(env, idle);
      Env.sleep(window);
      long d = count(env, idle);
      GoPeer.result(peer.await(Duration.ofSeconds(60)));
      go = Cell.of((d - c) / (double) window.toSeconds());
    }
    ctx.report.row("idle pool of " + WORKERS + ", wake interval 5 s (both defaults)", "queries/s", java, go, Cell.NONE);
  }

  /** Statements run in {@code db} so far (pg_stat_statements), else its committed transactions. */
  private static long count(Env env, Endpoint db) throws SQLException {
    env.exec("SELECT pg_stat_clear_snapshot()");
    String sql = env.pgss
        ? "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = ?)"
        : "SELECT xact_commit FROM pg_stat_database WHERE datname = ?";
    try (PreparedStatement ps = env.control.prepareStatement(sql)) {
      ps.setString(1, db.database());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
