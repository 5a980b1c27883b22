package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.ext.deadletter.DeadLetters;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Statistics on schema 3 (and, through {@link ModernStatisticsTest}, on 7): jobs in every state, one
 * held by another session, read by the exact path (a small table) and by the large-table path (loose
 * index scans, locks found among the queues' first rows, a sample that here covers the whole table),
 * which must agree.
 */
class StatisticsTest extends PgTest {

  @BeforeAll
  void installDeadLetters() {
    DeadLetters.migrator(ds).migrate();
  }

  /** The fixture: queue "a" with every pending state, queue "b" with two ready jobs; returns the held job's id. */
  private long fill() throws Exception {
    // a: 3 ready (one failing), 2 scheduled (one failing, waiting for its retry), 1 running (held below)
    insertRaw("queue, job_class, run_at", "'a', 'A', now() - interval '10 minutes'");
    insertRaw("queue, job_class, run_at", "'a', 'A', now() - interval '1 minute'");
    insertRaw("queue, job_class, run_at, error_count", "'a', 'B', now() - interval '30 seconds', 2");
    insertRaw("queue, job_class, run_at", "'a', 'A', now() + interval '1 hour'");
    insertRaw("queue, job_class, run_at, error_count", "'a', 'B', now() + interval '19 seconds', 1");
    long held = insertRaw("queue, job_class, run_at", "'a', 'A', now() - interval '1 hour'");
    insertRaw("queue, job_class", "'b', 'C'");
    insertAsRuby("C", "[1]");
    exec("UPDATE que_jobs SET queue = 'b' WHERE queue = ?", defaultQueue());
    if (modern()) {
      insertRaw("queue, job_class, finished_at", "'a', 'A', now()");
      insertRaw("queue, job_class, expired_at, error_count", "'a', 'B', now(), 16");
      insertRaw("queue, job_class, expired_at, error_count", "'c', 'B', now(), 16");
    } else {
      exec("TRUNCATE que_dead_jobs");
      exec("INSERT INTO que_dead_jobs (priority, run_at, job_id, job_class, args, error_count, last_error, queue, reason)"
          + " VALUES (100, now(), 1, 'D', '[]', 5, 'boom', 'a', 'max_attempts'),"
          + " (100, now(), 2, 'D', '[]', 5, 'boom', 'd', 'max_attempts')");
    }
    return held;
  }

  private static Map<String, QueueStats> byName(StatsReport r) {
    return r.queues().stream().collect(Collectors.toMap(QueueStats::queue, Function.identity()));
  }

  private void assertFixture(StatsReport report) {
    assertEquals(schemaVersion(), report.schemaVersion());
    assertTrue(report.deadLetters());
    Map<String, QueueStats> q = byName(report);
    QueueStats a = q.get("a");
    assertEquals(3, a.ready(), "ready: " + a);
    assertEquals(2, a.scheduled(), "scheduled: " + a);
    assertEquals(1, a.running(), "running: " + a);
    assertEquals(2, a.failing(), "failing: " + a);
    // the held job is the oldest, but it is running: latency is the oldest job waiting
    assertTrue(a.oldestReadyAge().compareTo(Duration.ofMinutes(9)) > 0, a.toString());
    assertTrue(a.oldestReadyAge().compareTo(Duration.ofMinutes(11)) < 0, a.toString());
    QueueStats b = q.get("b");
    assertEquals(2, b.ready());
    assertEquals(0, b.running());
    if (modern()) {
      assertEquals(1, a.finished());
      assertEquals(1, a.expired());
      assertEquals(1, a.dead().getAsLong(), "on 4-7 the dead letters are the expired rows");
      assertEquals(1, q.get("c").expired());
      assertEquals(0, q.get("c").ready());
    } else {
      assertEquals(1, a.dead().getAsLong());
      assertEquals(0, b.dead().getAsLong());
      assertEquals(1, q.get("d").dead().getAsLong(), "a queue with dead letters only is listed");
    }
    assertEquals(0, report.runningUnlocated());
  }

  @Test
  void countsEveryStateAndTakesHeldJobsAsRunningWhoeverHoldsThem() throws Exception {
    long held = fill();
    try (Connection other = ds.getConnection()) {
      lock(other, held);
      StatsReport report = Statistics.create(client).summary();
      assertFixture(report);
      assertFalse(report.estimated());
    }
  }

  @Test
  void theLargeTablePathGivesTheSameFiguresWhenItsSampleCoversTheTable() throws Exception {
    long held = fill();
    // 150 more ready rows in queue a take the table and the queue past an exact limit of 100; the
    // sample's page count covers the whole table, so its figures are exact too.
    exec("INSERT INTO que_jobs (queue, job_class, run_at" + (schemaVersion() >= 6 ? ", job_schema_version" : "")
        + ") SELECT 'a', 'E', now() + interval '2 hours'" + (schemaVersion() >= 6 ? ", 2" : "")
        + " FROM generate_series(1, 150)");
    if (schemaVersion() >= 6) {
      // a leftover Que 1.x job (job_schema_version 1): the index walks run once per version
      insertRaw("queue, job_class, job_schema_version", "'b', 'C', 1");
    }
    try (Connection other = ds.getConnection()) {
      lock(other, held);
      Statistics stats = Statistics.builder(client).exactLimit(100).samplePages(1_000_000).build();
      StatsReport report = stats.summary();
      QueueStats a = byName(report).get("a");
      assertEquals(152, a.scheduled(), a.toString());
      assertEquals(3, a.ready(), a.toString());
      assertEquals(1, a.running(), a.toString());
      assertEquals(2, a.failing(), a.toString());
      assertTrue(a.oldestReadyAge().compareTo(Duration.ofMinutes(9)) > 0, a.toString());
      assertEquals(schemaVersion() >= 6 ? 3 : 2, byName(report).get("b").ready());
      assertFalse(report.estimated(), report.toString());
      assertEquals(0, report.runningUnlocated());
    }
  }

  @Test
  void aSmallSampleOfALargeTableIsFlaggedAsAnEstimate() throws Exception {
    exec("INSERT INTO que_jobs (queue, job_class" + (schemaVersion() >= 6 ? ", job_schema_version" : "")
        + ") SELECT 'big', 'E'" + (schemaVersion() >= 6 ? ", 2" : "") + " FROM generate_series(1, 20000)");
    long pages = count("SELECT pg_relation_size('que_jobs') / 8192");
    assertTrue(pages > 120, "pages " + pages);
    StatsReport report = Statistics.builder(client).exactLimit(1000).samplePages(60).build().summary();
    QueueStats big = byName(report).get("big");
    assertTrue(big.estimated());
    assertTrue(big.ready() > 10_000 && big.ready() < 40_000, big.toString());
    assertTrue(big.oldestReadyAt().isPresent());
    // analysed: the sample's share of rows times the planner's row estimate
    exec("ANALYZE que_jobs");
    QueueStats analysed = byName(Statistics.builder(client).exactLimit(1000).samplePages(60).build().summary()).get("big");
    assertTrue(analysed.estimated());
    assertTrue(analysed.ready() > 16_000 && analysed.ready() < 24_000, analysed.toString());
    List<JobClassStats> byClass = Statistics.builder(client).exactLimit(1000).samplePages(60).build().byJobClass("big");
    assertEquals(1, byClass.size());
    assertTrue(byClass.get(0).estimated());
    assertTrue(byClass.get(0).ready() > 16_000 && byClass.get(0).ready() < 24_000, byClass.toString());
  }

  @Test
  void perJobClassFiguresOfOneQueue() throws Exception {
    long held = fill();
    try (Connection other = ds.getConnection()) {
      lock(other, held);
      Map<String, JobClassStats> byClass = Statistics.create(client).byJobClass("a").stream()
          .collect(Collectors.toMap(JobClassStats::jobClass, Function.identity()));
      assertEquals(2, byClass.get("A").ready());
      assertEquals(1, byClass.get("A").running());
      assertEquals(1, byClass.get("A").scheduled());
      assertEquals(1, byClass.get("B").ready());
      assertEquals(2, byClass.get("B").failing());
      assertTrue(byClass.get("A").oldestReadyAge().compareTo(Duration.ofMinutes(9)) > 0);
    }
  }

  @Test
  void holdersNameTheSessionThatHoldsAJob() throws Exception {
    long held = fill();
    try (Connection other = ds.getConnection()) {
      lock(other, held);
      int pid = backendPid(other);
      List<LockHolder> holders = Statistics.create(client).holders();
      LockHolder h = holders.stream().filter(x -> x.backendPid() == pid).findFirst().orElseThrow();
      assertEquals(1, h.locks());
      assertEquals("unknown", h.language());
      assertEquals("que-java-tests", h.applicationName().orElseThrow());
    }
  }

  @Test
  void anEmptyTableHasNoQueues() {
    StatsReport report = Statistics.create(client).summary();
    assertTrue(report.queues().stream().allMatch(q -> q.ready() == 0 && q.running() == 0));
  }

  private static void lock(Connection c, long id) throws Exception {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_lock(?)")) {
      ps.setLong(1, id);
      ps.execute();
    }
  }
}
