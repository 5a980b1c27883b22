package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Per-class retry policies and jitter as a worker applies them on the classic table (schema 3);
 * {@link ModernRetryPolicyWorkerTest} runs the same on schema 7.
 */
class RetryPolicyWorkerTest extends PgTest {

  /** Seconds from now() to the job's run_at after its first failure, rounded. */
  long failOnceAndGetDelay(String jobClass, RetryPolicy policy) throws SQLException {
    Job job = client.enqueue(jobClass);
    WorkMap map = WorkMap.builder()
        .put("Fixed", j -> {
          throw new IllegalStateException("no");
        })
        .put("Quartic", j -> {
          throw new IllegalStateException("no");
        })
        .build();
    Worker worker = new Worker(client, map, WorkerConfig.custom().retryPolicy(policy).build());
    try {
      assertTrue(worker.workOne());
    } finally {
      worker.shutdown();
    }
    Object[] row = rows("SELECT error_count, round(extract(epoch FROM run_at - now())) FROM que_jobs WHERE "
        + idColumn() + " = ?", job.id()).get(0);
    assertEquals(1, row[0]);
    return ((BigDecimal) row[1]).longValueExact();
  }

  @Test
  void aPerClassPolicyAppliesToItsClassAndTheDefaultToOthers() throws SQLException {
    RetryPolicy policy = RetryPolicy.byClass(RetryPolicy.DEFAULT).put("Fixed", RetryPolicy.fixed(Duration.ofSeconds(600))).build();
    assertEquals(600, failOnceAndGetDelay("Fixed", policy));
    assertEquals(4, failOnceAndGetDelay("Quartic", policy), "count^4 + 3 with count 1");
  }

  @Test
  void jitterMovesTheRetryWithinTheSpread() throws SQLException {
    RetryPolicy policy = RetryPolicy.fixed(Duration.ofSeconds(1000)).withJitter(0.5, new Random(11));
    long d = failOnceAndGetDelay("Fixed", policy);
    assertTrue(d >= 500 && d <= 1500, "" + d);
  }

  @Test
  void theDefaultPolicyIsUnchanged() throws SQLException {
    assertEquals(4, failOnceAndGetDelay("Quartic", WorkerConfig.ofDefaults().retryPolicy()));
  }
}
