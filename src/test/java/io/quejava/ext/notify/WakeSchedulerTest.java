package io.quejava.ext.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The wake scheduler alone, on a clock of the test's own: no database, no threads. */
class WakeSchedulerTest {
  static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  static final Instant WALL = Instant.parse("2026-12-01T12:00:00Z");
  static final long T0 = 1_000_000 * MS;

  @Test
  void aJobDueNowWakesAtOnceAndOneFollowUpComesAfterABurst() {
    WakeScheduler w = new WakeScheduler(100, Duration.ofMillis(50));
    assertTrue(w.announced(null, T0, WALL), "no run_at: due now");
    assertTrue(w.announced(WALL.minusSeconds(1), T0, WALL), "past run_at: due now");
    w.woke(T0);
    w.woke(T0 + MS); // a burst schedules one follow-up, not one per message
    assertEquals(1, w.scheduledCount());
    assertFalse(w.takeDue(T0 + 49 * MS));
    assertTrue(w.takeDue(T0 + 50 * MS));
    assertFalse(w.takeDue(T0 + 51 * MS), "fired once");
    w.woke(T0 + 60 * MS);
    assertEquals(1, w.scheduledCount(), "a later burst gets its own follow-up");
  }

  @Test
  void aJobDueLaterIsWokenForAtItsRunAtByTheDatabasesClock() {
    WakeScheduler w = new WakeScheduler(100, Duration.ZERO);
    // The database's clock runs 2 s ahead of the JVM's, read with a 4 ms round trip (2 ms error).
    w.clock(2_000 * MS, 2 * MS);
    assertFalse(w.announced(WALL.plusSeconds(10), T0, WALL));
    long due = T0 + 8_000 * MS + WakeScheduler.SCHEDULE_MARGIN_NANOS + 2 * MS;
    assertEquals(due, w.nextDeadline(Long.MAX_VALUE));
    assertFalse(w.takeDue(due - 1));
    assertTrue(w.takeDue(due));
    assertEquals(0, w.scheduledCount());
    assertTrue(w.announced(WALL.plusSeconds(1), T0, WALL), "due now by the database's clock, though not by the JVM's");
  }

  @Test
  void theCapKeepsTheEarliestWakesAndLeavesTheRestToPolling() {
    WakeScheduler w = new WakeScheduler(2, Duration.ZERO);
    w.announced(WALL.plusSeconds(30), T0, WALL);
    w.announced(WALL.plusSeconds(20), T0, WALL);
    w.announced(WALL.plusSeconds(40), T0, WALL); // beyond the cap and later than both: dropped
    assertEquals(2, w.scheduledCount());
    w.announced(WALL.plusSeconds(10), T0, WALL); // earlier: replaces the latest
    assertEquals(2, w.scheduledCount());
    assertEquals(T0 + 10_000 * MS + WakeScheduler.SCHEDULE_MARGIN_NANOS, w.nextDeadline(Long.MAX_VALUE));
    assertTrue(w.takeDue(T0 + 25_000 * MS), "10 s and 20 s both due: one wake");
    assertEquals(0, w.scheduledCount(), "the 30 s one was dropped for the 10 s one");
    WakeScheduler none = new WakeScheduler(0, Duration.ZERO);
    none.announced(WALL.plusSeconds(5), T0, WALL);
    assertEquals(0, none.scheduledCount(), "a cap of 0 schedules nothing");
    assertEquals(123L, none.nextDeadline(123L));
  }
}
