package io.quejava.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.NewJob;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The dashboard at the HTTP level: authentication, read-only mode, the bind default, CSRF,
 * escaping and the security headers, through {@link Dashboard#handle} and through its own server.
 */
class DashboardHttpTest extends DashboardTestBase {
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void bindsLoopbackByDefaultAndRefusesOtherAddressesWithoutAuthentication() throws Exception {
    Dashboard dashboard = Dashboard.builder(client).build();
    try (DashboardServer server = dashboard.start(0)) {
      assertTrue(server.address().getAddress().isLoopbackAddress(), server.address().toString());
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(server.url() + "/")));
      assertEquals(200, r.statusCode(), r.body());
      assertTrue(r.body().contains("<h1>Overview</h1>"), r.body());
    }
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> dashboard.start(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0)));
    assertTrue(e.getMessage().contains("without authentication"), e.getMessage());
    // With authentication, or insecure on purpose, it serves there.
    try (DashboardServer s = Dashboard.builder(client).basicAuth("ops", "pw").build()
        .start(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0))) {
      assertFalse(s.address().getAddress().isLoopbackAddress());
    }
    try (DashboardServer s = Dashboard.builder(client).insecure(true).build()
        .start(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0))) {
      assertTrue(s.address().getPort() > 0);
    }
  }

  @Test
  void basicAuthAsksForCredentialsAndChecksThem() throws Exception {
    Dashboard dashboard = Dashboard.builder(client).basicAuth("ops", "s3cret").basePath("/que").build();
    try (DashboardServer server = dashboard.start(0)) {
      URI overview = URI.create(server.url() + "/");
      HttpResponse<String> none = send(HttpRequest.newBuilder(overview));
      assertEquals(401, none.statusCode());
      assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic "), none.headers().toString());
      HttpResponse<String> wrong = send(HttpRequest.newBuilder(overview).header("Authorization", basic("ops", "nope")));
      assertEquals(401, wrong.statusCode());
      HttpResponse<String> asset = send(HttpRequest.newBuilder(URI.create(server.url() + "/assets/dashboard.css")));
      assertEquals(401, asset.statusCode(), "assets are behind authentication too");
      HttpResponse<String> right = send(HttpRequest.newBuilder(overview).header("Authorization", basic("ops", "s3cret")));
      assertEquals(200, right.statusCode(), right.body());
      assertTrue(right.body().contains("href=\"/que/jobs\""), "links carry the base path");
      HttpResponse<String> outside = send(HttpRequest.newBuilder(URI.create(server.url().replace("/que", "/other")))
          .header("Authorization", basic("ops", "s3cret")));
      assertEquals(404, outside.statusCode());
    }
    assertThrows(IllegalArgumentException.class, () -> Dashboard.builder(client).basicAuth("a:b", "x"));
    assertThrows(IllegalArgumentException.class, () -> Dashboard.builder(client).basicAuth("a", ""));
    assertThrows(IllegalArgumentException.class, () -> Dashboard.builder(client).basePath("que/"));
  }

  @Test
  void aPluggableAuthenticatorDecides() {
    Dashboard dashboard = Dashboard.builder(client).authenticator(r -> r.header("X-User")).build();
    assertEquals(401, dashboard.handle(get("/")).status());
    DashboardResponse ok = dashboard.handle(new DashboardRequest("GET", "/", "", java.util.Map.of("x-user", List.of("ada")), null, ""));
    assertEquals(200, ok.status(), ok.bodyText());
  }

  @Test
  void readOnlyShowsNoButtonsAndRefusesEveryPost() throws Exception {
    long id = client.enqueue(NewJob.of("Boom", 1)).id();
    sql.exec("UPDATE que_jobs SET error_count = 2, " + errorColumn() + " = 'RuntimeError: boom' WHERE " + idColumn() + " = ?", id);
    Dashboard dashboard = Dashboard.builder(client).readOnly(true).build();
    DashboardResponse page = dashboard.handle(get("/jobs/" + id));
    assertEquals(200, page.status());
    assertTrue(page.bodyText().contains("read-only"));
    assertFalse(page.bodyText().contains("/retry"), "no retry button on a read-only dashboard");
    String cookie = cookie(page);
    DashboardResponse refused = dashboard.handle(post("/jobs/" + id + "/retry", cookie, "_csrf=whatever"));
    assertEquals(403, refused.status());
    assertTrue(refused.bodyText().contains("read-only"), refused.bodyText());
    assertEquals(2L, sql.count("SELECT error_count FROM que_jobs WHERE " + idColumn() + " = ?", id));
  }

  @Test
  void aPostWithoutTheTokenIsRefusedAndChangesNothing() throws Exception {
    Instant later = Instant.now().plusSeconds(3600);
    long id = client.enqueue(NewJob.of("Later").runAt(later)).id();
    Dashboard dashboard = Dashboard.builder(client).build();
    DashboardResponse page = dashboard.handle(get("/jobs/" + id));
    String cookie = cookie(page);
    String token = token(page);
    // No token, a wrong token, a token without its cookie, a token of another session.
    assertEquals(403, dashboard.handle(post("/jobs/" + id + "/retry", cookie, "")).status());
    assertEquals(403, dashboard.handle(post("/jobs/" + id + "/retry", cookie, "_csrf=AAAA" + token.substring(4))).status());
    assertEquals(403, dashboard.handle(post("/jobs/" + id + "/retry", null, "_csrf=" + token)).status());
    assertEquals(403, dashboard.handle(post("/jobs/" + id + "/retry", "que_dashboard_session=someoneElsesSession123", "_csrf=" + token)).status());
    // GET never writes.
    assertEquals(405, dashboard.handle(get("/jobs/" + id + "/retry")).status());
    assertTrue(runAt(id).isAfter(Instant.now().plusSeconds(3000)), "run_at unchanged");
    // With both it goes through.
    DashboardResponse done = dashboard.handle(post("/jobs/" + id + "/retry", cookie, "_csrf=" + token));
    assertEquals(200, done.status(), done.bodyText());
    assertTrue(done.bodyText().contains("1 done"), done.bodyText());
    assertTrue(runAt(id).isBefore(Instant.now().plusSeconds(5)));
  }

  @Test
  void instancesSharingACsrfSecretAcceptEachOthersTokens() throws Exception {
    long id = client.enqueue(NewJob.of("Later").runAt(Instant.now().plusSeconds(3600))).id();
    byte[] secret = new byte[32];
    java.util.Arrays.fill(secret, (byte) 7);
    Dashboard one = Dashboard.builder(client).csrfSecret(secret).build();
    Dashboard two = Dashboard.builder(client).csrfSecret(secret).build();
    Dashboard other = Dashboard.builder(client).build();
    DashboardResponse page = one.handle(get("/jobs/" + id));
    String form = "_csrf=" + token(page);
    assertEquals(403, other.handle(post("/jobs/" + id + "/retry", cookie(page), form)).status());
    assertEquals(200, two.handle(post("/jobs/" + id + "/retry", cookie(page), form)).status());
    assertThrows(IllegalArgumentException.class, () -> Dashboard.builder(client).csrfSecret(new byte[16]));
  }

  @Test
  void everyTextFromTheTableIsEscapedAndHeadersAreStrict() throws Exception {
    String probe = "<script>alert(1)</script>";
    long id = client.enqueue(NewJob.of(probe, "<img src=x onerror=alert(2)>").queue("q\"><b>x</b>")).id();
    sql.exec("UPDATE que_jobs SET error_count = 1, " + errorColumn() + " = ? WHERE " + idColumn() + " = ?", "</pre><script>alert(3)</script>", id);
    Dashboard dashboard = Dashboard.builder(client).build();
    for (String path : List.of("/", "/jobs", "/failing", "/jobs/" + id)) {
      DashboardResponse r = dashboard.handle(get(path));
      assertEquals(200, r.status(), path);
      String body = r.bodyText();
      assertFalse(body.contains("<script>alert"), path + " has raw script: " + body);
      assertFalse(body.contains("<img src=x"), path);
      assertFalse(body.contains("<b>x</b>"), path);
      assertTrue(r.header("Content-Security-Policy").orElse("").contains("script-src 'self'"), path);
      assertEquals("DENY", r.header("X-Frame-Options").orElse(""));
      assertEquals("nosniff", r.header("X-Content-Type-Options").orElse(""));
    }
    String detail = dashboard.handle(get("/jobs/" + id)).bodyText();
    assertTrue(detail.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), detail);
  }

  @Test
  void bulkRetryAsksForConfirmationFirst() throws Exception {
    Instant later = Instant.now().plusSeconds(3600);
    for (int i = 0; i < 3; i++) {
      client.enqueue(NewJob.of("Flaky", i).queue("bulk").runAt(later));
    }
    client.enqueue(NewJob.of("Other", 9).queue("bulk").runAt(later));
    Dashboard dashboard = Dashboard.builder(client).build();
    DashboardResponse page = dashboard.handle(get("/jobs?queue=bulk&class=Flaky"));
    String cookie = cookie(page);
    String form = "_csrf=" + token(page) + "&queue=bulk&class=Flaky&state=&error=&args=&action=retry";
    DashboardResponse confirm = dashboard.handle(post("/jobs/bulk", cookie, form));
    assertEquals(200, confirm.status(), confirm.bodyText());
    assertTrue(confirm.bodyText().contains("3 job(s) match"), confirm.bodyText());
    assertEquals(4L, sql.count("SELECT count(*) FROM que_jobs WHERE run_at > now() + interval '50 minutes'"), "nothing yet");
    DashboardResponse done = dashboard.handle(post("/jobs/bulk", cookie, form + "&confirm=yes"));
    assertTrue(done.bodyText().contains("3 done, 0 skipped"), done.bodyText());
    assertEquals(1L, sql.count("SELECT count(*) FROM que_jobs WHERE run_at > now() + interval '50 minutes'"), "Other untouched");
  }

  @Test
  void pagesFollowTheKeyAndFiltersNarrow() throws Exception {
    for (int i = 0; i < 7; i++) {
      client.enqueue(NewJob.of("Page", i, "needle-" + (i % 2 == 0 ? "even" : "odd")).queue(i < 4 ? "a" : "b").priority(100 + i % 3));
    }
    Dashboard dashboard = Dashboard.builder(client).pageSize(3).build();
    java.util.List<String> seen = new java.util.ArrayList<>();
    String path = "/jobs";
    int pages = 0;
    while (path != null) {
      DashboardResponse r = dashboard.handle(get(path));
      assertEquals(200, r.status(), r.bodyText());
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("class=\"job\">(\\d+)</a>").matcher(r.bodyText());
      while (m.find()) {
        seen.add(m.group(1));
      }
      java.util.regex.Matcher next = java.util.regex.Pattern.compile("href=\"([^\"]*)\" id=\"next\"").matcher(r.bodyText());
      path = next.find() ? next.group(1).replace("&amp;", "&").replace("&#x3D;", "=") : null;
      pages++;
    }
    assertEquals(3, pages);
    assertEquals(7, seen.size(), seen.toString());
    assertEquals(7, new java.util.HashSet<>(seen).size(), "no job twice: " + seen);
    String odd = dashboard.handle(get("/jobs?args=NEEDLE-ODD")).bodyText();
    assertEquals(3, odd.split("class=\"job\"").length - 1, "args filter is a case-insensitive substring");
    String b = dashboard.handle(get("/jobs?queue=b&args=needle-even")).bodyText();
    assertEquals(2, b.split("class=\"job\"").length - 1, "queue b has jobs 4 and 6 even");
    if (schemaVersion() >= 4) {
      String json = dashboard.handle(get("/jobs?args=" + java.net.URLEncoder.encode("[5]", StandardCharsets.UTF_8))).bodyText();
      assertEquals(1, json.split("class=\"job\"").length - 1, "JSON args filter is containment: " + json);
    }
  }

  @Test
  void aPartialSearchSaysSoAndItsContinuationsFindEveryMatch() throws Exception {
    String array = schemaVersion() >= 4 ? "jsonb_build_array" : "json_build_array";
    String jsv = schemaVersion() >= 6 ? ", job_schema_version" : "";
    String jsvValue = schemaVersion() >= 6 ? ", 2" : "";
    // 3,000 jobs; every 97th is a Mail job (30 of them), spread through the key order.
    sql.exec("INSERT INTO que_jobs (queue, priority, run_at, job_class, args" + jsv + ")"
        + " SELECT 'q' || (g % 3), 100, now() + g * interval '1 ms', CASE WHEN g % 97 = 0 THEN 'Mail' ELSE 'Work' END, "
        + array + "(g)" + jsvValue + " FROM generate_series(1, 3000) g");
    // Each request reads one slice of 250 rows: a page of 5 is never full before the budget ends.
    Dashboard dashboard = Dashboard.builder(client).pageSize(5).search(0, 250).build();
    java.util.Set<String> seen = new java.util.HashSet<>();
    int found = 0;
    int partial = 0;
    String path = "/jobs?class=Mail";
    int requests = 0;
    while (path != null) {
      assertTrue(++requests < 100, "ends");
      String body = dashboard.handle(get(path)).bodyText();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("class=\"job\">(\\d+)</a>").matcher(body);
      while (m.find()) {
        seen.add(m.group(1));
        found++;
      }
      java.util.regex.Matcher next = java.util.regex.Pattern.compile("href=\"([^\"]*)\" id=\"(next|continue)\"").matcher(body);
      if (body.contains("Partial result.")) {
        partial++;
        assertTrue(body.contains("this one searched 250 rows, up to"), body);
        assertTrue(next.find() && next.group(2).equals("continue"), "a partial page links to its continuation: " + body);
        next.reset();
      }
      path = next.find() ? next.group(1).replace("&amp;", "&").replace("&#x3D;", "=") : null;
    }
    assertEquals(30, seen.size(), seen.toString());
    assertEquals(30, found, "no job twice");
    assertTrue(partial >= 10, partial + " partial pages");
    // A bulk action over the same filter is complete: its confirm page counts all 30.
    DashboardResponse first = dashboard.handle(get("/jobs?class=Mail"));
    DashboardResponse confirm = dashboard.handle(post("/jobs/bulk", cookie(first), "_csrf=" + token(first) + "&action=delete&class=Mail"));
    assertTrue(confirm.bodyText().contains("<h1>Confirm: delete 30 jobs</h1>"), confirm.bodyText());
  }

  @Test
  void aJobPageFindsItsJobByTheKeyOfTheListsLinkAndByItsIdAlone() throws Exception {
    long id = client.enqueue(NewJob.of("KeyedJob", 1).queue("keys")).id();
    Dashboard dashboard = Dashboard.builder(client).build();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("href=\"([^\"]*)\" class=\"job\">" + id + "<")
        .matcher(dashboard.handle(get("/jobs")).bodyText());
    assertTrue(m.find());
    String link = m.group(1).replace("&amp;", "&").replace("&#x3D;", "=");
    assertEquals(schemaVersion() == 3, link.contains("?key="), link);
    assertTrue(dashboard.handle(get(link)).bodyText().contains("KeyedJob"));
    // The job's key moves (as a retry moves run_at): the stale link still finds it, by id.
    sql.exec("UPDATE que_jobs SET run_at = run_at - interval '1 hour' WHERE " + idColumn() + " = ?", id);
    DashboardResponse moved = dashboard.handle(get(link));
    assertEquals(200, moved.status());
    assertTrue(moved.bodyText().contains("KeyedJob"), moved.bodyText());
    DashboardResponse bad = dashboard.handle(get("/jobs/" + id + "?key=%21%21"));
    assertEquals(400, bad.status());
    assertTrue(bad.bodyText().contains("key: not a job key"), bad.bodyText());
  }

  @Test
  void aHungJobIsFlaggedAndItsHolderNamed() throws Exception {
    io.quejava.ext.heartbeat.Heartbeats.install(ds);
    long id = client.enqueue(NewJob.of("Reports::Monthly", 2026).queue("reports")).id();
    Dashboard dashboard = Dashboard.builder(client).build();
    try (java.sql.Connection worker = ds.getConnection(); java.sql.Statement st = worker.createStatement()) {
      st.execute("SELECT pg_advisory_lock(" + id + ")");
      // A que-java worker on host build-7 whose heartbeat stopped a minute ago (beats every second).
      st.execute("INSERT INTO que_heartbeats (job_id, backend_pid, queue, job_class, worker_name, host, os_pid, started_at,"
          + " last_beat, beat_interval) VALUES (" + id + ", pg_backend_pid(), 'reports', 'Reports::Monthly', 'que-worker-3',"
          + " 'build-7', 4242, now() - interval '2 minutes', now() - interval '1 minute', interval '1 second')");
      DashboardResponse inflight = dashboard.handle(get("/inflight"));
      assertEquals(200, inflight.status());
      String body = inflight.bodyText();
      assertTrue(body.contains("HUNG") && body.contains("heartbeat stale since"), body);
      assertTrue(body.contains("build-7") && body.contains("que-worker-3"), body);
      String job = dashboard.handle(get("/jobs/" + id)).bodyText();
      assertTrue(job.contains("language java") && job.contains("host build-7") && job.contains("OS pid 4242"), job);
    } finally {
      sql.exec("DELETE FROM que_heartbeats");
    }
  }

  @Test
  void badInputIsA400WithAReason() {
    Dashboard dashboard = Dashboard.builder(client).build();
    DashboardResponse r = dashboard.handle(get("/jobs?state=bogus"));
    assertEquals(400, r.status());
    assertTrue(r.bodyText().contains("state"), r.bodyText());
    assertEquals(400, dashboard.handle(get("/jobs?after=%%%")).status());
    assertEquals(400, dashboard.handle(get("/jobs?after=bm90IGEgY3Vyc29y")).status());
    assertEquals(404, dashboard.handle(get("/nope")).status());
    assertEquals(405, dashboard.handle(DashboardRequest.of("DELETE", "/jobs", "")).status());
  }

  private Instant runAt(long id) throws Exception {
    return (Instant) sql.one("SELECT run_at FROM que_jobs WHERE " + idColumn() + " = ?", id);
  }

  private static String basic(String user, String pw) {
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + pw).getBytes(StandardCharsets.UTF_8));
  }

}
