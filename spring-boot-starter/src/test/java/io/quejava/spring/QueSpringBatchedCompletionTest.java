package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Job;
import io.quejava.JobOutcome;
import io.quejava.NewJob;
import io.quejava.RunningJob;
import io.quejava.testing.Await;
import io.quejava.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * {@code que.worker.batched-completion.*}: the properties reach the pool, jobs run and their rows
 * are deleted, a listener hears SUCCEEDED only once the row is gone, and the deletes really are
 * batched: a job's handler sees the row of an earlier job whose handler already returned.
 */
@SpringBootTest(
    classes = QueSpringBatchedCompletionTest.App.class,
    properties = {
      "que.migrate=true",
      "que.worker.workers=1",
      "que.worker.wake-interval=100ms",
      "que.worker.batched-completion.max-jobs=20",
      "que.worker.batched-completion.max-delay=5s"
    })
class QueSpringBatchedCompletionTest {
  static final int JOBS = 8;
  /** Ids of the jobs whose handler has returned. */
  static final Set<Long> RETURNED = ConcurrentHashMap.newKeySet();
  /** For each job, how many returned jobs' rows were still in que_jobs when it started. */
  static final Map<Long, Integer> WAITING_AT_START = new ConcurrentHashMap<>();
  /** Job id to the count of its row when the listener heard SUCCEEDED. */
  static final Map<Long, Integer> ROWS_AT_SUCCEEDED = new ConcurrentHashMap<>();
  static final CountDownLatch SUCCEEDED = new CountDownLatch(JOBS);
  static final AtomicInteger OTHER_OUTCOMES = new AtomicInteger();
  static volatile DataSource DS;

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    DataSource dataSource() {
      DataSource ds = TestDatabase.newSchema("spring_batched");
      DS = ds;
      return ds;
    }

    @Bean
    Handlers handlers() {
      return new Handlers();
    }

    @Bean
    QueWorkerPoolCustomizer succeededListener() {
      return pool -> pool.listener(event -> {
        if (event.outcome() == JobOutcome.SUCCEEDED) {
          ROWS_AT_SUCCEEDED.put(event.jobId(), rows(event.jobId()));
          SUCCEEDED.countDown();
        } else {
          OTHER_OUTCOMES.incrementAndGet();
        }
      });
    }
  }

  static int rows(long id) {
    return new JdbcTemplate(DS).queryForObject("SELECT count(*) FROM que_jobs WHERE job_id = ?", Integer.class, id);
  }

  static class Handlers {
    @QueJob("Batched::Fast")
    void fast(RunningJob job) {
      List<Long> done = new ArrayList<>(RETURNED);
      int waiting = 0;
      for (long id : done) {
        waiting += rows(id);
      }
      WAITING_AT_START.put(job.id(), waiting);
      RETURNED.add(job.id());
    }
  }

  @Autowired QueProperties properties;
  @Autowired QueTemplate que;
  @Autowired io.quejava.Client client;

  @Test
  void theJobsRunAreDeletedInBatchesAndSucceededIsHeardAfterTheDelete() throws Exception {
    QueProperties.BatchedCompletion bc = properties.getWorker().getBatchedCompletion();
    assertEquals(20, bc.getMaxJobs());
    assertEquals(Duration.ofSeconds(5), bc.getMaxDelay());
    // One transaction, so that one lock walk takes them all.
    List<NewJob> batch = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      batch.add(NewJob.of("Batched::Fast", i));
    }
    List<Job> jobs = client.enqueueAll(batch);
    assertTrue(SUCCEEDED.await(30, TimeUnit.SECONDS), "SUCCEEDED heard for " + ROWS_AT_SUCCEEDED.keySet());
    assertEquals(0, OTHER_OUTCOMES.get());
    for (Job j : jobs) {
      assertEquals(0, ROWS_AT_SUCCEEDED.get(j.id()), "job " + j.id() + " still in que_jobs when SUCCEEDED was heard");
      assertEquals(0, rows(j.id()));
    }
    // Without batching every returned job's row is gone before the next job starts.
    int maxWaiting = WAITING_AT_START.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    assertTrue(maxWaiting > 0, "no job saw an earlier succeeded job still waiting for its delete: " + WAITING_AT_START);
    Await.until(Duration.ofSeconds(10), "que_jobs empty", () -> new JdbcTemplate(DS)
        .queryForObject("SELECT count(*) FROM que_jobs", Integer.class) == 0);
  }

  @Test
  void offByDefault() {
    QueProperties.BatchedCompletion fresh = new QueProperties().getWorker().getBatchedCompletion();
    assertEquals(null, fresh.getMaxJobs());
    assertEquals(Duration.ofMillis(50), fresh.getMaxDelay());
  }
}
