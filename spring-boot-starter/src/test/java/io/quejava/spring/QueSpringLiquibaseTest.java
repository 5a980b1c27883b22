package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.RunningJob;
import io.quejava.testing.TestDatabase;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;

/**
 * que_jobs made by the application's Liquibase from the SQL shipped in the core jar (no
 * {@code que.migrate}): the client is built after Liquibase ran, sees schema 3, and a job is worked.
 */
@SpringBootTest(
    classes = QueSpringLiquibaseTest.App.class,
    properties = {
      "spring.liquibase.enabled=true",
      "spring.liquibase.change-log=classpath:db/que-changelog.yaml",
      "que.worker.wake-interval=200ms",
      "que.metrics.enabled=false"
    })
class QueSpringLiquibaseTest {
  static final CountDownLatch RAN = new CountDownLatch(1);

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    DataSource dataSource() {
      return TestDatabase.newSchema("spring_liquibase");
    }

    @Bean
    Handler handler() {
      return new Handler();
    }
  }

  static class Handler {
    @QueJob("Liquibase::Ran")
    void run(RunningJob job) {
      RAN.countDown();
    }
  }

  @Autowired Client client;
  @Autowired DataSource dataSource;
  @Autowired QueTemplate que;

  @Test
  void theShippedSqlRunFromLiquibaseGivesAWorkingQueueAtVersion3() throws Exception {
    assertEquals(3, Migrator.create(dataSource).currentVersion());
    assertEquals(3, client.schemaVersion());
    que.enqueue(NewJob.of("Liquibase::Ran", 1));
    assertTrue(RAN.await(20, TimeUnit.SECONDS), "the job ran");
  }
}
