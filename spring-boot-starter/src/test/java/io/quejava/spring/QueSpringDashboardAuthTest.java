package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.testing.TestDatabase;
import java.net.http.HttpResponse;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

/** The mounted dashboard with basic auth from properties, read-only, under another path, in a real Tomcat. */
@SpringBootTest(
    classes = QueSpringDashboardAuthTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "que.migrate=true",
      "que.dashboard.enabled=true",
      "que.dashboard.path=/admin/que",
      "que.dashboard.read-only=true",
      "que.dashboard.basic-auth.username=ops",
      "que.dashboard.basic-auth.password=s3cret:with colon"
    })
class QueSpringDashboardAuthTest {
  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    DataSource dataSource() {
      return TestDatabase.newSchema("spring_dashboard_auth");
    }
  }

  @LocalServerPort int port;
  @Autowired Client client;
  @Autowired JdbcTemplate jdbc;

  @Test
  void withoutCredentialsItAnswers401AndWithThemTheOverview() throws Exception {
    HttpResponse<String> none = new DashboardHttp(port).get("/admin/que");
    assertEquals(401, none.statusCode(), none.body());
    assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic "), none.headers().toString());
    assertEquals(401, new DashboardHttp(port).get("/admin/que/assets/dashboard.css").statusCode(), "assets too");

    assertEquals(401, new DashboardHttp(port).basic("ops", "wrong").get("/admin/que").statusCode());
    assertEquals(401, new DashboardHttp(port).basic("someone", "s3cret:with colon").get("/admin/que").statusCode());

    HttpResponse<String> ok = new DashboardHttp(port).basic("ops", "s3cret:with colon").get("/admin/que");
    assertEquals(200, ok.statusCode(), ok.body());
    assertTrue(ok.body().contains("href=\"/admin/que/jobs"), "links carry the configured path");
    // Nothing is mounted at the default path.
    assertEquals(404, new DashboardHttp(port).basic("ops", "s3cret:with colon").get("/que").statusCode());
  }

  @Test
  void readOnlyRefusesWrites() throws Exception {
    Job job = client.enqueue(NewJob.of("Dash::ReadOnly", 1).queue("parked"));
    DashboardHttp http = new DashboardHttp(port).basic("ops", "s3cret:with colon");
    HttpResponse<String> page = http.get("/admin/que/jobs/" + job.id());
    assertEquals(200, page.statusCode(), page.body());
    assertFalse(page.body().contains("id=\"delete\""), "no delete button on a read-only dashboard");
    String cookie = DashboardHttp.sessionCookie(page);
    // Read-only pages carry no forms; the refusal comes before any token check.
    HttpResponse<String> refused = http.post("/admin/que/jobs/" + job.id() + "/delete", cookie, "_csrf=whatever");
    assertEquals(403, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("read-only"), refused.body());
    assertEquals(1, jdbc.queryForObject("SELECT count(*) FROM que_jobs WHERE job_id = ?", Integer.class, job.id()));

    // A POST without credentials is refused before anything else.
    assertEquals(401, new DashboardHttp(port).post("/admin/que/jobs/" + job.id() + "/delete", cookie, "").statusCode());
  }
}
