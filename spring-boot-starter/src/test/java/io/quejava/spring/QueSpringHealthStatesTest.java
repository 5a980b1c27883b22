package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.RunningJob;
import io.quejava.WorkerPool;
import io.quejava.testing.Await;
import io.quejava.testing.TestDatabase;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Every state of the {@code que} health indicator in one real application, in the order an
 * application lives them: UP; UP with a hung job counted (heartbeats and a timeout the handler
 * ignores); DOWN while the data source points at a closed port (a real refused connection); UP
 * again; OUT_OF_SERVICE from the moment the pool begins its graceful shutdown, with a job still
 * running, until the end.
 */
class QueSpringHealthStatesTest {
  static final CountDownLatch STARTED = new CountDownLatch(1);
  static final CountDownLatch RELEASE = new CountDownLatch(1);

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    static final DelegatingDataSource DATA_SOURCE = new DelegatingDataSource();

    @Bean
    DataSource dataSource() {
      return DATA_SOURCE;
    }

    @Bean
    Hanger hanger() {
      return new Hanger();
    }
  }

  static class Hanger {
    /** Ignores the timeout's interrupt on purpose, so that it runs past its timeout: hung. */
    @QueJob("Health::Hang")
    void hang(RunningJob job) {
      STARTED.countDown();
      while (true) {
        try {
          if (RELEASE.await(60, TimeUnit.SECONDS)) {
            return;
          }
        } catch (InterruptedException ignored) {
          // hanging on purpose
        }
      }
    }
  }

  @Test
  void upThenHungThenDownThenUpThenOutOfServiceWhileStopping() throws Exception {
    DataSource real = TestDatabase.newSchema("spring_health");
    App.DATA_SOURCE.setTargetDataSource(real);
    ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
        .web(WebApplicationType.NONE)
        .properties("que.migrate=true", "que.migrate-extensions=true", "que.worker.workers=1",
            "que.worker.wake-interval=100ms", "que.worker.shutdown-timeout=20s",
            "que.worker.extensions.heartbeats=true", "que.worker.extensions.heartbeat-interval=200ms",
            "que.worker.extensions.timeout=300ms", "management.endpoint.health.show-details=always")
        .run();
    Thread stopper = null;
    try {
      HealthEndpoint endpoint = context.getBean(HealthEndpoint.class);
      QueHealthIndicator indicator = context.getBean(QueHealthIndicator.class);
      assertEquals(Status.UP, indicator.health().getStatus());
      assertEquals(0, indicator.health().getDetails().get("hungJobs"));

      Job job = context.getBean(QueTemplate.class).enqueue(NewJob.of("Health::Hang", 1));
      assertTrue(STARTED.await(20, TimeUnit.SECONDS), "the job started");
      Await.until(Duration.ofSeconds(20), "the job counted as hung",
          () -> Integer.valueOf(1).equals(indicator.health().getDetails().get("hungJobs")));
      Health hung = indicator.health();
      assertEquals(Status.UP, hung.getStatus(), "a hung job does not make the application DOWN");
      assertEquals(java.util.List.of(job.id()), hung.getDetails().get("hungJobIds"));

      App.DATA_SOURCE.setTargetDataSource(closedPort());
      Health down = (Health) endpoint.healthForPath("que");
      assertEquals(Status.DOWN, down.getStatus());
      assertEquals("database not answering", down.getDetails().get("reason"));
      App.DATA_SOURCE.setTargetDataSource(real);
      assertEquals(Status.UP, indicator.health().getStatus());

      QueWorkerLifecycle lifecycle = context.getBean(QueWorkerLifecycle.class);
      WorkerPool pool = lifecycle.pool().orElseThrow();
      stopper = new Thread(lifecycle::stop, "test-stopper");
      stopper.start();
      Await.until(Duration.ofSeconds(20), "OUT_OF_SERVICE while stopping",
          () -> indicator.health().getStatus().equals(Status.OUT_OF_SERVICE));
      assertTrue(stopper.isAlive(), "the stop waits for the running job");
      assertEquals(Status.OUT_OF_SERVICE, endpoint.healthForPath("que").getStatus());
      RELEASE.countDown();
      stopper.join(TimeUnit.SECONDS.toMillis(30));
      assertTrue(!stopper.isAlive(), "the stop returned once the job ended");
      assertEquals(Status.OUT_OF_SERVICE, indicator.health().getStatus(), "still out of service once stopped");
      assertEquals(1, pool.jobsFailed() + pool.jobsWorked(), "the hung job ended (failed by its timeout)");
    } finally {
      RELEASE.countDown();
      if (stopper != null) {
        stopper.join(TimeUnit.SECONDS.toMillis(30));
      }
      context.close();
    }
  }

  /** A data source for a port nobody listens on: connections are refused at once. */
  private static DataSource closedPort() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setServerNames(new String[] {"127.0.0.1"});
    ds.setPortNumbers(new int[] {port});
    ds.setDatabaseName("postgres");
    ds.setUser("postgres");
    ds.setConnectTimeout(2);
    return ds;
  }
}
