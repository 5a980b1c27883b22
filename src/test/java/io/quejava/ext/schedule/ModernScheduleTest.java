package io.quejava.ext.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The schedule extension over schema 7 (Ruby Que 2.x): the same tests, plus what only 4-7 does. */
class ModernScheduleTest extends ScheduleTestBase {
  @Override
  int schemaVersion() {
    return 7;
  }

  @Test
  void jobsLandAsQue2JobsInTheDefaultQueue() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2031-08-01T00:00:00Z"));
    Schedules.create(ds, clock).upsert(Schedule.every("q2", "every minute", "Que2Job").args(1));
    clock.advance(Duration.ofMinutes(1));
    assertEquals(1, Scheduler.builder(client).clock(clock).build().tick());
    assertEquals(1, sql.count("SELECT count(*) FROM que_jobs WHERE queue = 'default' AND job_class = 'Que2Job'"
        + " AND job_schema_version = 2 AND args = '[1]'::jsonb AND run_at = '2031-08-01T00:01:00Z'"));
  }

  @Test
  void aFailingEnqueueIsRecordedAndTheScheduleMovesOn() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2031-08-01T00:00:00Z"));
    Schedules schedules = Schedules.create(ds, clock);
    // Schema 4-7 allows job classes of at most 200 characters; the schedule table does not know that.
    schedules.upsert(Schedule.every("too-long", "every minute", "J".repeat(201)).queue("fails"));
    schedules.upsert(Schedule.every("fine", "every minute", "Fine").queue("fails"));
    clock.advance(Duration.ofMinutes(1));
    assertEquals(1, Scheduler.builder(client).clock(clock).build().tick(), "the good schedule still enqueued");
    ScheduleStatus bad = schedules.get("too-long").orElseThrow();
    assertTrue(bad.lastError().filter(e -> e.contains("jobClass")).isPresent(), String.valueOf(bad.lastError()));
    assertEquals(Instant.parse("2031-08-01T00:02:00Z"), bad.nextRunAt(), "moved on to the next tick");
    assertEquals(1, sql.count("SELECT count(*) FROM que_jobs WHERE queue = 'fails'"));
  }
}
