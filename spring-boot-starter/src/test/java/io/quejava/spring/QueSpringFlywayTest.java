package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.RunningJob;
import io.quejava.testing.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The README's Flyway recipe: steps 1 to 3 of the shipped SQL, read from the core jar's resources and
 * concatenated into one {@code V100__que_jobs.sql} with the version comment, run by the application's
 * Flyway (no {@code que.migrate}); the client is built after it and sees schema 3.
 */
@SpringBootTest(
    classes = QueSpringFlywayTest.App.class,
    properties = {"que.worker.wake-interval=200ms", "que.metrics.enabled=false"})
class QueSpringFlywayTest {
  static final CountDownLatch RAN = new CountDownLatch(1);

  @DynamicPropertySource
  static void flyway(DynamicPropertyRegistry registry) throws IOException {
    Path dir = Files.createTempDirectory("que-flyway-");
    StringBuilder sql = new StringBuilder();
    for (int step = 1; step <= 3; step++) {
      sql.append(resource("migrations/que/" + step + ".up.sql"));
    }
    sql.append("COMMENT ON TABLE que_jobs IS '3';\n");
    Files.writeString(dir.resolve("V100__que_jobs.sql"), sql.toString());
    registry.add("spring.flyway.locations", () -> "filesystem:" + dir);
    registry.add("spring.flyway.enabled", () -> "true");
  }

  private static String resource(String name) {
    try (InputStream in = Migrator.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is not in the core jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    DataSource dataSource() {
      return TestDatabase.newSchema("spring_flyway");
    }

    @Bean
    Handler handler() {
      return new Handler();
    }
  }

  static class Handler {
    @QueJob("Flyway::Ran")
    void run(RunningJob job) {
      RAN.countDown();
    }
  }

  @Autowired Client client;
  @Autowired DataSource dataSource;
  @Autowired QueTemplate que;

  @Test
  void theShippedSqlRunFromFlywayGivesAWorkingQueueAtVersion3() throws Exception {
    assertEquals(3, Migrator.create(dataSource).currentVersion());
    assertEquals(3, client.schemaVersion());
    assertEquals("100", new JdbcTemplate(dataSource).queryForObject(
        "SELECT version FROM flyway_schema_history WHERE success", String.class));
    que.enqueue(NewJob.of("Flyway::Ran", 1));
    assertTrue(RAN.await(20, TimeUnit.SECONDS), "the job ran");
  }
}
