package io.quejava.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.Template;
import io.quejava.AdminResult;
import io.quejava.JobAdmin;
import io.quejava.LockHolder;
import io.quejava.NewJob;
import io.quejava.QueException;
import io.quejava.QueueStats;
import io.quejava.Statistics;
import io.quejava.StatsReport;
import io.quejava.ext.ExtensionMigrator;
import io.quejava.ext.deadletter.DeadJob;
import io.quejava.ext.deadletter.DeadJobFilter;
import io.quejava.ext.deadletter.DeadLetters;
import io.quejava.ext.heartbeat.InFlight;
import io.quejava.ext.heartbeat.InFlightJob;
import io.quejava.ext.schedule.ScheduleStatus;
import io.quejava.ext.schedule.Schedules;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The routes, pages and actions of a {@link Dashboard}. */
final class Pages {
  private static final Logger LOG = LoggerFactory.getLogger(Dashboard.class);
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
      + " form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
      .withZone(ZoneOffset.UTC);
  private static final Pattern JOB = Pattern.compile("/jobs/(\\d{1,19})(/retry|/delete)?");
  private static final Pattern DEAD = Pattern.compile("/dead/(\\d{1,19})/(replay|delete)");
  private static final Pattern SCHEDULE = Pattern.compile("/schedules/(enable|disable|run)");
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Dashboard d;
  private final Csrf csrf;
  private final DataSource ds;
  private final Statistics stats;
  private final JobAdmin admin;
  private final JobsSql sql;
  private final int schema;
  private final Mustache.Compiler mustache = Mustache.compiler().escapeHTML(true).defaultValue("").emptyStringIsFalse(true).zeroIsFalse(true);
  private final Map<String, Template> templates = new ConcurrentHashMap<>();

  Pages(Dashboard d, Csrf csrf) {
    this.d = d;
    this.csrf = csrf;
    this.ds = d.client.dataSource();
    this.stats = Statistics.create(d.client);
    this.admin = JobAdmin.create(d.client);
    this.schema = d.client.schemaVersion();
    this.sql = new JobsSql(schema, d.searchBudgetMs, d.searchFirstSlice);
  }

  /** What one request carries through the page code. */
  private final class Exchange {
    final DashboardRequest request;
    final String path;
    final String session;
    final boolean newSession;
    final Form query;
    Form form = Form.parse("");

    Exchange(DashboardRequest request, String path) {
      this.request = request;
      this.path = path;
      String s = cookie(request, Csrf.COOKIE);
      this.newSession = s == null || !s.matches("[A-Za-z0-9_-]{16,64}");
      this.session = newSession ? csrf.newSession() : s;
      this.query = Form.parse(request.query());
    }

    Map<String, Object> model(String title, String nav) {
      Map<String, Object> m = new HashMap<>();
      m.put("title", title);
      m.put("base", d.basePath);
      m.put("csrf", csrf.token(session));
      m.put("csrfField", Csrf.FIELD);
      m.put("writable", !d.readOnly);
      m.put("readOnly", d.readOnly);
      m.put("schema", schema);
      m.put("nav_" + nav, true);
      m.put("modern", schema >= 4);
      return m;
    }
  }

  DashboardResponse handle(DashboardRequest request) {
    long started = System.nanoTime();
    String raw = request.path();
    if (!raw.equals(d.basePath) && !raw.startsWith(d.basePath + "/")) {
      return text(404, "not found");
    }
    String path = raw.substring(d.basePath.length());
    if (path.isEmpty()) {
      path = "/";
    }
    if (d.authenticator != null) {
      Optional<String> who;
      try {
        who = d.authenticator.authenticate(request);
      } catch (RuntimeException e) {
        LOG.warn("dashboard authenticator failed", e);
        who = Optional.empty();
      }
      if (who == null || who.isEmpty()) {
        DashboardResponse r = text(401, "authentication required");
        String challenge = d.authenticator.challenge();
        if (challenge != null) {
          r = with(r, "WWW-Authenticate", challenge);
        }
        return r;
      }
    }
    try {
      Exchange x = new Exchange(request, path);
      String verb = request.verb();
      DashboardResponse r;
      if (path.startsWith("/assets/")) {
        r = verb.equals("GET") || verb.equals("HEAD") ? asset(path.substring(8)) : text(405, "method not allowed");
        return r;
      }
      if (verb.equals("GET") || verb.equals("HEAD")) {
        r = get(x, started);
      } else if (verb.equals("POST")) {
        r = post(x, started);
      } else {
        r = with(text(405, "method not allowed"), "Allow", "GET, HEAD, POST");
      }
      if (x.newSession) {
        String cookiePath = d.basePath.isEmpty() ? "/" : d.basePath;
        r = with(r, "Set-Cookie", Csrf.COOKIE + "=" + x.session + "; Path=" + cookiePath + "; HttpOnly; SameSite=Strict");
      }
      return r;
    } catch (Form.BadRequest e) {
      return text(400, "bad request: " + e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("dashboard page {} failed", path, e);
      return text(500, "the dashboard failed on " + path + ": " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------- GET

  private DashboardResponse get(Exchange x, long started) {
    String p = x.path;
    if (p.equals("/")) {
      return overview(x, started);
    }
    if (p.equals("/jobs") || p.equals("/failing")) {
      return jobs(x, started);
    }
    Matcher m = JOB.matcher(p);
    if (m.matches() && m.group(2) == null) {
      return detail(x, parseId(m.group(1)), started);
    }
    if (p.equals("/dead")) {
      return dead(x, started);
    }
    if (p.equals("/schedules")) {
      return schedules(x, started);
    }
    if (p.equals("/inflight")) {
      return inflight(x, started);
    }
    if (m.matches() || DEAD.matcher(p).matches() || SCHEDULE.matcher(p).matches() || p.equals("/jobs/bulk")
        || p.equals("/dead/bulk") || p.equals("/dead/purge")) {
      return with(text(405, "this address takes POST only"), "Allow", "POST");
    }
    return page(x.model("Not found", ""), "notfound", 404, started);
  }

  private DashboardResponse overview(Exchange x, long started) {
    StatsReport report = stats.summary();
    Map<String, Object> m = x.model("Overview", "overview");
    List<Map<String, Object>> queues = new ArrayList<>();
    long[] totals = new long[7];
    for (QueueStats q : report.queues()) {
      Map<String, Object> r = new HashMap<>();
      r.put("queue", q.queue());
      r.put("queueParam", Form.encode(Map.of("queue", q.queue())));
      r.put("ready", num(q.ready()));
      r.put("scheduled", num(q.scheduled()));
      r.put("running", num(q.running()));
      r.put("failing", num(q.failing()));
      r.put("finished", num(q.finished()));
      r.put("expired", num(q.expired()));
      r.put("dead", q.dead().isPresent() ? num(q.dead().getAsLong()) : "–");
      r.put("latency", q.oldestReadyAt().isPresent() ? age(q.oldestReadyAge()) : "–");
      r.put("latencyWarn", q.oldestReadyAge().toSeconds() >= 60);
      r.put("estimated", q.estimated());
      queues.add(r);
      totals[0] += q.ready();
      totals[1] += q.scheduled();
      totals[2] += q.running();
      totals[3] += q.failing();
    }
    m.put("queues", queues);
    m.put("noQueues", queues.isEmpty());
    m.put("estimated", report.estimated());
    m.put("exactLimit", num(report.exactLimit()));
    m.put("takenAt", time(report.takenAt()));
    m.put("totalReady", num(totals[0]));
    m.put("totalScheduled", num(totals[1]));
    m.put("totalRunning", num(totals[2]));
    m.put("totalFailing", num(totals[3]));
    m.put("unlocated", report.runningUnlocated() > 0 ? num(report.runningUnlocated()) : null);
    m.put("refresh", d.refreshSeconds);
    m.putAll(chart(d.throughput.lastHour()));
    List<Map<String, Object>> holders = new ArrayList<>();
    for (LockHolder h : stats.holders()) {
      holders.add(holder(h));
    }
    m.put("holders", holders);
    m.put("noHolders", holders.isEmpty());
    return page(m, "overview", 200, started);
  }

  /** The throughput chart as SVG shapes (drawn by the template, every value a number). */
  private static Map<String, Object> chart(List<Throughput.Minute> minutes) {
    long max = 1;
    long worked = 0;
    long failed = 0;
    for (Throughput.Minute mi : minutes) {
      max = Math.max(max, mi.worked() + mi.failed());
      worked += mi.worked();
      failed += mi.failed();
    }
    int height = 100;
    int barWidth = 10;
    List<Map<String, Object>> bars = new ArrayList<>();
    int i = 0;
    for (Throughput.Minute mi : minutes) {
      long wh = Math.round((double) mi.worked() / max * height);
      long fh = Math.round((double) mi.failed() / max * height);
      Map<String, Object> b = new HashMap<>();
      b.put("x", i * barWidth + 40);
      b.put("w", barWidth - 2);
      b.put("wy", 10 + height - wh);
      b.put("wh", wh);
      b.put("fy", 10 + height - wh - fh);
      b.put("fh", fh);
      b.put("label", TIME.format(Instant.ofEpochSecond(mi.epochMinute() * 60)).substring(11, 16) + " UTC: "
          + mi.worked() + " worked, " + mi.failed() + " failed");
      bars.add(b);
      i++;
    }
    Map<String, Object> m = new HashMap<>();
    m.put("bars", bars);
    m.put("chartMax", num(max));
    m.put("chartWorked", num(worked));
    m.put("chartFailed", num(failed));
    m.put("chartAny", worked + failed > 0);
    return m;
  }

  private JobsSql.Filter filter(Form f, String defaultState) {
    String state = f.get("state");
    if (state.isEmpty()) {
      state = defaultState;
    }
    JobsSql.Filter filter = new JobsSql.Filter(f.get("queue"), f.get("class"), state, f.get("error"), f.get("args"));
    if (!state.isEmpty() && !JobsSql.STATES.contains(state)) {
      throw new Form.BadRequest("state: '" + state + "' is not one of " + JobsSql.STATES);
    }
    return filter;
  }

  private static Map<String, String> filterParams(JobsSql.Filter f) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("queue", f.queue());
    p.put("class", f.jobClass());
    p.put("state", f.state());
    p.put("error", f.error());
    p.put("args", f.args());
    return p;
  }

  private DashboardResponse jobs(Exchange x, long started) {
    boolean failingPage = x.path.equals("/failing");
    JobsSql.Filter f = filter(x.query, failingPage ? "failing" : "");
    String after = x.query.get("after");
    JobsSql.Cursor cursor = after.isEmpty() ? null : JobsSql.Cursor.decode(after);
    Map<String, Object> m = x.model(failingPage ? "Failing jobs" : "Jobs", failingPage ? "failing" : "jobs");
    putFilter(m, f);
    Instant now = Instant.now();
    try (Connection c = ds.getConnection()) {
      JobsSql.Page page = sql.list(c, f, cursor, d.pageSize, (int) d.queryTimeout.toSeconds());
      List<Map<String, Object>> rows = new ArrayList<>();
      for (JobsSql.Row r : page.rows()) {
        rows.add(row(r, now));
      }
      m.put("rows", rows);
      m.put("noRows", rows.isEmpty());
      if (page.more()) {
        Map<String, String> p = filterParams(f);
        p.put("after", page.next().encode());
        m.put(page.partial() ? "continue" : "next", x.path + "?" + Form.encode(p));
      }
      if (page.scanned() >= 0) {
        // A search of a filter no index serves: say what this request read.
        m.put("searched", num(page.scanned()));
        m.put("partial", page.partial());
        m.put("searchedTo", page.partial() ? (!sql.keyOrder(f) ? "job id " + page.next().id()
            : "queue " + page.next().queue() + ", priority " + page.next().priority() + ", run at " + time(page.next().runAt())
                + ", job id " + page.next().id()) : null);
        m.put("budgetMs", d.searchBudgetMs);
      }
      if (cursor != null) {
        m.put("first", x.path + (f.any() ? "?" + Form.encode(filterParams(f)) : ""));
      }
    } catch (SQLException e) {
      if ("57014".equals(e.getSQLState())) {
        m.put("timeout", "The query was cancelled after " + d.queryTimeout.toSeconds() + " s. Narrow the filter by queue or state.");
        m.put("rows", List.of());
      } else {
        throw new QueException("listing jobs failed: " + e.getMessage(), e);
      }
    }
    m.put("bulk", f.any() && !d.readOnly);
    m.put("maxBulk", num(Dashboard.MAX_BULK));
    return page(m, "jobs", 200, started);
  }

  private void putFilter(Map<String, Object> m, JobsSql.Filter f) {
    m.put("fQueue", f.queue());
    m.put("fClass", f.jobClass());
    m.put("fError", f.error());
    m.put("fArgs", f.args());
    m.put("fState", f.state());
    List<Map<String, Object>> states = new ArrayList<>();
    states.add(Map.of("value", "", "label", "any", "selected", f.state().isEmpty()));
    for (String s : JobsSql.STATES) {
      if (schema < 4 && (s.equals("finished") || s.equals("expired"))) {
        continue;
      }
      states.add(Map.of("value", s, "label", s, "selected", s.equals(f.state())));
    }
    m.put("states", states);
  }

  private Map<String, Object> row(JobsSql.Row r, Instant now) {
    Map<String, Object> m = new HashMap<>();
    m.put("id", r.id());
    m.put("keyParam", schema < 4 ? r.cursor().encode() : null); // schema 3 finds a job by its full key
    m.put("queue", r.queue());
    m.put("priority", r.priority());
    m.put("runAt", time(r.runAt()));
    m.put("jobClass", r.jobClass());
    m.put("args", r.args());
    m.put("errorCount", r.errorCount());
    m.put("error", r.error() == null ? "" : firstLine(r.error()));
    String state = r.state(now);
    m.put("state", state);
    m.put("failing", r.errorCount() > 0 && (state.equals("ready") || state.equals("scheduled")));
    return m;
  }

  private DashboardResponse detail(Exchange x, long id, long started) {
    Map<String, Object> m = x.model("Job " + id, "jobs");
    try (Connection c = ds.getConnection()) {
      String key = x.query.get("key");
      Optional<JobsSql.Detail> found = sql.find(c, id, key.isEmpty() ? null : JobsSql.Cursor.decode(key, "key"));
      if (found.isEmpty()) {
        m.put("id", id);
        return page(m, "nojob", 404, started);
      }
      JobsSql.Detail dt = found.get();
      m.putAll(row(dt.row(), Instant.now()));
      m.put("argsPretty", pretty(dt.args()));
      m.put("kwargsPretty", dt.kwargs() == null ? null : pretty(dt.kwargs()));
      m.put("dataPretty", dt.data() == null ? null : pretty(dt.data()));
      m.put("errorText", dt.error());
      m.put("backtrace", dt.backtrace());
      m.put("finishedAt", dt.row().finishedAt() == null ? null : time(dt.row().finishedAt()));
      m.put("expiredAt", dt.row().expiredAt() == null ? null : time(dt.row().expiredAt()));
      Optional<Integer> pid = JobsSql.holder(c, id);
      if (pid.isPresent()) {
        Map<String, Object> h = new HashMap<>(Map.of("pid", pid.get(), "language", "unknown"));
        for (LockHolder lh : stats.holders()) {
          if (lh.backendPid() == pid.get()) {
            h = holder(lh);
          }
        }
        m.put("holder", h);
      }
      m.put("canWrite", !d.readOnly && dt.row().finishedAt() == null);
    } catch (SQLException e) {
      throw new QueException("reading job " + id + " failed: " + e.getMessage(), e);
    }
    return page(m, "job", 200, started);
  }

  private static Map<String, Object> holder(LockHolder h) {
    Map<String, Object> m = new HashMap<>();
    m.put("pid", h.backendPid());
    m.put("language", h.language());
    m.put("host", h.host().orElse(""));
    m.put("osPid", h.osPid().isPresent() ? Long.toString(h.osPid().getAsLong()) : "");
    m.put("app", h.applicationName().orElse(""));
    m.put("client", h.clientAddress().orElse(""));
    m.put("sessionState", h.state().orElse(""));
    m.put("locks", num(h.locks()));
    return m;
  }

  private boolean deadInstalled() {
    return schema >= 4 || ExtensionMigrator.create(ds, DeadLetters.EXTENSION).currentVersion() > 0;
  }

  private DashboardResponse dead(Exchange x, long started) {
    Map<String, Object> m = x.model("Dead letters", "dead");
    if (!deadInstalled()) {
      m.put("missing", true);
      return page(m, "dead", 200, started);
    }
    DeadLetters dl = DeadLetters.create(d.client);
    String type = x.query.get("type");
    // The counts and the list each read every dead job (on 4 to 7 a scan of que_jobs: no index
    // serves expired_at), so they run at once, each on a connection of its own.
    java.util.concurrent.CompletableFuture<Map<String, Long>> counts =
        java.util.concurrent.CompletableFuture.supplyAsync(dl::countByErrorType);
    List<DeadJob> latest;
    try {
      latest = deadOfType(dl, type, 100);
    } catch (RuntimeException e) {
      counts.handle((v, t) -> null).join(); // never left running after the page
      throw e;
    }
    Map<String, Long> byType;
    try {
      byType = counts.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
    List<Map<String, Object>> groups = new ArrayList<>();
    for (Map.Entry<String, Long> e : byType.entrySet()) {
      groups.add(Map.of("type", e.getKey(), "label", e.getKey().isEmpty() ? "(no error text)" : e.getKey(),
          "count", num(e.getValue()), "typeKey", typeKey(e.getKey()),
          "typeParam", Form.encode(Map.of("type", typeKey(e.getKey()))), "selected", typeKey(e.getKey()).equals(type)));
    }
    m.put("groups", groups);
    m.put("noGroups", groups.isEmpty());
    m.put("type", type);
    List<Map<String, Object>> jobs = new ArrayList<>();
    for (DeadJob j : latest) {
      Map<String, Object> r = new HashMap<>();
      r.put("id", j.id());
      r.put("queue", j.queue());
      r.put("jobClass", j.jobClass());
      r.put("args", j.argsJson().length() > 160 ? j.argsJson().substring(0, 160) + "…" : j.argsJson());
      r.put("errorType", j.errorType());
      r.put("error", j.lastError().map(Pages::firstLine).orElse(""));
      r.put("diedAt", time(j.diedAt()));
      r.put("reason", j.reason());
      r.put("errorCount", j.errorCount());
      jobs.add(r);
    }
    m.put("jobs", jobs);
    m.put("noJobs", jobs.isEmpty());
    return page(m, "dead", 200, started);
  }

  /** An error type as a request parameter: "t:" and the type, or "none" for jobs without error text. */
  private static String typeKey(String errorType) {
    return errorType.isEmpty() ? "none" : "t:" + errorType;
  }

  /** Dead jobs whose error type has this {@link #typeKey} ("" for any), most recent first. */
  private static List<DeadJob> deadOfType(DeadLetters dl, String type, int max) {
    if (type.isEmpty()) {
      return dl.list(DeadJobFilter.all().limit(Math.min(max, DeadJobFilter.MAX_LIMIT)));
    }
    if (!type.equals("none") && !type.startsWith("t:")) {
      throw new Form.BadRequest("type: not an error type of this dashboard");
    }
    String wanted = type.equals("none") ? "" : type.substring(2);
    List<DeadJob> out = new ArrayList<>();
    for (DeadJob j : dl.list(DeadJobFilter.all().limit(DeadJobFilter.MAX_LIMIT))) {
      if (j.errorType().equals(wanted) && out.size() < max) {
        out.add(j);
      }
    }
    return out;
  }

  private boolean schedulesInstalled() {
    return ExtensionMigrator.create(ds, Schedules.EXTENSION).currentVersion() > 0;
  }

  private DashboardResponse schedules(Exchange x, long started) {
    Map<String, Object> m = x.model("Schedules", "schedules");
    if (!schedulesInstalled()) {
      m.put("missing", true);
      return page(m, "schedules", 200, started);
    }
    Schedules s = Schedules.create(ds, d.clock);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (ScheduleStatus st : s.list()) {
      Map<String, Object> r = new HashMap<>();
      r.put("name", st.name());
      r.put("enabled", st.enabled());
      r.put("timing", st.schedule().cron() != null
          ? "cron " + st.schedule().cron() + " (" + st.schedule().timeZone() + ")"
          : "every " + st.schedule().every());
      r.put("jobClass", st.schedule().jobClass());
      r.put("queue", st.schedule().queue() == null ? d.client.defaultQueue() : st.schedule().queue());
      r.put("lastRunAt", st.lastRunAt().map(Pages::time).orElse("never"));
      r.put("lastError", st.lastError().orElse(""));
      List<String> next = new ArrayList<>();
      if (st.enabled()) {
        try {
          for (Instant t : s.nextFireTimes(st.name(), 3)) {
            next.add(time(t));
          }
        } catch (RuntimeException e) {
          next.add("cannot compute: " + e.getMessage());
        }
      }
      r.put("next", next);
      r.put("disabled", !st.enabled());
      rows.add(r);
    }
    m.put("rows", rows);
    m.put("noRows", rows.isEmpty());
    return page(m, "schedules", 200, started);
  }

  private DashboardResponse inflight(Exchange x, long started) {
    Map<String, Object> m = x.model("In flight", "inflight");
    List<Map<String, Object>> rows = new ArrayList<>();
    int hung = 0;
    for (InFlightJob j : InFlight.list(ds)) {
      Map<String, Object> r = new HashMap<>();
      r.put("id", j.jobId());
      r.put("queue", j.queue());
      r.put("jobClass", j.jobClass());
      r.put("source", j.source() == InFlightJob.Source.HEARTBEAT ? "heartbeat" : "advisory lock");
      r.put("pid", j.backendPid());
      r.put("host", j.host().orElse(""));
      r.put("osPid", j.osPid().isPresent() ? Long.toString(j.osPid().getAsLong()) : "");
      r.put("worker", j.workerName().orElse(""));
      r.put("startedAt", j.startedAt().map(Pages::time).orElse(""));
      r.put("lastBeat", j.lastBeat().map(Pages::time).orElse(""));
      r.put("progress", j.progress().isPresent() ? j.progress().getAsInt() + "%" : "");
      r.put("hung", j.hung());
      r.put("hungReason", j.hungReason().orElse(""));
      if (j.hung()) {
        hung++;
      }
      rows.add(r);
    }
    m.put("rows", rows);
    m.put("noRows", rows.isEmpty());
    m.put("hungCount", hung);
    m.put("refresh", d.refreshSeconds);
    return page(m, "inflight", 200, started);
  }

  // ---------------------------------------------------------------- POST

  private DashboardResponse post(Exchange x, long started) {
    if (d.readOnly) {
      return page(message(x, "Read-only", "This dashboard is read-only: it changes nothing."), "message", 403, started);
    }
    String type = x.request.header("Content-Type").orElse("");
    if (!type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      return text(415, "a form (application/x-www-form-urlencoded) is expected");
    }
    x.form = Form.parse(new String(x.request.body(), StandardCharsets.UTF_8));
    if (x.newSession || !csrf.valid(x.session, x.form.get(Csrf.FIELD))) {
      return page(message(x, "Refused", "This request has no valid CSRF token (the form of this dashboard sends one)."
          + " Nothing was changed. Reload the page and try again."), "message", 403, started);
    }
    String p = x.path;
    Matcher m = JOB.matcher(p);
    if (m.matches() && m.group(2) != null) {
      long id = parseId(m.group(1));
      AdminResult r = m.group(2).equals("/retry") ? admin.retry(List.of(id)) : admin.delete(List.of(id));
      return result(x, m.group(2).equals("/retry") ? "Retry" : "Delete", r, started, "/jobs/" + id);
    }
    if (p.equals("/jobs/bulk")) {
      return bulk(x, started);
    }
    Matcher dm = DEAD.matcher(p);
    if (dm.matches()) {
      long id = parseId(dm.group(1));
      DeadLetters dl = deadLetters();
      boolean ok = dm.group(2).equals("replay") ? dl.replay(id) : dl.delete(id);
      String what = dm.group(2).equals("replay") ? "Replay" : "Delete";
      String text = ok ? what + " of dead job " + id + ": done." : what + " of dead job " + id
          + ": skipped (it is no longer dead, a session holds its lock, or que_jobs already has that id).";
      Map<String, Object> mm = message(x, what, text);
      mm.put("back", "/dead");
      mm.put("skipped", !ok);
      return page(mm, "message", 200, started);
    }
    if (p.equals("/dead/bulk")) {
      return deadBulk(x, started);
    }
    if (p.equals("/dead/purge")) {
      return purge(x, started);
    }
    Matcher sm = SCHEDULE.matcher(p);
    if (sm.matches()) {
      return schedule(x, sm.group(1), started);
    }
    return text(404, "not found");
  }

  private DashboardResponse result(Exchange x, String what, AdminResult r, long started, String back) {
    Map<String, Object> m = x.model(what, "jobs");
    m.put("heading", what + ": " + r.done().size() + " done, " + r.held().size() + " skipped, " + r.missing().size() + " not found");
    m.put("done", r.done().size());
    m.put("held", ids(r.held()));
    m.put("heldCount", r.held().size());
    m.put("missing", ids(r.missing()));
    m.put("missingCount", r.missing().size());
    m.put("back", back);
    return page(m, "result", 200, started);
  }

  private static List<Map<String, Object>> ids(List<Long> ids) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Long id : ids.subList(0, Math.min(ids.size(), 200))) {
      out.add(Map.of("id", id));
    }
    return out;
  }

  private DashboardResponse bulk(Exchange x, long started) {
    String action = x.form.get("action");
    if (!action.equals("retry") && !action.equals("delete")) {
      throw new Form.BadRequest("action: must be retry or delete");
    }
    JobsSql.Filter f = filter(x.form, "");
    if (!f.any()) {
      throw new Form.BadRequest("a bulk action needs a filter (queue, class, state, error or args)");
    }
    List<Long> ids;
    try (Connection c = ds.getConnection()) {
      ids = sql.ids(c, f, Dashboard.MAX_BULK, (int) d.queryTimeout.toSeconds() * 4);
    } catch (SQLException e) {
      throw new QueException("finding the jobs of a bulk " + action + " failed: " + e.getMessage(), e);
    }
    if (!x.form.get("confirm").equals("yes")) {
      Map<String, Object> m = x.model("Confirm " + action, "jobs");
      putFilter(m, f);
      m.put("action", action);
      m.put("count", num(ids.size()));
      m.put("capped", ids.size() >= Dashboard.MAX_BULK);
      m.put("maxBulk", num(Dashboard.MAX_BULK));
      m.put("back", "/jobs?" + Form.encode(filterParams(f)));
      m.put("hidden", hidden(filterParams(f)));
      return page(m, "confirm", 200, started);
    }
    AdminResult r = action.equals("retry") ? admin.retry(ids) : admin.delete(ids);
    return result(x, action.equals("retry") ? "Retry" : "Delete", r, started, "/jobs?" + Form.encode(filterParams(f)));
  }

  private static List<Map<String, Object>> hidden(Map<String, String> params) {
    List<Map<String, Object>> out = new ArrayList<>();
    params.forEach((k, v) -> {
      if (!v.isEmpty()) {
        out.add(Map.of("name", k, "value", v));
      }
    });
    return out;
  }

  private DeadLetters deadLetters() {
    if (!deadInstalled()) {
      throw new Form.BadRequest("the deadletter extension is not installed");
    }
    return DeadLetters.create(d.client);
  }

  private DashboardResponse deadBulk(Exchange x, long started) {
    String action = x.form.get("action");
    if (!action.equals("replay") && !action.equals("delete")) {
      throw new Form.BadRequest("action: must be replay or delete");
    }
    String type = x.form.get("type");
    if (type.isEmpty()) {
      throw new Form.BadRequest("type: the error type of the dead jobs to " + action);
    }
    DeadLetters dl = deadLetters();
    List<Long> ids = new ArrayList<>();
    for (DeadJob j : deadOfType(dl, type, DeadJobFilter.MAX_LIMIT)) {
      ids.add(j.id());
    }
    String label = type.equals("none") ? "(no error text)" : type.substring(2);
    if (!x.form.get("confirm").equals("yes")) {
      Map<String, Object> m = x.model("Confirm " + action, "dead");
      m.put("action", action);
      m.put("count", num(ids.size()));
      m.put("what", "dead jobs of error type " + label);
      m.put("back", "/dead");
      m.put("target", "/dead/bulk");
      m.put("hidden", List.of(Map.of("name", "action", "value", action), Map.of("name", "type", "value", type)));
      return page(m, "confirmdead", 200, started);
    }
    int n = 0;
    for (int i = 0; i < ids.size(); i += DeadLetters.MAX_IDS) {
      List<Long> chunk = ids.subList(i, Math.min(ids.size(), i + DeadLetters.MAX_IDS));
      n += action.equals("replay") ? dl.replay(chunk).size() : dl.delete(chunk);
    }
    Map<String, Object> m = message(x, action.equals("replay") ? "Replay" : "Delete",
        (action.equals("replay") ? "Replayed " : "Deleted ") + n + " of " + ids.size() + " dead jobs of error type " + label + "."
            + (n < ids.size() ? " The others were skipped (held by a session, or no longer dead)." : ""));
    m.put("back", "/dead");
    return page(m, "message", 200, started);
  }

  private DashboardResponse purge(Exchange x, long started) {
    String daysText = x.form.get("days");
    int days;
    try {
      days = Integer.parseInt(daysText);
    } catch (NumberFormatException e) {
      throw new Form.BadRequest("days: a whole number of days, got '" + daysText + "'");
    }
    if (days < 0 || days > 36_500) {
      throw new Form.BadRequest("days: 0 to 36500, got " + days);
    }
    DeadLetters dl = deadLetters();
    if (!x.form.get("confirm").equals("yes")) {
      Map<String, Object> m = x.model("Confirm purge", "dead");
      m.put("action", "purge");
      m.put("what", "every dead job that died more than " + days + " days ago");
      m.put("back", "/dead");
      m.put("target", "/dead/purge");
      m.put("hidden", List.of(Map.of("name", "days", "value", Integer.toString(days))));
      return page(m, "confirmdead", 200, started);
    }
    int n = dl.purgeOlderThan(Duration.ofDays(days));
    Map<String, Object> m = message(x, "Purge", "Purged " + n + " dead jobs that died more than " + days + " days ago.");
    m.put("back", "/dead");
    return page(m, "message", 200, started);
  }

  private DashboardResponse schedule(Exchange x, String action, long started) {
    if (!schedulesInstalled()) {
      throw new Form.BadRequest("the schedule extension is not installed");
    }
    String name = x.form.get("name");
    Schedules s = Schedules.create(ds, d.clock);
    Optional<ScheduleStatus> st = s.get(name);
    if (st.isEmpty()) {
      Map<String, Object> m = message(x, "No such schedule", "There is no schedule named " + name + ".");
      m.put("back", "/schedules");
      return page(m, "message", 404, started);
    }
    String text;
    switch (action) {
      case "enable" -> text = s.enable(name) ? "Enabled schedule " + name + "." : "Schedule " + name + " was already enabled.";
      case "disable" -> text = s.disable(name) ? "Disabled schedule " + name + "." : "Schedule " + name + " was already disabled.";
      default -> {
        var sc = st.get().schedule();
        NewJob job = NewJob.ofJson(sc.jobClass(), sc.argsJson()).priority(sc.priority());
        if (sc.queue() != null) {
          job = job.queue(sc.queue());
        }
        long id = d.client.enqueue(job).id();
        text = "Enqueued job " + id + " (" + sc.jobClass() + ") from schedule " + name + " now; its next run is unchanged.";
      }
    }
    Map<String, Object> m = message(x, "Schedule " + name, text);
    m.put("back", "/schedules");
    return page(m, "message", 200, started);
  }

  // ---------------------------------------------------------------- rendering

  private Map<String, Object> message(Exchange x, String title, String text) {
    Map<String, Object> m = x.model(title, "");
    m.put("heading", title);
    m.put("text", text);
    return m;
  }

  private Template template(String name) {
    return templates.computeIfAbsent(name, n -> {
      try (InputStream in = Pages.class.getResourceAsStream("templates/" + n + ".mustache")) {
        if (in == null) {
          throw new IllegalStateException("template " + n + " is missing from the jar");
        }
        try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
          return mustache.compile(r);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  private DashboardResponse page(Map<String, Object> model, String name, int status, long started) {
    String body = template(name).execute(model);
    Map<String, Object> layout = new HashMap<>(model);
    layout.put("body", body);
    layout.put("ms", String.format(Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e6));
    byte[] html = template("layout").execute(layout).getBytes(StandardCharsets.UTF_8);
    Map<String, List<String>> h = securityHeaders();
    h.put("Content-Type", List.of("text/html; charset=utf-8"));
    return new DashboardResponse(status, h, html);
  }

  private static Map<String, List<String>> securityHeaders() {
    Map<String, List<String>> h = new LinkedHashMap<>();
    h.put("Content-Security-Policy", List.of(CSP));
    h.put("X-Frame-Options", List.of("DENY"));
    h.put("X-Content-Type-Options", List.of("nosniff"));
    h.put("Referrer-Policy", List.of("no-referrer"));
    h.put("Cache-Control", List.of("no-store"));
    return h;
  }

  private static DashboardResponse text(int status, String text) {
    Map<String, List<String>> h = securityHeaders();
    h.put("Content-Type", List.of("text/plain; charset=utf-8"));
    return new DashboardResponse(status, h, (text + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private static DashboardResponse with(DashboardResponse r, String header, String value) {
    Map<String, List<String>> h = new LinkedHashMap<>(r.headers());
    List<String> values = new ArrayList<>(h.getOrDefault(header, List.of()));
    values.add(value);
    h.put(header, values);
    return new DashboardResponse(r.status(), h, r.body());
  }

  private static final Map<String, String> ASSETS = Map.of("dashboard.css", "text/css; charset=utf-8",
      "dashboard.js", "text/javascript; charset=utf-8");

  private DashboardResponse asset(String name) {
    String type = ASSETS.get(name);
    if (type == null) {
      return text(404, "not found");
    }
    try (InputStream in = Pages.class.getResourceAsStream("assets/" + name)) {
      if (in == null) {
        return text(404, "not found");
      }
      Map<String, List<String>> h = securityHeaders();
      h.put("Content-Type", List.of(type));
      h.put("Cache-Control", List.of("max-age=300"));
      return new DashboardResponse(200, h, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static long parseId(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new Form.BadRequest("job id: not a number");
    }
  }

  private static String cookie(DashboardRequest r, String name) {
    for (String header : r.headers().getOrDefault("Cookie", List.of())) {
      for (String part : header.split(";")) {
        String p = part.trim();
        if (p.startsWith(name + "=")) {
          return p.substring(name.length() + 1);
        }
      }
    }
    return null;
  }

  private static String pretty(String json) {
    if (json == null) {
      return "";
    }
    try {
      return JSON.writeValueAsString(JSON.readTree(json));
    } catch (IOException e) {
      return json;
    }
  }

  static String firstLine(String s) {
    int nl = s.indexOf('\n');
    String line = nl >= 0 ? s.substring(0, nl) : s;
    return line.length() > 160 ? line.substring(0, 160) + "…" : line;
  }

  static String time(Instant t) {
    return TIME.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  static String num(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  static String age(Duration d) {
    long s = d.toSeconds();
    if (s < 1) {
      return d.toMillis() + " ms";
    }
    if (s < 120) {
      return s + " s";
    }
    if (s < 7200) {
      return s / 60 + " min";
    }
    if (s < 172_800) {
      return s / 3600 + " h";
    }
    return s / 86_400 + " d";
  }
}
