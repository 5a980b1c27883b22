package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quejava.ext.deadletter.DeadLetterInterceptor;
import io.quejava.ext.deadletter.DeadLetters;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The job events a listener hears: one start and one end per attempt, with every outcome. */
class JobEventsTest extends PgTest {
  private final List<JobEvent.Start> starts = new CopyOnWriteArrayList<>();
  private final List<JobEvent> ends = new CopyOnWriteArrayList<>();
  private final JobListener recorder = new JobListener() {
    @Override
    public void jobStarted(JobEvent.Start start) {
      starts.add(start);
    }

    @Override
    public void jobEnded(JobEvent event) {
      ends.add(event);
    }
  };

  @BeforeEach
  void clear() {
    starts.clear();
    ends.clear();
  }

  private WorkerConfig.Builder config() {
    return WorkerConfig.custom().listener(recorder).listener(e -> {
      throw new IllegalStateException("a broken listener changes nothing");
    });
  }

  private JobEvent only() {
    assertEquals(1, ends.size(), ends.toString());
    return ends.get(0);
  }

  @Test
  void aSuccessIsOneStartAndOneEndWithItsTimings() throws Exception {
    Job job = client.enqueue(NewJob.of("Ok", 1).priority(7));
    assertTrue(new Worker(client, WorkMap.of("Ok", j -> { }), config().build()).workOne());
    JobEvent e = only();
    assertEquals(1, starts.size());
    assertEquals(job.id(), starts.get(0).jobId());
    assertEquals(1, starts.get(0).attempt());
    assertEquals(job.id(), e.jobId());
    assertEquals("Ok", e.jobClass());
    assertEquals(defaultQueue(), e.queue());
    assertEquals(7, e.priority());
    assertEquals(1, e.attempt());
    assertEquals(JobOutcome.SUCCEEDED, e.outcome());
    assertTrue(e.error().isEmpty());
    assertFalse(e.runTime().isNegative());
    assertFalse(e.queueWait().isNegative());
    assertTrue(e.queueWait().compareTo(Duration.ofMinutes(1)) < 0, e.queueWait().toString());
    assertEquals(0, jobCount(), "the broken listener did not stop the delete");
  }

  @Test
  void aFailureIsFailedWithItsErrorAndTheNextAttemptCountsUp() throws Exception {
    long id = insertRaw("job_class, error_count", "'Boom', 2");
    assertTrue(new Worker(client, WorkMap.of("Boom", j -> {
      throw new IllegalStateException("boom");
    }), config().build()).workOne());
    JobEvent e = only();
    assertEquals(id, e.jobId());
    assertEquals(3, e.attempt());
    assertEquals(3, starts.get(0).attempt());
    assertEquals(JobOutcome.FAILED, e.outcome());
    assertEquals("boom", e.error().orElseThrow().getMessage());
  }

  @Test
  void anUnknownClassIsFailedWithoutAStartOfAHandler() throws Exception {
    client.enqueue("Nobody");
    assertTrue(new Worker(client, WorkMap.builder().build(), config().build()).workOne());
    assertEquals(JobOutcome.FAILED, only().outcome());
    assertTrue(only().error().orElseThrow() instanceof UnknownJobClassException);
  }

  @Test
  void theLastAllowedFailureIsExpiredOnModernSchemas() throws Exception {
    assumeTrue(modern(), "schema 3 has no expired_at: Ruby 0.x and que-go retry forever");
    client.enqueue("Boom");
    assertTrue(new Worker(client, WorkMap.of("Boom", j -> {
      throw new IllegalStateException("last");
    }), config().maxRetryCount(0).build()).workOne());
    assertEquals(JobOutcome.EXPIRED, only().outcome());
    assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE expired_at IS NOT NULL"));
  }

  @Test
  void aFinishedJobSucceeded() throws Exception {
    assumeTrue(modern(), "schema 3 has no finished_at");
    client.enqueue("Keep");
    assertTrue(new Worker(client, WorkMap.of("Keep", RunningJob::finish), config().build()).workOne());
    assertEquals(JobOutcome.SUCCEEDED, only().outcome());
  }

  @Test
  void aDeadLetteredJobIsDead() throws Exception {
    DeadLetters.migrator(ds).migrate();
    client.enqueue("Doomed");
    WorkerConfig c = config().interceptor(DeadLetterInterceptor.builder(client).maxAttempts(1).build()).build();
    assertTrue(new Worker(client, WorkMap.of("Doomed", j -> {
      throw new IllegalStateException("no more");
    }), c).workOne());
    JobEvent e = only();
    assertEquals(JobOutcome.DEAD, e.outcome());
    assertEquals("no more", e.error().orElseThrow().getMessage());
  }

  @Test
  void aJobChangedUnderItsLockIsChanged() throws Exception {
    client.enqueue("Moved");
    WorkMap map = WorkMap.of("Moved", j -> {
      Connection c = j.connection();
      c.setAutoCommit(false);
      exec("DELETE FROM que_jobs"); // gone under the lock
      j.delete();
      c.commit();
    });
    assertTrue(new Worker(client, map, config().build()).workOne());
    JobEvent e = only();
    assertEquals(JobOutcome.CHANGED, e.outcome());
    assertTrue(e.error().orElseThrow() instanceof JobChangedException);
  }

  @Test
  void aJobCancelledAtTheShutdownDeadlineIsCancelled() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    client.enqueue("Slow");
    WorkerPool pool = WorkerPool.builder(client, WorkMap.of("Slow", j -> {
      started.countDown();
      new CountDownLatch(1).await(60, TimeUnit.SECONDS);
    })).workers(1).listener(recorder).build();
    pool.start();
    assertTrue(started.await(30, TimeUnit.SECONDS));
    assertFalse(pool.shutdown(Duration.ofMillis(100), Duration.ofSeconds(30)));
    JobEvent e = only();
    assertEquals(JobOutcome.CANCELLED, e.outcome());
    assertTrue(e.error().orElseThrow() instanceof InterruptedException);
    assertEquals(1, jobCount());
  }

  @Test
  void aTimedOutAttemptCarriesItsTimeoutOnItsContext() throws SQLException, InterruptedException {
    client.enqueue("Slow");
    List<Duration> seen = new CopyOnWriteArrayList<>();
    WorkMap map = WorkMap.of("Slow", j -> seen.add(j.context().get(JobContext.TIMEOUT).orElse(Duration.ZERO)));
    WorkerConfig c = config()
        .interceptor(io.quejava.ext.timeout.Timeouts.builder().perJob(false).defaultTimeout(Duration.ofSeconds(42)).build())
        .build();
    assertTrue(new Worker(client, map, c).workOne());
    assertEquals(List.of(Duration.ofSeconds(42)), seen);
    assertEquals(JobOutcome.SUCCEEDED, only().outcome());
  }
}
