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

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null) {
      c = c.getCause();
    }
    return String.valueOf(c.getMessage());
  }
}
