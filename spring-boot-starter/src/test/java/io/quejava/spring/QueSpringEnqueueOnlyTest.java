package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.NewJob;
import io.quejava.testing.TestDatabase;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

/** An enqueue-only service: no handler beans and no que.worker.* properties; it starts and enqueues. */
@SpringBootTest(classes = QueSpringEnqueueOnlyTest.App.class, properties = "que.migrate=true")
class QueSpringEnqueueOnlyTest {
  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    DataSource dataSource() {
      return TestDatabase.newSchema("spring_enqueue_only_app");
    }
  }

  @Autowired QueTemplate que;
  @Autowired QueWorkerLifecycle lifecycle;
  @Autowired JdbcTemplate jdbc;

  @Test
  void startsWithoutAPoolAndEnqueues() {
    assertTrue(lifecycle.pool().isEmpty());
    assertFalse(lifecycle.isRunning());
    que.enqueue(NewJob.of("Reports::Build", 7));
    assertEquals(1, jdbc.queryForObject("SELECT count(*) FROM que_jobs WHERE job_class = 'Reports::Build'", Integer.class));
  }
}
