package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.testing.TestDatabase;
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
 */
@SpringBootTest(
    classes = QueSpringDashboardFormFilterTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "que.migrate=true",
      "que.dashboard.enabled=true",
      "que.dashboard.insecure=true",
      "spring.mvc.hiddenmethod.filter.enabled=true"
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
    QueSpringDashboardTest.bulkDeleteThroughTheForm(new DashboardHttp(port), client, jdbc, "naïve q&a=1");
  }

  @Test
  void aPostWithoutTokenIsStillRefused() throws Exception {
    Job job = client.enqueue(NewJob.of("Dash::Kept", 1).queue("parked"));
    assertEquals(403, new DashboardHttp(port).post("/que/jobs/" + job.id() + "/delete", null, "a=1").statusCode());
    assertEquals(1, jdbc.queryForObject("SELECT count(*) FROM que_jobs WHERE job_id = ?", Integer.class, job.id()));
  }
}
