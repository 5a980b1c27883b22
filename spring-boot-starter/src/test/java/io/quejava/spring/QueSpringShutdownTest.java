package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.RunningJob;
import io.quejava.WorkerPool;
import io.quejava.testing.Await;
import io.quejava.testing.TestDatabase;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Closing the context with a job running: the pool stops in Spring's shutdown phase and the job
 * finishes (and is deleted) before the context is closed. The test closes the context itself, so it
 * builds one with SpringApplicationBuilder rather than sharing a cached {@code @SpringBootTest} one.
 */
class QueSpringShutdownTest {
  static final CountDownLatch STARTED = new CountDownLatch(1);
  static final AtomicBoolean SAW_STOP = new AtomicBoolean();
  static final AtomicBoolean FINISHED = new AtomicBoolean();

  record Slow(String name) {}

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    static DataSource dataSource;

    @Bean
    DataSource dataSource() {
      return dataSource;
    }

    @Bean
    SlowHandler slowHandler() {
      return new SlowHandler();
    }
  }

  static class SlowHandler {
    @QueJob("Slow::Job")
    void run(Slow args, RunningJob job) {
      STARTED.countDown();
      // Keeps running until the pool asks it to stop, then finishes normally.
      Await.until(Duration.ofSeconds(20), "stop requested", job::isStopRequested);
      FINISHED.set(!job.isCancelled());
    }
  }

  @Test
  void stopWaitsForTheRunningJob() throws Exception {
    App.dataSource = TestDatabase.newSchema("spring_shutdown");
    ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
        .web(WebApplicationType.NONE)
        .properties("que.migrate=true", "que.worker.queues=default", "que.worker.workers=1",
            "que.worker.wake-interval=100ms", "que.worker.shutdown-timeout=15s")
        .run();
    JdbcTemplate jdbc = new JdbcTemplate(App.dataSource);
    WorkerPool pool;
    try {
      QueTemplate que = context.getBean(QueTemplate.class);
      pool = context.getBean(QueWorkerLifecycle.class).pool().orElseThrow();
      Job job = que.enqueue(NewJob.of("Slow::Job", new Slow("x")).queue("default"));
      assertTrue(STARTED.await(20, TimeUnit.SECONDS), "the job started");
      assertEquals(1, jdbc.queryForObject("SELECT count(*) FROM que_jobs WHERE job_id = ?", Integer.class, job.id()));
    } finally {
      context.close();
    }
    assertFalse(context.isActive());
    assertTrue(FINISHED.get(), "the running job finished, not cancelled, before close returned");
    assertTrue(pool.isShuttingDown());
    assertEquals(0, jdbc.queryForObject("SELECT count(*) FROM que_jobs", Integer.class), "the job was deleted");
    assertEquals(1, pool.jobsWorked());
  }
}
