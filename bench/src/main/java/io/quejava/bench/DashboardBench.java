package io.quejava.bench;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.Statistics;
import io.quejava.bench.Bench.Ctx;
import io.quejava.bench.Report.Cell;
import io.quejava.dashboard.Dashboard;
import io.quejava.dashboard.DashboardRequest;
import io.quejava.dashboard.DashboardResponse;
import io.quejava.ext.deadletter.DeadLetters;
import io.quejava.ext.schedule.Schedule;
import io.quejava.ext.schedule.Schedules;
import io.quejava.testing.TestDatabase.Endpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Scenario 8: the dashboard's server time per page on a table of a million jobs, schema 3 and 7,
 * each in a database of its own: 900,000 ready jobs in "default" (args {@code [n, "x"]}), 90,000 in
 * "mailers" (a tenth of them failing, with an error text), 10,000 in "reports" due in an hour, and
 * 8 jobs held by another session; schema 7 adds 1,000 expired (dead) rows. Each page is requested
 * through {@link Dashboard#handle} (no HTTP, so the figure is the server's time: SQL, templates,
 * escaping), warmed up, then timed N times; p50 and p95. Target: under 200 ms.
 */
final class DashboardBench {
  private DashboardBench() {}

  static void run(Ctx ctx) throws Exception {
    int jobs = ctx.options.quick ? 100_000 : 1_000_000;
    int calls = ctx.options.quick ? 10 : 30;
    ctx.report.section("8. Dashboard: server time per page (Dashboard.handle) on " + String.format(Locale.ROOT, "%,d", jobs)
        + " jobs, " + calls + " requests each; target < 200 ms");
    List<String> table = new ArrayList<>();
    table.add(String.format(Locale.ROOT, "%-8s %-52s %9s %9s %s", "schema", "page", "p50 ms", "p95 ms", "table rows"));
    for (int version : new int[] {3, 7}) {
      Endpoint db = ctx.env.createDatabase("que_bench_dash" + version);
      DataSource ds = Env.dataSource(db, "que-bench-dashboard");
      if (version == 3) {
        Migrator.create(ds).migrate();
        DeadLetters.migrator(ds).migrate();
      } else {
        Migrator.create(ds).migrateTo(version);
      }
      Schedules.migrator(ds).migrate();
      Schedules.create(ds).upsert(Schedule.every("hourly", Duration.ofHours(1), "Report"));
      Bench.progress("dashboard: filling " + jobs + " jobs at schema " + version);
      fill(ds, version, jobs);
      Client client = Client.create(ds);
      Dashboard dashboard = Dashboard.builder(client).build();
      String id = version == 3 ? "job_id" : "id";
      try (Connection holder = ds.getConnection(); Statement st = holder.createStatement()) {
        st.execute("SELECT pg_advisory_lock(" + id + ") FROM (SELECT " + id + " FROM que_jobs WHERE queue = 'default'"
            + " ORDER BY priority, run_at, " + id + " LIMIT 8) s");
        long failingId;
        try (ResultSet rs = st.executeQuery("SELECT " + id + " FROM que_jobs WHERE queue = 'mailers' AND error_count > 0 LIMIT 1")) {
          rs.next();
          failingId = rs.getLong(1);
        }
        long lastId;
        try (ResultSet rs = st.executeQuery("SELECT max(" + id + ") FROM que_jobs WHERE queue = 'default'")) {
          rs.next();
          lastId = rs.getLong(1);
        }
        String next = nextLink(dashboard.handle(get("/jobs")));
        Map<String, String> pages = new LinkedHashMap<>();
        pages.put("overview /", "/");
        pages.put("jobs, first page /jobs", "/jobs");
        pages.put("jobs, second page (keyset)", next);
        pages.put("jobs ?queue=mailers", "/jobs?queue=mailers");
        pages.put("jobs ?queue=default&state=ready", "/jobs?queue=default&state=ready");
        pages.put("jobs ?state=scheduled", "/jobs?state=scheduled");
        pages.put("jobs ?class=Mail", "/jobs?class=Mail");
        pages.put("jobs ?error=smtp (10% of mailers match)", "/jobs?error=smtp");
        int needle = jobs * 9 / 20; // a default job's first arg; as a substring it also matches ids with these digits
        pages.put("jobs ?args=" + needle + " (substring; a few rows match)", "/jobs?args=" + needle);
        if (version >= 4) {
          pages.put("jobs ?args=[" + needle + "] (JSON containment, GIN)", "/jobs?args=%5B" + needle + "%5D");
        }
        pages.put("failing /failing", "/failing");
        pages.put("job detail (failing job)", "/jobs/" + failingId);
        pages.put("job detail (last job)", "/jobs/" + lastId);
        pages.put("job detail, from a list's link" + (version == 3 ? " (carries the key)" : ""), jobLink(dashboard.handle(get("/jobs"))));
        pages.put("dead letters /dead", "/dead");
        pages.put("schedules /schedules", "/schedules");
        pages.put("in flight /inflight", "/inflight");
        // Where the overview's and the dead letters page's time goes: the core's calls they make, alone.
        Statistics stats = Statistics.create(client);
        table.add(component(version, "  core Statistics.summary()", calls, stats::summary));
        table.add(component(version, "  core Statistics.holders()", calls, stats::holders));
        DeadLetters dead = DeadLetters.create(client);
        table.add(component(version, "  core DeadLetters.countByErrorType()", calls, dead::countByErrorType));
        table.add(component(version, "  core DeadLetters.list(limit 100)", calls,
            () -> dead.list(io.quejava.ext.deadletter.DeadJobFilter.all().limit(100))));
        for (Map.Entry<String, String> p : pages.entrySet()) {
          DashboardRequest request = get(p.getValue());
          DashboardResponse first = dashboard.handle(request);
          if (first.status() != 200) {
            throw new AssertionError(p.getValue() + " answered " + first.status() + ": " + first.bodyText());
          }
          int rows = count(first.bodyText());
          String searched = searched(first.bodyText());
          for (int i = 0; i < 2; i++) {
            dashboard.handle(request);
          }
          double[] ms = new double[calls];
          for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            DashboardResponse r = dashboard.handle(request);
            ms[i] = (System.nanoTime() - t0) / 1e6;
            if (r.status() != 200) {
              throw new AssertionError(p.getValue() + " answered " + r.status());
            }
          }
          Arrays.sort(ms);
          double p50 = ms[calls / 2];
          double p95 = ms[Math.min(calls - 1, (int) Math.ceil(calls * 0.95) - 1)];
          String line = String.format(Locale.ROOT, "%-8d %-52s %9.1f %9.1f %d%s%s", version, p.getKey(), p50, p95, rows,
              searched, p95 >= 200 ? "   OVER 200 ms" : "");
          if (!searched.isEmpty()) {
            line += follow(dashboard, p.getValue());
          }
          table.add(line);
          Bench.progress("dashboard: " + line);
          ctx.report.row("schema " + version + " " + p.getKey() + ", p50", "ms", Cell.of(p50), Cell.NONE, Cell.NONE);
          ctx.report.row("schema " + version + " " + p.getKey() + ", p95", "ms", Cell.of(p95), Cell.NONE, Cell.NONE);
        }
      }
    }
    System.out.println("Dashboard server time per page (\"searched\": a filter no index serves, read for a bounded time):\n" + String.join("\n", table));
    ctx.report.note("Dashboard: figures are Dashboard.handle() wall time in the benchmark's JVM (SQL, templates, escaping;"
        + " no HTTP). Job lists walk an index in key order and stop after a page; a filter no index serves (class, error"
        + " text, args substring, failing, queue on 6-7) searches the key order in slices for about 120 ms per request and"
        + " then shows a partial page with a link that continues after the last row read.");
  }

  private static String component(int version, String label, int calls, Runnable call) {
    call.run();
    double[] ms = new double[calls];
    for (int i = 0; i < calls; i++) {
      long t0 = System.nanoTime();
      call.run();
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    String line = String.format(Locale.ROOT, "%-8d %-52s %9.1f %9.1f", version, label, ms[calls / 2],
        ms[Math.min(calls - 1, (int) Math.ceil(calls * 0.95) - 1)]);
    Bench.progress("dashboard: " + line);
    return line;
  }

  private static final Pattern CONTINUE = Pattern.compile("href=\"([^\"]*)\" id=\"continue\"");

  /**
   * A search's cost to the user: following "continue searching" from the first request, how many
   * requests and how much server time until a page shows a match, and until the search ends.
   */
  private static String follow(Dashboard dashboard, String path) {
    int requests = 0;
    double ms = 0;
    String firstMatch = "none";
    String p = path;
    while (p != null && requests < 1000) {
      long t0 = System.nanoTime();
      DashboardResponse r = dashboard.handle(get(p));
      ms += (System.nanoTime() - t0) / 1e6;
      requests++;
      if (firstMatch.equals("none") && count(r.bodyText()) > 0) {
        firstMatch = String.format(Locale.ROOT, "request %d, %.0f ms in all", requests, ms);
      }
      Matcher m = CONTINUE.matcher(r.bodyText());
      p = m.find() ? m.group(1).replace("&amp;", "&").replace("&#x3D;", "=") : null;
      if (p == null || !firstMatch.equals("none")) {
        break; // a page with a match ends the walk (its "next page" is ordinary paging)
      }
    }
    return "; first match: " + firstMatch;
  }

  private static final Pattern SEARCHED = Pattern.compile("id=\"search\">(<strong>Partial)?.*?searched ([0-9,]+) rows");

  /** What the page says its search read, or "" when no search ran. */
  private static String searched(String html) {
    Matcher m = SEARCHED.matcher(html);
    return m.find() ? " (searched " + m.group(2) + " rows" + (m.group(1) != null ? ", partial)" : ")") : "";
  }

  private static final Pattern JOB_LINK = Pattern.compile("href=\"([^\"]*)\" class=\"job\"");

  private static String jobLink(DashboardResponse r) {
    Matcher m = JOB_LINK.matcher(r.bodyText());
    if (!m.find()) {
      throw new AssertionError("no job link on the list");
    }
    return m.group(1).replace("&amp;", "&").replace("&#x3D;", "=");
  }

  private static final Pattern NEXT = Pattern.compile("href=\"([^\"]*)\" id=\"next\"");

  private static String nextLink(DashboardResponse r) {
    Matcher m = NEXT.matcher(r.bodyText());
    if (!m.find()) {
      throw new AssertionError("no next page link on /jobs");
    }
    return m.group(1).replace("&amp;", "&").replace("&#x3D;", "=");
  }

  private static int count(String html) {
    int n = 0;
    for (int i = html.indexOf("<tr"); i >= 0; i = html.indexOf("<tr", i + 1)) {
      n++;
    }
    return Math.max(0, n - 1);
  }

  private static DashboardRequest get(String path) {
    int q = path.indexOf('?');
    return DashboardRequest.of("GET", q < 0 ? path : path.substring(0, q), q < 0 ? "" : path.substring(q + 1));
  }

  private static void fill(DataSource ds, int version, int jobs) throws Exception {
    String jsv = version >= 6 ? ", job_schema_version" : "";
    String jsvValue = version >= 6 ? ", 2" : "";
    String err = version >= 4 ? "last_error_message" : "last_error";
    String array = version >= 4 ? "jsonb_build_array" : "json_build_array"; // args: jsonb on 4-7, json on 3
    int mailers = jobs * 9 / 100;
    int reports = jobs / 100;
    int dflt = jobs - mailers - reports;
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      if (version == 7) {
        st.execute("SET que.skip_notify TO true");
      }
      String insert = "INSERT INTO que_jobs (queue, priority, run_at, job_class, args, error_count, " + err + jsv + ")\n";
      try (PreparedStatement ps = c.prepareStatement(insert
          + "SELECT 'default', 100 + (g % 3)::smallint, now() - interval '1 minute' + g * interval '1 microsecond', 'Work',"
          + " " + array + "(g, 'x'), 0, NULL" + jsvValue + " FROM generate_series(1, ?) g")) {
        ps.setInt(1, dflt);
        ps.execute();
      }
      st.execute(insert + "SELECT 'mailers', 100, CASE WHEN g % 10 = 0 THEN now() + interval '19 seconds' ELSE now() END,"
          + " 'Mail', " + array + "('user' || g || '@example.com'), CASE WHEN g % 10 = 0 THEN 1 ELSE 0 END,"
          + " CASE WHEN g % 10 = 0 THEN 'Net::SMTPServerBusy: 421 smtp busy' END" + jsvValue
          + " FROM generate_series(1, " + mailers + ") g");
      st.execute(insert + "SELECT 'reports', 100, now() + interval '1 hour', 'Report', '[]', 0, NULL" + jsvValue
          + " FROM generate_series(1, " + reports + ") g");
      if (version >= 4) {
        st.execute("INSERT INTO que_jobs (queue, priority, run_at, job_class, args, error_count, last_error_message,"
            + " expired_at" + jsv + ") SELECT 'imports', 100, now(), 'ImportFeed', '[]', 15, 'Net::ReadTimeout: timed out',"
            + " now()" + jsvValue + " FROM generate_series(1, 1000) g");
      } else {
        st.execute("INSERT INTO que_dead_jobs (queue, priority, run_at, job_id, job_class, args, error_count, last_error, reason)"
            + " SELECT 'imports', 100, now(), 2000000000 + g, 'ImportFeed', '[]', 15, 'Net::ReadTimeout: timed out', 'max_attempts'"
            + " FROM generate_series(1, 1000) g");
      }
      st.execute("VACUUM ANALYZE que_jobs");
    }
  }
}
