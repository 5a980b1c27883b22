package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quejava.metrics.QueMetrics;
import io.quejava.metrics.QueueMetrics;
import io.quejava.testing.TestDatabase;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The auto-configuration's switches: off, enqueue only, no worker, and beans of the application's own. */
class QueSpringConditionsTest {
  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(QueAutoConfiguration.class));

  @Test
  void disabledDefinesNothing() {
    runner.withPropertyValues("que.enabled=false", "que.migrate=true")
        .withBean(DataSource.class, () -> TestDatabase.newSchema("spring_off"))
        .run(context -> {
          assertFalse(context.getStartupFailure() != null);
          assertTrue(context.getBeansOfType(Client.class).isEmpty());
          assertTrue(context.getBeansOfType(QueTemplate.class).isEmpty());
          assertTrue(context.getBeansOfType(QueWorkerLifecycle.class).isEmpty());
          assertTrue(context.getBeansOfType(QueProperties.class).isEmpty());
        });
  }

  @Test
  void withoutADataSourceDefinesNothing() {
    runner.run(context -> {
      assertFalse(context.getStartupFailure() != null);
      assertTrue(context.getBeansOfType(Client.class).isEmpty());
    });
  }

  @Test
  void noHandlersMeansEnqueueOnly() {
    DataSource ds = TestDatabase.newSchema("spring_enqueue_only");
    runner.withPropertyValues("que.migrate=true")
        .withBean(DataSource.class, () -> ds)
        .run(context -> {
          assertFalse(context.getStartupFailure() != null);
          QueWorkerLifecycle lifecycle = context.getBean(QueWorkerLifecycle.class);
          assertTrue(lifecycle.pool().isEmpty(), "no pool without handlers");
          Job job = context.getBean(QueTemplate.class).enqueue(NewJob.of("Any::Job", 1));
          assertEquals("Any::Job", job.jobClass());
          assertEquals(3, context.getBean(QueAutoConfiguration.QueMigration.class).version());
        });
  }

  @Test
  void workerDisabledDefinesNoLifecycle() {
    DataSource ds = TestDatabase.newSchema("spring_no_worker");
    runner.withPropertyValues("que.migrate=true", "que.worker.enabled=false")
        .withBean(DataSource.class, () -> ds)
        .withBean(QueSpringBootTest.Billing.class, QueSpringBootTest.Billing::new)
        .run(context -> {
          assertFalse(context.getStartupFailure() != null);
          assertTrue(context.getBeansOfType(QueWorkerLifecycle.class).isEmpty());
          assertEquals(1, context.getBeansOfType(Client.class).size());
        });
  }

  @Test
  void theApplicationsOwnClientWins() {
    DataSource ds = TestDatabase.newSchema("spring_own_client");
    Migrator.create(ds).migrate();
    Client own = Client.create(ds);
    runner.withBean(DataSource.class, () -> ds)
        .withBean(Client.class, () -> own)
        .run(context -> {
          assertFalse(context.getStartupFailure() != null);
          assertSame(own, context.getBean(Client.class));
          assertSame(own, context.getBean(QueTemplate.class).client());
          assertTrue(context.getBeansOfType(QueAutoConfiguration.QueMigration.class).isEmpty());
        });
  }

  static class BadSignature {
    @QueJob("Bad::Signature")
    void run(String notARecord) {}
  }

  static class Twice {
    @QueJob("Billing::ChargeCard")
    void again(QueSpringBootTest.ChargeCard args) {}
  }

  @Test
  void aMethodWithOtherParametersFailsTheStartup() {
    runner.withPropertyValues("que.migrate=true")
        .withBean(DataSource.class, () -> TestDatabase.newSchema("spring_bad_signature"))
        .withBean(BadSignature.class, BadSignature::new)
        .run(context -> {
          Throwable failure = context.getStartupFailure();
          assertNotNull(failure);
          assertTrue(rootMessage(failure).contains("Bad::Signature"), rootMessage(failure));
        });
  }

  @Test
  void aJobClassHandledTwiceFailsTheStartup() {
    runner.withPropertyValues("que.migrate=true")
        .withBean(DataSource.class, () -> TestDatabase.newSchema("spring_twice"))
        .withBean(QueSpringBootTest.Billing.class, QueSpringBootTest.Billing::new)
        .withBean(Twice.class, Twice::new)
        .run(context -> {
          Throwable failure = context.getStartupFailure();
          assertNotNull(failure);
          assertTrue(rootMessage(failure).contains("registered twice"), rootMessage(failure));
        });
  }

  @Test
  void badPropertyValuesFailTheStartupNamingTheProperty() {
    DataSource ds = TestDatabase.newSchema("spring_bad_values");
    for (String[] bad : new String[][] {
        {"que.worker.workers=0", "que.worker.workers must be 1 to 1000, got 0"},
        {"que.worker.extensions.dead-letter-max-attempts=0", "que.worker.extensions.dead-letter-max-attempts must be at least 1, got 0"},
        {"que.worker.extensions.timeout=-1s", "que.worker.extensions.timeout must be positive"},
        {"que.worker.queues=mailers=x", "que.worker.queues: 'mailers=x' is not name or name=max-workers"},
        {"que.worker.batched-completion.max-jobs=0", "que.worker.batched-completion.max-jobs must be 1 to 1000, got 0"},
        {"que.worker.batched-completion.max-jobs=1001", "que.worker.batched-completion.max-jobs must be 1 to 1000, got 1001"},
        {"que.worker.batched-completion.max-delay=11s", "que.worker.batched-completion.max-delay must be 1ms to 10s, got PT11S"},
        {"que.worker.batched-completion.max-delay=0ms", "que.worker.batched-completion.max-delay must be 1ms to 10s"}}) {
      runner.withPropertyValues("que.migrate=true", bad[0])
          .withBean(DataSource.class, () -> ds)
          .withBean(QueSpringBootTest.Billing.class, QueSpringBootTest.Billing::new)
          .run(context -> {
            Throwable failure = context.getStartupFailure();
            assertNotNull(failure, bad[0]);
            assertTrue(messages(failure).contains(bad[1]), bad[0] + " -> " + messages(failure));
          });
    }
  }

  @Test
  void metricsAndHealthOnlyWhereTheirSwitchesAndBeansAre() {
    DataSource ds = TestDatabase.newSchema("spring_optional");
    ApplicationContextRunner all = new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(
            QueAutoConfiguration.class, QueMetricsAutoConfiguration.class, QueHealthAutoConfiguration.class))
        .withPropertyValues("que.migrate=true")
        .withBean(DataSource.class, () -> ds);
    all.run(context -> {
      assertTrue(context.getBeansOfType(QueMetrics.class).isEmpty(), "no MeterRegistry bean, no meters");
      assertEquals(1, context.getBeansOfType(QueHealthIndicator.class).size());
    });
    all.withBean(MeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
      assertEquals(1, context.getBeansOfType(QueMetrics.class).size());
      assertEquals(1, context.getBeansOfType(QueueMetrics.class).size());
    });
    all.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("que.metrics.enabled=false", "management.health.que.enabled=false")
        .run(context -> {
          assertTrue(context.getBeansOfType(QueMetrics.class).isEmpty(), "que.metrics.enabled=false");
          assertTrue(context.getBeansOfType(QueHealthIndicator.class).isEmpty(), "management.health.que.enabled=false");
        });
    all.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("que.metrics.queues=false")
        .run(context -> {
          assertEquals(1, context.getBeansOfType(QueMetrics.class).size());
          assertTrue(context.getBeansOfType(QueueMetrics.class).isEmpty(), "que.metrics.queues=false");
        });
    all.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("que.enabled=false")
        .run(context -> {
          assertTrue(context.getBeansOfType(QueMetrics.class).isEmpty());
          assertTrue(context.getBeansOfType(QueHealthIndicator.class).isEmpty());
        });
  }

  private static String messages(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c.getMessage()).append(" | ");
    }
    return b.toString();
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null) {
      c = c.getCause();
    }
    return String.valueOf(c.getMessage());
  }
}
