package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.dashboard.Dashboard;
import io.quejava.testing.Await;
import io.quejava.testing.TestDatabase;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The dashboard mounted at /que in a real Tomcat on a random port, over a real PostgreSQL, with
 * {@code que.dashboard.insecure=true} (no authentication; QueSpringDashboardAuthTest has it).
 */
@SpringBootTest(
    classes = QueSpringDashboardTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "que.migrate=true",
      "que.worker.queues=default",
      "que.worker.wake-interval=200ms",
      "que.dashboard.enabled=true",
      "que.dashboard.insecure=true",
      "que.dashboard.refresh-seconds=0"
    })
class QueSpringDashboardTest {
  static final CountDownLatch WORKED = new CountDownLatch(1);
  private static final Pattern WORKED_COUNT = Pattern.compile("(\\d+) worked, (\\d+) failed");

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    DataSource dataSource() {
      return TestDatabase.newSchema("spring_dashboard");
    }

    @Bean
    io.quejava.HandlerProvider dashWorked() {
      return work -> work.put("Dash::Worked", job -> WORKED.countDown());
    }

    @Bean
    Hello hello() {
      return new Hello();
    }
  }

  /** A controller of the application next to the dashboard. */
  @RestController
  static class Hello {
    @GetMapping("/hello")
    String hello() {
      return "hello from the application";
    }
  }

  @LocalServerPort int port;
  @Autowired Client client;
  @Autowired JdbcTemplate jdbc;
  @Autowired Dashboard dashboard;

  @Test
  void overviewAnswersHtmlWithItsSessionCookieUnderThePath() throws Exception {
    HttpResponse<String> page = new DashboardHttp(port).get("/que");
    assertEquals(200, page.statusCode(), page.body());
    assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), page.headers().toString());
    assertTrue(page.body().contains("<h1>Overview</h1>") || page.body().contains("Overview"), page.body());
    assertTrue(page.body().contains("href=\"/que/jobs"), "links carry the mount path");
    assertTrue(page.headers().firstValue("Set-Cookie").orElse("").contains("Path=/que"), page.headers().toString());
    assertEquals("DENY", page.headers().firstValue("X-Frame-Options").orElse(null), "every dashboard header is copied");
    assertEquals("/que", dashboard.basePath());

    assertEquals(200, new DashboardHttp(port).get("/que/").statusCode());
    assertEquals(200, new DashboardHttp(port).get("/que/assets/dashboard.css").statusCode());
    assertEquals(404, new DashboardHttp(port).get("/que/no-such-page").statusCode());
    HttpResponse<String> head = new DashboardHttp(port).head("/que");
    assertEquals(200, head.statusCode());
    assertEquals("", head.body(), "HEAD has no body");
    HttpResponse<String> tooLarge = new DashboardHttp(port).post("/que/jobs/bulk", null, "a=" + "x".repeat(2 << 20));
    assertEquals(413, tooLarge.statusCode(), "a body over 1 MiB is refused");
    // The application's own routes are untouched.
    HttpResponse<String> hello = new DashboardHttp(port).get("/hello");
    assertEquals(200, hello.statusCode());
    assertEquals("hello from the application", hello.body());
  }

  @Test
  void anEnqueuedJobShowsUpInTheJobsList() throws Exception {
    Job job = client.enqueue(NewJob.of("Dash::Listed", "<b>not bold</b>").queue("parked"));
    HttpResponse<String> list = new DashboardHttp(port).get("/que/jobs?queue=parked");
    assertEquals(200, list.statusCode(), list.body());
    assertTrue(list.body().contains("Dash::Listed"), list.body());
    // The link carries the base path (on schema 3 also the job's key: ?key=...).
    assertTrue(list.body().matches("(?s).*href=\"/que/jobs/" + job.id() + "(\\?key=[^\"]*)?\".*"), list.body());
    assertFalse(list.body().contains("<b>not bold</b>"), "args from the table are escaped");

    HttpResponse<String> detail = new DashboardHttp(port).get("/que/jobs/" + job.id());
    assertEquals(200, detail.statusCode());
    assertTrue(detail.body().contains("Dash::Listed"));
  }

  @Test
  void aPostWithoutCsrfTokenIsRefused() throws Exception {
    Job job = client.enqueue(NewJob.of("Dash::Kept", 1).queue("parked"));
    DashboardHttp http = new DashboardHttp(port);
    HttpResponse<String> noCookie = http.post("/que/jobs/" + job.id() + "/delete", null, "");
    assertEquals(403, noCookie.statusCode(), noCookie.body());

    // A real session cookie but a forged token.
    String cookie = DashboardHttp.sessionCookie(http.get("/que/jobs/" + job.id()));
    HttpResponse<String> forged = http.post("/que/jobs/" + job.id() + "/delete", cookie, "_csrf=forged-token-value");
    assertEquals(403, forged.statusCode(), forged.body());
    assertEquals(1, jdbc.queryForObject("SELECT count(*) FROM que_jobs WHERE job_id = ?", Integer.class, job.id()));
  }

  @Test
  void aFormPostArrivesIntact() throws Exception {
    bulkDeleteThroughTheForm(new DashboardHttp(port), "/que", client, jdbc, "café-q");
  }

  /**
   * A bulk delete through two form POSTs (confirm page, then confirmed) of the jobs of a queue whose
   * name needs percent-encoding, with a query string on the POST naming another queue: it must take
   * the body's queue, decoded right, and delete those jobs only.
   */
  static void bulkDeleteThroughTheForm(DashboardHttp http, String base, Client client, JdbcTemplate jdbc,
      String queue) throws Exception {
    String other = queue + "-other";
    String encoded = java.net.URLEncoder.encode(queue, java.nio.charset.StandardCharsets.UTF_8);
    client.enqueue(NewJob.of("Dash::Bulk", 1).queue(queue));
    client.enqueue(NewJob.of("Dash::Bulk", 2).queue(queue));
    Job kept = client.enqueue(NewJob.of("Dash::Bulk", 3).queue(other));
    HttpResponse<String> page = http.get(base + "/jobs?queue=" + encoded);
    assertEquals(200, page.statusCode(), page.body());
    assertTrue(page.body().contains("action=\"" + base + "/jobs/bulk\""), "forms post to " + base);
    String cookie = DashboardHttp.sessionCookie(page);
    String token = DashboardHttp.csrfToken(page);

    HttpResponse<String> confirm = http.post(base + "/jobs/bulk?queue=" + encoded + "-other", cookie,
        "_csrf=" + token + "&action=delete&queue=" + encoded);
    assertEquals(200, confirm.statusCode(), confirm.body());
    // As the page escapes it (JMustache: & and = among others).
    String shown = queue.replace("&", "&amp;").replace("=", "&#x3D;");
    assertTrue(confirm.body().contains("2 job(s) match queue “" + shown + "”"), confirm.body());

    HttpResponse<String> done = http.post(base + "/jobs/bulk", cookie,
        "_csrf=" + token + "&action=delete&confirm=yes&queue=" + encoded);
    assertEquals(200, done.statusCode(), done.body());
    assertEquals(0, jdbc.queryForObject("SELECT count(*) FROM que_jobs WHERE queue = ?", Integer.class, queue));
    assertEquals(1, jdbc.queryForObject("SELECT count(*) FROM que_jobs WHERE job_id = ?", Integer.class, kept.id()));
  }

  @Test
  void theThroughputChartCountsThisApplicationsPool() throws Exception {
    client.enqueue(NewJob.of("Dash::Worked", 1).queue("default"));
    assertTrue(WORKED.await(20, TimeUnit.SECONDS), "Dash::Worked ran");
    DashboardHttp http = new DashboardHttp(port);
    // The listener hears the attempt end just after the handler returns.
    Await.until(Duration.ofSeconds(20), "the overview counts a worked job", () -> {
      try {
        Matcher m = WORKED_COUNT.matcher(http.get("/que").body());
        return m.find() && Long.parseLong(m.group(1)) >= 1;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
  }
}
