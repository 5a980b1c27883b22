package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.internal.JobRow;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Retry policies without a database: Que's formula, jitter with a seeded random, exponential with a cap, per class. */
class RetryPolicyTest {

  static Job job(String jobClass) {
    return new Job(new JobRow(1, "", 100, OffsetDateTime.now(), jobClass, "[]", 0, null));
  }

  @Test
  void theDefaultIsExactlyQuesFormula() {
    for (int n = 1; n <= 20; n++) {
      assertEquals(Duration.ofSeconds((long) n * n * n * n + 3), RetryPolicy.DEFAULT.delay(n));
      assertEquals(RetryPolicy.DEFAULT.delay(n), RetryPolicy.DEFAULT.delay(job("Any"), n), "the job changes nothing");
    }
  }

  @Test
  void jitterSpreadsAroundQuesFormulaWithinTheSpreadAndAveragesToIt() {
    RetryPolicy p = RetryPolicy.DEFAULT.withJitter(0.25, new Random(42));
    for (int n = 1; n <= 6; n++) {
      long base = RetryPolicy.DEFAULT.delay(n).toNanos();
      double sum = 0;
      Set<Long> distinct = new HashSet<>();
      int samples = 2000;
      for (int i = 0; i < samples; i++) {
        long d = p.delay(n).toNanos();
        assertTrue(d >= base * 0.75 - 1 && d <= base * 1.25 + 1, n + ": " + d + " outside ±25% of " + base);
        sum += d;
        distinct.add(d);
      }
      assertEquals(1.0, sum / samples / base, 0.03, "the mean stays Que's delay");
      assertTrue(distinct.size() > samples / 2, "spread out, not a burst");
    }
  }

  @Test
  void aSeededRandomGivesTheSameDelaysEveryRun() {
    RetryPolicy a = RetryPolicy.DEFAULT.withJitter(0.5, new Random(7));
    RetryPolicy b = RetryPolicy.DEFAULT.withJitter(0.5, new Random(7));
    for (int n = 1; n < 10; n++) {
      assertEquals(a.delay(n), b.delay(n));
    }
    RetryPolicy c = RetryPolicy.DEFAULT.withJitter(0.5, new Random(8));
    assertNotEquals(a.delay(3), c.delay(3));
  }

  @Test
  void noJitterIsTheSamePolicy() {
    RetryPolicy p = RetryPolicy.DEFAULT.withJitter(0, new Random(1));
    for (int n = 1; n < 10; n++) {
      assertEquals(RetryPolicy.DEFAULT.delay(n), p.delay(n));
    }
  }

  @Test
  void exponentialDoublesUpToItsCap() {
    RetryPolicy p = RetryPolicy.exponential(Duration.ofSeconds(2), Duration.ofMinutes(1));
    assertEquals(Duration.ofSeconds(2), p.delay(1));
    assertEquals(Duration.ofSeconds(4), p.delay(2));
    assertEquals(Duration.ofSeconds(8), p.delay(3));
    assertEquals(Duration.ofSeconds(32), p.delay(5));
    assertEquals(Duration.ofMinutes(1), p.delay(6));
    assertEquals(Duration.ofMinutes(1), p.delay(1000));
    assertEquals(Duration.ofMinutes(1), p.delay(Integer.MAX_VALUE));
    assertEquals(Duration.ofSeconds(2), p.delay(0));
  }

  @Test
  void exponentialWithJitterStaysWithinTheSpreadOfTheCap() {
    RetryPolicy p = RetryPolicy.exponential(Duration.ofSeconds(1), Duration.ofSeconds(100)).withJitter(0.1, new Random(3));
    for (int i = 0; i < 500; i++) {
      long ms = p.delay(50).toMillis();
      assertTrue(ms >= 90_000 && ms <= 110_000, "" + ms);
    }
  }

  @Test
  void hugeDelaysStayAtTheMaximum() {
    RetryPolicy p = RetryPolicy.fixed(Duration.ofDays(1000L * 365)).withJitter(1, new Random(5));
    for (int i = 0; i < 100; i++) {
      assertTrue(p.delay(1).compareTo(RetryPolicy.MAX_DELAY) <= 0);
    }
    assertEquals(RetryPolicy.MAX_DELAY,
        RetryPolicy.exponential(Duration.ofDays(1), Duration.ofDays(1000L * 365)).delay(40));
  }

  @Test
  void byClassPicksThePolicyOfTheJobsClass() {
    RetryPolicy p = RetryPolicy.byClass(RetryPolicy.DEFAULT)
        .put("Webhook", RetryPolicy.fixed(Duration.ofSeconds(10)))
        .put("Flaky", RetryPolicy.exponential(Duration.ofSeconds(1), Duration.ofSeconds(30)))
        .build();
    assertEquals(Duration.ofSeconds(10), p.delay(job("Webhook"), 5));
    assertEquals(Duration.ofSeconds(8), p.delay(job("Flaky"), 4));
    assertEquals(Duration.ofSeconds(19), p.delay(job("Other"), 2));
    assertEquals(Duration.ofSeconds(19), p.delay(2), "without a job: the fallback");
  }

  @Test
  void jitterOverByClassKeepsThePerClassChoice() {
    RetryPolicy p = RetryPolicy.byClass(RetryPolicy.DEFAULT).put("Webhook", RetryPolicy.fixed(Duration.ofSeconds(100)))
        .build().withJitter(0.2, new Random(9));
    long ms = p.delay(job("Webhook"), 1).toMillis();
    assertTrue(ms >= 80_000 && ms <= 120_000, "" + ms);
  }

  @Test
  void badInputIsRefusedNamingTheParameter() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RetryPolicy.DEFAULT.withJitter(1.5))
        .getMessage().startsWith("spread: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RetryPolicy.DEFAULT.withJitter(Double.NaN))
        .getMessage().startsWith("spread: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RetryPolicy.exponential(Duration.ZERO, Duration.ofSeconds(1)))
        .getMessage().startsWith("base: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RetryPolicy.exponential(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .getMessage().startsWith("cap: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RetryPolicy.exponential(null, Duration.ofSeconds(1)))
        .getMessage().startsWith("base: must not be null"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RetryPolicy.byClass(null))
        .getMessage().startsWith("otherwise: must not be null"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RetryPolicy.byClass(RetryPolicy.DEFAULT).put("", RetryPolicy.DEFAULT))
        .getMessage().startsWith("jobClass: "));
  }
}
