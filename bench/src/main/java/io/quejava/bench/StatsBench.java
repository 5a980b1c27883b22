package io.quejava.bench;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.Statistics;
import io.quejava.StatsReport;
import io.quejava.bench.Bench.Ctx;
import io.quejava.bench.Report.Cell;
import io.quejava.testing.TestDatabase.Endpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.sql.DataSource;

/**
 * Scenario 6: what {@link Statistics#summary()} (the CLI's {@code que status}) costs on a table of a
 * million queued jobs, schema 3 and schema 7, each in a database of its own: 900,000 ready jobs in
 * "default", 90,000 in "mailers" (a tenth of them failing, waiting for their retry), 10,000 in
 * "reports" due in an hour, a thousand in "tiny", and 8 of the ready jobs held by another session
 * (running). Vacuumed and analysed first, as autovacuum would leave a table of that size. The figure
 * is the median (and p95) wall time of summary() over repeated calls, one connection each.
 */
final class StatsBench {
  private StatsBench() {}

  static void run(Ctx ctx) throws Exception {
    int jobs = ctx.options.quick ? 100_000 : 1_000_000;
    int calls = ctx.options.quick ? 20 : 50;
    ctx.report.section("6. Statistics: Statistics.summary() (que status) on " + String.format(Locale.ROOT, "%,d", jobs)
        + " queued jobs, " + calls + " calls");
    for (int version : new int[] {3, 7}) {
      Endpoint db = ctx.env.createDatabase("que_bench_stats" + version);
      DataSource ds = Env.dataSource(db, "que-bench-stats");
      if (version == 3) {
        Migrator.create(ds).migrate();
      } else {
        Migrator.create(ds).migrateTo(version);
      }
      Bench.progress("stats: filling " + jobs + " jobs at schema " + version);
      fill(ds, version, jobs);
      Client client = Client.create(ds);
      Statistics stats = Statistics.create(client);
      try (Connection holder = ds.getConnection(); Statement st = holder.createStatement()) {
        String id = version == 3 ? "job_id" : "id";
        st.execute("SELECT pg_advisory_lock(" + id + ") FROM (SELECT " + id + " FROM que_jobs WHERE queue = 'default'"
            + " ORDER BY priority, run_at, " + id + " LIMIT 8) s");
        StatsReport first = stats.summary(); // warm caches and the JIT
        for (int i = 0; i < 3; i++) {
          stats.summary();
        }
        double[] ms = new double[calls];
        for (int i = 0; i < calls; i++) {
          long t0 = System.nanoTime();
          stats.summary();
          ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        if (ctx.env.pgss) {
          try (PreparedStatement ps = ctx.env.control.prepareStatement(
              "SELECT calls, mean_exec_time, regexp_replace(left(query, 110), '\\s+', ' ', 'g') FROM pg_stat_statements"
                  + " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = ?) AND query NOT LIKE 'INSERT%' ORDER BY total_exec_time DESC LIMIT 10")) {
            ps.setString(1, db.database());
            try (java.sql.ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                Bench.progress(String.format(Locale.ROOT, "stats: %6d calls %8.2f ms  %s", rs.getLong(1), rs.getDouble(2),
                    rs.getString(3)));
              }
            }
          }
        }
        double p50 = ms[calls / 2];
        double p95 = ms[Math.min(calls - 1, (int) Math.ceil(calls * 0.95) - 1)];
        Bench.progress(String.format(Locale.ROOT, "stats: schema %d p50 %.1f ms, p95 %.1f ms; %s", version, p50, p95,
            first.queues()));
        ctx.report.row("summary(), schema " + version + ", p50", "ms", Cell.of(p50), Cell.NONE, Cell.NONE);
        ctx.report.row("summary(), schema " + version + ", p95", "ms", Cell.of(p95), Cell.NONE, Cell.NONE);
        List<String> shown = new ArrayList<>();
        first.queues().forEach(q -> shown.add(q.queue() + " ready " + q.ready() + " sched " + q.scheduled()
            + " running " + q.running() + " failing " + q.failing() + (q.estimated() ? " (est.)" : "")));
        ctx.report.note("Statistics, schema " + version + ": " + String.join("; ", shown)
            + ". Queues over " + Statistics.DEFAULT_EXACT_LIMIT + " rows: counts from a " + Statistics.DEFAULT_SAMPLE_PAGES
            + "-page block sample (estimates); running and oldest ready exact.");
      }
    }
  }

  private static void fill(DataSource ds, int version, int jobs) throws Exception {
    String jsv = version >= 6 ? ", job_schema_version" : "";
    String jsvValue = version >= 6 ? ", 2" : "";
    int mailers = jobs * 9 / 100;
    int reports = jobs / 100;
    int tiny = 1000;
    int dflt = jobs - mailers - reports - tiny;
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      if (version == 7) {
        st.execute("SET que.skip_notify TO true"); // Que's per-row NOTIFY trigger would dominate the fill
      }
      String insert = "INSERT INTO que_jobs (queue, priority, run_at, job_class, args, error_count" + jsv + ")\n";
      try (PreparedStatement ps = c.prepareStatement(insert
          + "SELECT ?, 100 + (g % 3)::smallint, now() - interval '1 minute' + g * interval '1 microsecond', ?, '[1, \"x\"]', 0"
          + jsvValue + " FROM generate_series(1, ?) g")) {
        for (Object[] q : new Object[][] {{"default", "Work", dflt}, {"tiny", "Tiny", tiny}}) {
          ps.setString(1, (String) q[0]);
          ps.setString(2, (String) q[1]);
          ps.setInt(3, (Integer) q[2]);
          ps.execute();
        }
      }
      st.execute(insert + "SELECT 'mailers', 100, CASE WHEN g % 10 = 0 THEN now() + interval '19 seconds' ELSE now() END,"
          + " 'Mail', '[]', CASE WHEN g % 10 = 0 THEN 1 ELSE 0 END" + jsvValue + " FROM generate_series(1, " + mailers + ") g");
      st.execute(insert + "SELECT 'reports', 100, now() + interval '1 hour', 'Report', '[]', 0" + jsvValue
          + " FROM generate_series(1, " + reports + ") g");
      st.execute("VACUUM ANALYZE que_jobs");
    }
  }
}
