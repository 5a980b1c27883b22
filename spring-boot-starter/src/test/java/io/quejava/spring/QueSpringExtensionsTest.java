package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quejava.Client;
import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.RunningJob;
import io.quejava.ext.ExtensionMigrator;
import io.quejava.ext.deadletter.DeadLetters;
import io.quejava.ext.heartbeat.Heartbeats;
import io.quejava.ext.notify.NotifyWakeups;
import io.quejava.testing.Await;
import io.quejava.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.actuate.health.CompositeHealth;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthComponent;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * One application with every optional part on: the meters on the application's registry, the
 * health indicator, and the extensions from properties (notify wake-ups, heartbeats, dead letters),
 * installed by {@code que.migrate-extensions}. The pool polls once an hour, so every job here is
 * found through a NOTIFY (or the wake-up after LISTEN).
 */
@SpringBootTest(
    classes = QueSpringExtensionsTest.App.class,
    properties = {
      "que.migrate=true",
      "que.migrate-extensions=true",
      "que.worker.workers=2",
      "que.worker.wake-interval=1h",
      "que.worker.extensions.notify=true",
      "que.worker.extensions.heartbeats=true",
      "que.worker.extensions.heartbeat-interval=1s",
      "que.worker.extensions.dead-letter-max-attempts=1",
      "que.metrics.queues-interval=200ms",
      "management.endpoint.health.show-details=always"
    })
class QueSpringExtensionsTest {
  static final CountDownLatch RELEASE = new CountDownLatch(1);
  static final Map<String, CountDownLatch> RAN = new ConcurrentHashMap<>();

  static CountDownLatch latch(String marker) {
    return RAN.computeIfAbsent(marker, m -> new CountDownLatch(1));
  }

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    DataSource dataSource() {
      return TestDatabase.newSchema("spring_ext");
    }

    @Bean
    MeterRegistry meterRegistry() {
      return new SimpleMeterRegistry();
    }

    @Bean
    Handlers handlers() {
      return new Handlers();
    }
  }

  static class Handlers {
    @QueJob("Ext::Record")
    void record(RunningJob job) {
      latch(job.arg(0, String.class)).countDown();
    }

    @QueJob("Ext::Hold")
    void hold(RunningJob job) throws InterruptedException {
      RELEASE.await(30, TimeUnit.SECONDS);
    }

    @QueJob("Ext::Fail")
    void fail(RunningJob job) {
      throw new IllegalStateException("always fails");
    }
  }

  @Autowired Client client;
  @Autowired QueTemplate que;
  @Autowired QueWorkerLifecycle lifecycle;
  @Autowired MeterRegistry registry;
  @Autowired DataSource dataSource;
  @Autowired QueAutoConfiguration.QueExtensionsMigration installed;
  @Autowired HealthEndpoint healthEndpoint;

  @Autowired QueProperties properties;

  @Test
  void extensionPropertiesAreBound() {
    QueProperties.Extensions ext = properties.getWorker().getExtensions();
    assertTrue(properties.isMigrateExtensions());
    assertTrue(ext.isNotify());
    assertTrue(ext.isHeartbeats());
    assertEquals(Duration.ofSeconds(1), ext.getHeartbeatInterval());
    assertEquals(1, ext.getDeadLetterMaxAttempts());
    assertEquals(null, ext.getTimeout());
    assertEquals(false, ext.isSchedules());
    assertEquals(Duration.ofMillis(200), properties.getMetrics().getQueuesInterval());
    assertTrue(properties.getMetrics().isEnabled());
  }

  @Test
  void theEnabledExtensionsAreInstalledAtStartUp() {
    assertEquals(List.of("notify", "heartbeat", "deadletter"), installed.extensions());
    assertEquals(1, ExtensionMigrator.create(dataSource, Heartbeats.EXTENSION).currentVersion());
    assertTrue(ExtensionMigrator.create(dataSource, NotifyWakeups.EXTENSION).currentVersion() >= 1);
    assertEquals(1, ExtensionMigrator.create(dataSource, DeadLetters.EXTENSION).currentVersion());
    assertEquals(Duration.ofHours(1), lifecycle.pool().orElseThrow().config().wakeInterval());
  }

  @Test
  void aRunningJobHasAHeartbeatRowThatTheHealthIndicatorCounts() throws Exception {
    Job job = que.enqueue(NewJob.of("Ext::Hold", "held"));
    try {
      Await.until(Duration.ofSeconds(20), "a heartbeat row for the running job",
          () -> jdbc().queryForObject("SELECT count(*) FROM que_heartbeats WHERE job_id = ?", Integer.class, job.id()) == 1);
      Health health = (Health) healthEndpoint.healthForPath("que");
      assertEquals(1, health.getDetails().get("jobsInFlight"));
      assertEquals(0, health.getDetails().get("hungJobs"));
    } finally {
      RELEASE.countDown();
    }
    Await.until(Duration.ofSeconds(20), "the held job finished and its heartbeat went",
        () -> countQueJobs(job.id()) == 0
            && jdbc().queryForObject("SELECT count(*) FROM que_heartbeats", Integer.class) == 0);
  }

  @Test
  void aNotifyWakesTheIdlePoolLongBeforeItsHourlyPoll() throws Exception {
    // Ruled out: the first poll after start. Wait until the pool has gone idle and is asking.
    Await.until(Duration.ofSeconds(20), "the pool is idle", () -> lifecycle.pool().orElseThrow().idleWorkers() == 2);
    client.enqueue(NewJob.of("Ext::Record", "notified"));
    assertTrue(latch("notified").await(20, TimeUnit.SECONDS), "the job ran within seconds, not at the next hourly poll");
  }

  @Test
  void aJobPastItsMaxAttemptsBecomesADeadLetter() {
    Job job = que.enqueue(NewJob.of("Ext::Fail", "x"));
    DeadLetters dead = DeadLetters.create(client);
    Await.until(Duration.ofSeconds(20), "the failing job is a dead letter", () -> dead.existing(List.of(job.id())).size() == 1);
    assertEquals(0, countQueJobs(job.id()), "gone from que_jobs (schema 3 moves dead jobs to que_dead_jobs)");
  }

  @Test
  void metersAreOnTheApplicationsRegistryAfterAJobRuns() throws Exception {
    que.enqueue(NewJob.of("Ext::Record", "metered"));
    assertTrue(latch("metered").await(20, TimeUnit.SECONDS));
    Await.until(Duration.ofSeconds(20), "an attempt counted", () -> {
      Counter c = registry.find("que.job.attempts").tags("job_class", "Ext::Record", "outcome", "succeeded").counter();
      return c != null && c.count() >= 1;
    });
    Counter enqueued = registry.find("que.job.enqueued").tags("job_class", "Ext::Record").counter();
    assertNotNull(enqueued, "que.job.enqueued");
    assertTrue(enqueued.count() >= 1);
    assertNotNull(registry.find("que.job.duration").tags("job_class", "Ext::Record").timer(), "que.job.duration");
    assertNotNull(registry.find("que.workers.busy").gauge(), "que.workers.busy");
    assertNotNull(registry.find("que.workers.idle").gauge(), "que.workers.idle");
    Await.until(Duration.ofSeconds(20), "the queue gauges", () -> registry.find("que.queue.jobs").gauge() != null);
  }

  @Test
  void healthIsUpWithDetailsUnderTheNameQue() {
    HealthComponent component = healthEndpoint.healthForPath("que");
    assertNotNull(component, "a 'que' health contributor");
    Health health = (Health) component;
    assertEquals(Status.UP, health.getStatus());
    assertEquals(3, health.getDetails().get("schemaVersion"));
    assertEquals(List.of(""), health.getDetails().get("queues"));
    assertEquals(2, health.getDetails().get("workers"));
    assertEquals(0, health.getDetails().get("hungJobs"));
    assertTrue(health.getDetails().containsKey("jobsInFlight"));
    assertTrue(((CompositeHealth) healthEndpoint.health()).getComponents().containsKey("que"));
  }

  private JdbcTemplate jdbc() {
    return new JdbcTemplate(dataSource);
  }

  private int countQueJobs(long id) {
    return jdbc().queryForObject("SELECT count(*) FROM que_jobs WHERE job_id = ?", Integer.class, id);
  }
}
