package io.quejava.ext.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.testing.TestDatabase;
import io.quejava.testing.TestSql;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** The schedule extension on a real PostgreSQL, at {@link #schemaVersion()}. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
abstract class ScheduleTestBase {
  static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

  DataSource ds;
  Client client;
  TestSql sql;
  String schema;

  abstract int schemaVersion();

  @BeforeAll
  void createSchema() throws SQLException {
    ds = TestDatabase.newSchema(getClass().getSimpleName());
    if (schemaVersion() == 3) {
      Migrator.create(ds).migrate();
    } else {
      Migrator.create(ds).migrateTo(schemaVersion());
    }
    assertEquals(1, Schedules.migrator(ds).migrate());
    client = Client.create(ds);
    sql = new TestSql(ds);
    schema = (String) sql.one("SELECT current_schema()");
  }

  @BeforeEach
  void empty() throws SQLException {
    sql.exec("TRUNCATE que_jobs");
    sql.exec("TRUNCATE que_schedules");
  }

  List<Instant> runAts(String queue) throws SQLException {
    List<Instant> out = new ArrayList<>();
    for (Object[] r : sql.rows("SELECT run_at FROM que_jobs WHERE queue = ? ORDER BY run_at", queue)) {
      out.add((Instant) r[0]);
    }
    return out;
  }

  @Test
  void twoSchedulersOverTwoHundredTicksEnqueueEachTickExactlyOnce() throws Exception {
    Instant t0 = Instant.parse("2031-01-01T00:00:00Z");
    MutableClock clock = new MutableClock(t0);
    Schedules.create(ds, clock).upsert(Schedule.every("every-second", "every second", "Tick").queue("exact"));
    // Two schedulers, each with a client of its own; every tick() takes a connection of its own.
    Scheduler a = Scheduler.builder(Client.create(ds)).clock(clock).build();
    Scheduler b = Scheduler.builder(Client.create(ds)).clock(clock).build();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    int total = 0;
    try {
      for (int i = 0; i < 200; i++) {
        clock.advance(Duration.ofSeconds(1));
        CyclicBarrier together = new CyclicBarrier(2);
        Future<Integer> fa = pool.submit(() -> {
          together.await(10, TimeUnit.SECONDS);
          return a.tick();
        });
        Future<Integer> fb = pool.submit(() -> {
          together.await(10, TimeUnit.SECONDS);
          return b.tick();
        });
        int step = fa.get(30, TimeUnit.SECONDS) + fb.get(30, TimeUnit.SECONDS);
        assertEquals(1, step, "tick " + (i + 1) + " enqueued once between the two schedulers");
        total += step;
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(200, total);
    List<Instant> runAts = runAts("exact");
    Set<Instant> expected = new HashSet<>();
    for (int i = 1; i <= 200; i++) {
      expected.add(t0.plusSeconds(i));
    }
    assertEquals(200, runAts.size(), "no duplicates");
    assertEquals(expected, new HashSet<>(runAts), "run_at = the 200 ticks");
    ScheduleStatus s = Schedules.create(ds, clock).get("every-second").orElseThrow();
    assertEquals(t0.plusSeconds(201), s.nextRunAt());
    assertEquals(java.util.Optional.of(t0.plusSeconds(200)), s.lastRunAt());
    assertTrue(s.lastError().isEmpty());
  }

  @Test
  void misfireRunOnceEnqueuesOneJobForAllMissedTicks() throws Exception {
    Instant t0 = Instant.parse("2031-02-01T10:00:00Z");
    MutableClock clock = new MutableClock(t0);
    Schedules schedules = Schedules.create(ds, clock);
    schedules.upsert(Schedule.every("minutely", Duration.ofMinutes(1), "M").queue("runonce"));
    Scheduler scheduler = Scheduler.builder(client).clock(clock).build();
    clock.advance(Duration.ofMinutes(10).plusSeconds(30)); // down for ten ticks
    assertEquals(1, scheduler.tick());
    assertEquals(List.of(t0.plus(Duration.ofMinutes(10))), runAts("runonce"), "one job, at the latest missed tick");
    ScheduleStatus s = schedules.get("minutely").orElseThrow();
    assertEquals(t0.plus(Duration.ofMinutes(11)), s.nextRunAt());
    assertEquals(java.util.Optional.of(t0.plus(Duration.ofMinutes(10))), s.lastRunAt());
    assertEquals(0, scheduler.tick(), "nothing more is due");
  }

  @Test
  void misfireSkipDropsStaleTicksButRunsOnTimeOnes() throws Exception {
    Instant t0 = Instant.parse("2031-02-01T10:00:00Z");
    MutableClock clock = new MutableClock(t0);
    Schedules schedules = Schedules.create(ds, clock);
    schedules.upsert(Schedule.every("hourly", "every hour", "H").queue("skip").misfire(Misfire.SKIP));
    Scheduler scheduler = Scheduler.builder(client).clock(clock).build();
    clock.advance(Duration.ofHours(5).plusMinutes(30)); // the 15:00 tick is 30 minutes old
    assertEquals(0, scheduler.tick());
    assertEquals(List.of(), runAts("skip"));
    assertEquals(t0.plus(Duration.ofHours(6)), schedules.get("hourly").orElseThrow().nextRunAt());
    clock.advance(Duration.ofMinutes(30).plusSeconds(20)); // 20 s late: within the threshold
    assertEquals(1, scheduler.tick());
    assertEquals(List.of(t0.plus(Duration.ofHours(6))), runAts("skip"));
    assertEquals(t0.plus(Duration.ofHours(7)), schedules.get("hourly").orElseThrow().nextRunAt());
  }

  /** Moves the clock to {@code to} in steps, running one pass after each. */
  private void runClock(MutableClock clock, Scheduler scheduler, Instant to, Duration step) {
    while (clock.instant().isBefore(to)) {
      clock.advance(step);
      scheduler.tick();
    }
  }

  @Test
  void dailyBerlinAcrossTheSpringGapRunsOnceAtThreeThirty() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2025-03-28T12:00:00Z"));
    Schedules schedules = Schedules.create(ds, clock);
    schedules.upsert(Schedule.cron("berlin", "30 2 * * *", BERLIN, "Nightly").queue("dst_spring"));
    assertEquals(List.of(
        Instant.parse("2025-03-29T01:30:00Z"),   // 02:30 CET
        Instant.parse("2025-03-30T01:30:00Z"),   // 02:30 does not exist: 03:30 CEST
        Instant.parse("2025-03-31T00:30:00Z"),   // 02:30 CEST
        Instant.parse("2025-04-01T00:30:00Z"),
        Instant.parse("2025-04-02T00:30:00Z")), schedules.nextFireTimes("berlin", 5));
    Scheduler scheduler = Scheduler.builder(client).clock(clock).build();
    runClock(clock, scheduler, Instant.parse("2025-03-31T12:00:00Z"), Duration.ofMinutes(20));
    assertEquals(List.of(Instant.parse("2025-03-29T01:30:00Z"), Instant.parse("2025-03-30T01:30:00Z"),
        Instant.parse("2025-03-31T00:30:00Z")), runAts("dst_spring"), "one job a day, the gap day included");
  }

  @Test
  void dailyBerlinAcrossTheAutumnOverlapRunsOnceAtTheFirstTwoThirty() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2025-10-24T12:00:00Z"));
    Schedules schedules = Schedules.create(ds, clock);
    schedules.upsert(Schedule.cron("berlin", "30 2 * * *", "Europe/Berlin", "Nightly").queue("dst_autumn"));
    assertEquals(List.of(
        Instant.parse("2025-10-25T00:30:00Z"),   // 02:30 CEST
        Instant.parse("2025-10-26T00:30:00Z"),   // 02:30 happens twice: the first, CEST
        Instant.parse("2025-10-27T01:30:00Z"),   // 02:30 CET
        Instant.parse("2025-10-28T01:30:00Z"),
        Instant.parse("2025-10-29T01:30:00Z")), schedules.nextFireTimes("berlin", 5));
    Scheduler scheduler = Scheduler.builder(client).clock(clock).build();
    runClock(clock, scheduler, Instant.parse("2025-10-27T12:00:00Z"), Duration.ofMinutes(20));
    assertEquals(List.of(Instant.parse("2025-10-25T00:30:00Z"), Instant.parse("2025-10-26T00:30:00Z"),
        Instant.parse("2025-10-27T01:30:00Z")), runAts("dst_autumn"), "one job a day, the overlap day included");
  }

  @Test
  void anHourlyCronFiresOnceInTheRepeatedHourAndJustAfterTheGap() {
    Schedule hourly = Schedule.cron("hourly", "0 * * * *", BERLIN, "H");
    // October 26, 2025: 03:00 CEST becomes 02:00 CET; wall-clock 02:00 fires once (its first occurrence).
    assertEquals(List.of(Instant.parse("2025-10-25T23:00:00Z"), Instant.parse("2025-10-26T00:00:00Z"),
        Instant.parse("2025-10-26T02:00:00Z"), Instant.parse("2025-10-26T03:00:00Z")),
        hourly.nextFireTimes(Instant.parse("2025-10-25T22:30:00Z"), 4));
    // March 30, 2025: 02:00 CET becomes 03:00 CEST; wall-clock 02:00 moves to 03:00, which fires once.
    assertEquals(List.of(Instant.parse("2025-03-30T00:00:00Z"), Instant.parse("2025-03-30T01:00:00Z"),
        Instant.parse("2025-03-30T02:00:00Z")), hourly.nextFireTimes(Instant.parse("2025-03-29T23:30:00Z"), 3));
    // Asked from inside the hour after the gap, the shifted 02:30 tick of a daily cron is still found.
    assertEquals(List.of(Instant.parse("2025-03-30T01:30:00Z")), Schedule.cron("d", "30 2 * * *", BERLIN, "D")
        .nextFireTimes(Instant.parse("2025-03-30T01:10:00Z"), 1));
  }

  @Test
  void nextFiveFireTimes() {
    MutableClock clock = new MutableClock(Instant.parse("2031-05-05T10:07:12.5Z"));
    Schedules schedules = Schedules.create(ds, clock);
    schedules.upsert(Schedule.every("quarter", "every 15 minutes", "Q"));
    schedules.upsert(Schedule.cron("weekdays", "0 9 * * 1-5", "UTC", "W"));
    assertEquals(List.of(Instant.parse("2031-05-05T10:15:00Z"), Instant.parse("2031-05-05T10:30:00Z"),
        Instant.parse("2031-05-05T10:45:00Z"), Instant.parse("2031-05-05T11:00:00Z"),
        Instant.parse("2031-05-05T11:15:00Z")), schedules.nextFireTimes("quarter", 5));
    // 2031-05-05 is a Monday.
    assertEquals(List.of(Instant.parse("2031-05-06T09:00:00Z"), Instant.parse("2031-05-07T09:00:00Z"),
        Instant.parse("2031-05-08T09:00:00Z"), Instant.parse("2031-05-09T09:00:00Z"),
        Instant.parse("2031-05-12T09:00:00Z")), schedules.nextFireTimes("weekdays", 5));
    // A tick due but not yet enqueued comes first.
    clock.set(Instant.parse("2031-05-05T10:20:00Z"));
    assertEquals(Instant.parse("2031-05-05T10:15:00Z"), schedules.nextFireTimes("quarter", 2).get(0));
    assertEquals(Instant.parse("2031-05-05T10:30:00Z"), schedules.nextFireTimes("quarter", 2).get(1));
  }

  @Test
  void upsertEnableDisableDeleteAndList() throws Exception {
    Instant t0 = Instant.parse("2031-06-01T00:00:00Z");
    MutableClock clock = new MutableClock(t0);
    Schedules schedules = Schedules.create(ds, clock);
    Scheduler scheduler = Scheduler.builder(client).clock(clock).build();
    assertTrue(schedules.upsert(Schedule.every("b", "1 minute", "B").args(1, "two").queue("admin").priority(5)));
    assertTrue(schedules.upsert(Schedule.every("a", "1 hour", "A").queue("admin")));
    clock.advance(Duration.ofSeconds(30));
    assertFalse(schedules.upsert(Schedule.every("b", "60 seconds", "B2").args(3).queue("admin").priority(6)),
        "replaced, not created");
    ScheduleStatus b = schedules.get("b").orElseThrow();
    assertEquals(t0.plusSeconds(60), b.nextRunAt(), "the same timing keeps its next tick");
    assertEquals("B2", b.schedule().jobClass());
    assertEquals("[3]", b.schedule().argsJson());
    assertEquals(6, b.schedule().priority());
    assertEquals(Duration.ofMinutes(1), b.schedule().every());
    assertTrue(b.enabled());
    assertEquals(List.of("a", "b"), schedules.list().stream().map(ScheduleStatus::name).toList());

    assertTrue(schedules.disable("b"));
    clock.advance(Duration.ofMinutes(10));
    assertEquals(0, scheduler.tick(), "a disabled schedule does not tick");
    schedules.upsert(Schedule.every("b", "60 seconds", "B2").args(3).queue("admin").priority(6));
    assertFalse(schedules.get("b").orElseThrow().enabled(), "upsert keeps it disabled");
    assertTrue(schedules.enable("b"));
    assertEquals(t0.plus(Duration.ofMinutes(11)), schedules.get("b").orElseThrow().nextRunAt(),
        "enabled again from now: the ticks missed while disabled are not made up");
    assertEquals(0, scheduler.tick());
    clock.advance(Duration.ofMinutes(1));
    assertEquals(1, scheduler.tick());
    assertEquals(1, sql.count("SELECT count(*) FROM que_jobs WHERE queue = 'admin' AND job_class = 'B2'"
        + " AND priority = 6 AND args::text = '[3]'"));

    assertTrue(schedules.upsert(Schedule.cron("a2", "*/5 * * * *", "UTC", "A")));
    assertFalse(schedules.upsert(Schedule.every("a2", "every 7 minutes", "A")));
    assertEquals(Duration.ofMinutes(7), schedules.get("a2").orElseThrow().schedule().every(), "cron became an interval");
    assertNull(schedules.get("a2").orElseThrow().schedule().cron());

    assertTrue(schedules.delete("a"));
    assertFalse(schedules.delete("a"));
    assertFalse(schedules.enable("a"));
    assertFalse(schedules.disable("a"));
    assertTrue(schedules.get("a").isEmpty());
  }

  @Test
  void theSchedulerRunsWithAPoolAndItsJobsAreWorked() throws Exception {
    CountDownLatch ran = new CountDownLatch(2);
    Schedules.create(ds).upsert(Schedule.every("beat", Duration.ofSeconds(1), "Beat").args("x").queue("pooled"));
    Scheduler scheduler = Scheduler.builder(client).pollInterval(Duration.ofMillis(50)).build();
    WorkerPool pool = WorkerPool.builder(client, WorkMap.of("Beat", job -> ran.countDown()))
        .workers(1).queue("pooled").wakeInterval(Duration.ofMillis(100)).name("sched").extension(scheduler).build();
    pool.start();
    try {
      assertTrue(ran.await(20, TimeUnit.SECONDS), "two beats were enqueued and worked");
    } finally {
      pool.shutdown(Duration.ofSeconds(10));
    }
    Instant last = Schedules.create(ds).get("beat").orElseThrow().lastRunAt().orElseThrow();
    assertTrue(last != null);
  }

  @Test
  void badInputNamesTheOption() {
    assertMessage("name:", () -> Schedule.every(" ", Duration.ofMinutes(1), "X"));
    assertMessage("name:", () -> Schedule.every("x".repeat(201), Duration.ofMinutes(1), "X"));
    assertMessage("every:", () -> Schedule.every("n", "every fortnight", "X"));
    assertMessage("every:", () -> Schedule.every("n", "15", "X"));
    assertMessage("every:", () -> Schedule.every("n", Duration.ZERO, "X"));
    assertMessage("every:", () -> Schedule.every("n", Duration.ofMillis(1500).plusNanos(1), "X"));
    assertMessage("cron:", () -> Schedule.cron("n", "61 * * * *", "UTC", "X"));
    assertMessage("cron:", () -> Schedule.cron("n", "* * *", "UTC", "X"));
    assertMessage("timeZone:", () -> Schedule.cron("n", "0 * * * *", "Mars/Olympus_Mons", "X"));
    assertMessage("jobClass:", () -> Schedule.every("n", "every minute", " "));
    assertMessage("args:", () -> Schedule.every("n", "every minute", "X").argsJson("{\"a\": 1}"));
    assertMessage("priority:", () -> Schedule.every("n", "every minute", "X").priority(40_000));
    assertMessage("queue:", () -> Schedule.every("n", "every minute", "X").queue(null));
    assertMessage("misfire:", () -> Schedule.every("n", "every minute", "X").misfire(null));
    assertMessage("pollInterval:", () -> Scheduler.builder(client).pollInterval(Duration.ZERO));
    assertMessage("misfireThreshold:", () -> Scheduler.builder(client).pollInterval(Duration.ofSeconds(10))
        .misfireThreshold(Duration.ofSeconds(5)).build());
    assertMessage("batchSize:", () -> Scheduler.builder(client).batchSize(0));
    assertMessage("name:", () -> Schedules.create(ds).nextFireTimes("missing", 5));
    assertMessage("count:", () -> Schedules.create(ds).nextFireTimes("missing", -1));
    assertEquals(Duration.ofMinutes(15), Schedule.parseEvery("every 15 minutes"));
    assertEquals(Duration.ofMinutes(15), Schedule.parseEvery("PT15M"));
    assertEquals(Duration.ofHours(2), Schedule.parseEvery("2h"));
    assertEquals(Duration.ofSeconds(30), Schedule.parseEvery("30 seconds"));
    assertEquals(Duration.ofDays(1), Schedule.parseEvery("every day"));
  }

  static void assertMessage(String prefix, org.junit.jupiter.api.function.Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
  }

  /**
   * cron-utils is optional: in a class loader whose class path lacks it, the core works, interval
   * schedules tick, cron schedules are refused with a clear message, and the scheduler leaves cron
   * rows (written by a process that has the library) alone.
   */
  @Test
  void intervalSchedulesAndTheCoreWorkWithoutCronUtils() throws Exception {
    Instant t0 = Instant.parse("2031-07-01T00:00:00Z");
    Schedules.create(ds, new MutableClock(t0)).upsert(Schedule.cron("cron-row", "* * * * *", "UTC", "C").queue("nocron"));
    Instant cronNext = Schedules.create(ds).get("cron-row").orElseThrow().nextRunAt();

    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<URL> urls = new ArrayList<>();
    boolean dropped = false;
    for (String entry : cp.split(File.pathSeparator)) {
      if (entry.isEmpty()) {
        continue;
      }
      if (entry.contains("cron-utils")) {
        dropped = true;
        continue;
      }
      urls.add(new File(entry).toURI().toURL());
    }
    assertTrue(dropped, "the test class path had cron-utils to drop: " + cp);
    TestDatabase.Endpoint e = TestDatabase.endpoint();
    String report;
    try (URLClassLoader isolated = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader())) {
      Class<?> probe = isolated.loadClass(NoCronProbe.class.getName());
      assertTrue(probe.getClassLoader() == isolated);
      report = (String) probe.getMethod("run", String.class, String.class, String.class, String.class, String.class, long.class)
          .invoke(null, e.jdbcUrl(), e.user(), e.password(), schema, "nocron", t0.getEpochSecond());
    }
    assertEquals("cronAvailable=false coreWorked=1 cronRefused=true enqueued=1", report);
    assertEquals(List.of(t0.plus(Duration.ofMinutes(1))), runAts("nocron"), "the interval tick, not the cron one");
    assertEquals(cronNext, Schedules.create(ds).get("cron-row").orElseThrow().nextRunAt(), "the cron row was left alone");
  }
}
