package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/**
 * A form POST still reaches the dashboard whole when a filter of the application parses forms
 * first: Spring's HiddenHttpMethodFilter calls getParameter on every POST, which consumes the body.
 * The application also has a servlet context path and a DispatcherServlet prefix, which come in
 * front of que.dashboard.path in the dashboard's links, forms and cookie.
 */
@SpringBootTest(
    classes = QueSpringDashboardFormFilterTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "que.migrate=true",
      "que.dashboard.enabled=true",
      "que.dashboard.insecure=true",
      "spring.mvc.hiddenmethod.filter.enabled=true",
      "server.servlet.context-path=/shop",
      "spring.mvc.servlet.path=/mvc"
    })
class QueSpringDashboardFormFilterTest {
  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    DataSource dataSource() {
      return TestDatabase.newSchema("spring_dashboard_filter");
    }
  }

  @LocalServerPort int port;
  @Autowired Client client;
  @Autowired JdbcTemplate jdbc;

  @Test
  void aFormPostParsedByAFilterArrivesIntact() throws Exception {
    QueSpringDashboardTest.bulkDeleteThroughTheForm(new DashboardHttp(port), "/shop/mvc/que", client, jdbc, "naïve q&a=1");
  }

  @Test
  void aPostWithoutTokenIsStillRefused() throws Exception {
    Job job = client.enqueue(NewJob.of("Dash::Kept", 1).queue("parked"));
    assertEquals(403, new DashboardHttp(port).post("/shop/mvc/que/jobs/" + job.id() + "/delete", null, "a=1").statusCode());
    assertEquals(1, jdbc.queryForObject("SELECT count(*) FROM que_jobs WHERE job_id = ?", Integer.class, job.id()));
  }

  @Test
  void linksAndCookieCarryTheContextPathAndServletPrefix() throws Exception {
    HttpResponse<String> page = new DashboardHttp(port).get("/shop/mvc/que");
    assertEquals(200, page.statusCode(), page.body());
    assertTrue(page.body().contains("href=\"/shop/mvc/que/jobs"), page.body());
    assertTrue(page.headers().firstValue("Set-Cookie").orElse("").contains("Path=/shop/mvc/que"),
        page.headers().toString());
    assertEquals(404, new DashboardHttp(port).get("/que").statusCode());
  }
}
