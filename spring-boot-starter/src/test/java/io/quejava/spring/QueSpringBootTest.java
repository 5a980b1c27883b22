package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.HandlerProvider;
import io.quejava.Job;
import io.quejava.JobHandler;
import io.quejava.NewJob;
import io.quejava.RunningJob;
import io.quejava.WorkerPool;
import io.quejava.testing.Await;
import io.quejava.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

/** The starter in a whole Spring Boot application against a real PostgreSQL. */
@SpringBootTest(
    classes = QueSpringBootTest.App.class,
    properties = {
      "que.migrate=true",
      "que.worker.queues=default, mailers=2",
      "que.worker.workers=3",
      "que.worker.wake-interval=200ms",
      "que.worker.shutdown-timeout=7s",
      "que.worker.name=spring-test-worker"
    })
class QueSpringBootTest {

  record ChargeCard(long orderId, String currency) {}

  record SendMail(String to, int attempt) {}

  static final CountDownLatch CHARGED = new CountDownLatch(1);
  static final AtomicReference<ChargeCard> CHARGED_ARGS = new AtomicReference<>();
  static final CountDownLatch MAILED = new CountDownLatch(1);
  static final AtomicReference<String> MAILED_INFO = new AtomicReference<>();
  static final CountDownLatch PLAIN = new CountDownLatch(1);
  static final CountDownLatch PROVIDED = new CountDownLatch(1);
  static final AtomicInteger ENDED = new AtomicInteger();
  static final AtomicReference<String> PLAIN_ARG = new AtomicReference<>();

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    DataSource dataSource() {
      return TestDatabase.newSchema("spring_boot_test");
    }

    @Bean
    Billing billing() {
      return new Billing();
    }

    @Bean
    Mailer mailer() {
      return new Mailer();
    }

    @Bean
    Audit audit() {
      return new Audit();
    }

    @Bean
    HandlerProvider reports() {
      return work -> work.put("Reports::Build", job -> {
        PROVIDED.countDown();
      });
    }

    @Bean
    QueWorkerPoolCustomizer countEndings() {
      return pool -> pool.listener(event -> ENDED.incrementAndGet());
    }

    @Bean
    Orders orders(QueTemplate que) {
      return new Orders(que);
    }
  }

  /** A method handler with typed args only. */
  static class Billing {
    @QueJob("Billing::ChargeCard")
    void charge(ChargeCard args) {
      CHARGED_ARGS.set(args);
      CHARGED.countDown();
    }
  }

  /** A method handler with typed args and the running job. */
  static class Mailer {
    @QueJob("Mailer::Send")
    public void send(SendMail args, RunningJob job) {
      MAILED_INFO.set(args.to() + "/" + args.attempt() + "@" + job.queue());
      MAILED.countDown();
    }
  }

  /** A handler bean. */
  @Component
  @QueJob("Audit::Record")
  static class Audit implements JobHandler {
    @Override
    public void run(RunningJob job) {
      PLAIN_ARG.set(job.arg(0, String.class));
      PLAIN.countDown();
    }
  }

  /** An application service whose transaction the enqueue joins. */
  static class Orders {
    private final QueTemplate que;

    Orders(QueTemplate que) {
      this.que = que;
    }

    @Transactional
    public Job place(String marker, boolean fail, DataSource dataSource) throws Exception {
      Job job = que.enqueue(NewJob.of("Orders::Probe", marker).queue("not_worked"));
      // Inside the transaction: visible on its connection, not on another one.
      INSIDE_OTHER_CONNECTION.set(countOn(dataSource, marker));
      if (fail) {
        throw new IllegalStateException("rolled back on purpose");
      }
      return job;
    }
  }

  static final AtomicReference<Long> INSIDE_OTHER_CONNECTION = new AtomicReference<>();

  @Autowired Client client;
  @Autowired QueTemplate que;
  @Autowired QueProperties properties;
  @Autowired QueWorkerLifecycle lifecycle;
  @Autowired Orders orders;
  @Autowired DataSource dataSource;
  @Autowired JdbcTemplate jdbc;

  static long countOn(DataSource ds, String marker) throws Exception {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM que_jobs WHERE args->>0 = ?")) {
      ps.setString(1, marker);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Test
  void propertiesAreBound() {
    assertTrue(properties.isEnabled());
    assertTrue(properties.isMigrate());
    assertEquals(List.of("default", "mailers=2"), properties.getWorker().getQueues());
    assertEquals(3, properties.getWorker().getWorkers());
    assertEquals(Duration.ofMillis(200), properties.getWorker().getWakeInterval());
    assertEquals(Duration.ofSeconds(7), properties.getWorker().getShutdownTimeout());

    assertTrue(lifecycle.isRunning());
    WorkerPool pool = lifecycle.pool().orElseThrow();
    assertEquals(List.of("default", "mailers"), pool.queues());
    assertEquals(OptionalInt.of(2), pool.maxWorkers("mailers"));
    assertEquals(OptionalInt.empty(), pool.maxWorkers("default"));
    assertEquals(3, pool.size());
    assertEquals(Duration.ofMillis(200), pool.config().wakeInterval());
    assertEquals("spring-test-worker", pool.name());
  }

  @Test
  void handlersAreDiscoveredAndRunWithTypedArgs() throws Exception {
    // que_jobs is at version 3 (Migrator.migrate), whose default queue is '': name the queues.
    que.enqueue(NewJob.of("Billing::ChargeCard", new ChargeCard(42, "EUR")).queue("default"));
    que.enqueue(NewJob.of("Mailer::Send", new SendMail("a@example.com", 3)).queue("mailers"));
    que.enqueue(NewJob.of("Audit::Record", "signed in").queue("default"));

    assertTrue(CHARGED.await(20, TimeUnit.SECONDS), "Billing::ChargeCard ran");
    assertTrue(MAILED.await(20, TimeUnit.SECONDS), "Mailer::Send ran");
    assertTrue(PLAIN.await(20, TimeUnit.SECONDS), "Audit::Record ran");
    que.enqueue(NewJob.of("Reports::Build", 1).queue("default"));
    assertTrue(PROVIDED.await(20, TimeUnit.SECONDS), "Reports::Build (a HandlerProvider bean) ran");
    assertEquals(new ChargeCard(42, "EUR"), CHARGED_ARGS.get());
    assertEquals("a@example.com/3@mailers", MAILED_INFO.get());
    assertEquals("signed in", PLAIN_ARG.get());
    // The customizer's listener heard all four attempts end.
    Await.until(Duration.ofSeconds(20), "four jobs ended", () -> ENDED.get() >= 4);
  }

  @Test
  void transactionalEnqueueExistsWhenTheTransactionCommits() throws Exception {
    Job job = orders.place("commit-me", false, dataSource);
    assertEquals(0L, INSIDE_OTHER_CONNECTION.get(), "not visible outside the transaction before commit");
    assertEquals(1L, countOn(dataSource, "commit-me"));
    assertEquals(1, jdbc.queryForObject("SELECT count(*) FROM que_jobs WHERE job_id = ?", Integer.class, job.id()));
  }

  @Test
  void transactionalEnqueueIsGoneWhenTheTransactionRollsBack() throws Exception {
    assertThrows(IllegalStateException.class, () -> orders.place("roll-me-back", true, dataSource));
    assertEquals(0L, INSIDE_OTHER_CONNECTION.get());
    assertEquals(0L, countOn(dataSource, "roll-me-back"));
  }

  @Test
  void enqueueOutsideATransactionCommitsAtOnce() throws Exception {
    que.enqueue(NewJob.of("Orders::Probe", "no-tx").queue("not_worked"));
    assertEquals(1L, countOn(dataSource, "no-tx"));
    assertFalse(client.dataSource() == null);
  }
}
