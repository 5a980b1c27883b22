package io.quejava.ext.unique;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.LockedJob;
import io.quejava.NewJob;
import io.quejava.PgTest;
import io.quejava.QueException;
import io.quejava.UniqueOptions;
import io.quejava.UniqueOptions.State;
import io.quejava.WorkMap;
import io.quejava.Worker;
import io.quejava.ext.ExtensionMigrator;
import io.quejava.testing.QueJobsListing;
import io.quejava.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Unique jobs on the classic table (schema 3, Ruby Que 0.x and que-go); {@link ModernUniqueJobsTest}
 * runs the same on schema 7 (Que 2.x), plus what only 4-7 has (finish, expire).
 */
@Timeout(300)
class UniqueJobsTest extends PgTest {
  static final UniqueOptions BY_ARGS = UniqueOptions.byArgs();

  @BeforeEach
  void installed() throws SQLException {
    UniqueJobs.install(ds);
    exec("DELETE FROM que_unique_jobs");
  }

  long keys() throws SQLException {
    return count("SELECT count(*) FROM que_unique_jobs");
  }

  /** Deletes a job the way Ruby Que 0.14 / que-go (schema 3: the composite key) or Que 2.x (by id) does. */
  void deleteAsRuby(Job job) throws SQLException {
    if (modern()) {
      exec("DELETE FROM que_jobs WHERE id = ?", job.id());
    } else {
      exec("DELETE FROM que_jobs WHERE queue = ? AND priority = ?::smallint AND run_at = ?::timestamptz AND job_id = ?",
          job.queue(), job.priority(), job.runAt().atOffset(java.time.ZoneOffset.UTC), job.id());
    }
  }

  @Test
  void aSecondEnqueueOfTheSameArgsReturnsTheFirstJobAsADuplicate() throws SQLException {
    Job first = client.enqueue(NewJob.of("Receipt", 42, "EUR").unique(BY_ARGS));
    assertFalse(first.isDuplicate());
    Job again = client.enqueue(NewJob.of("Receipt", 42, "EUR").unique(BY_ARGS));
    assertTrue(again.isDuplicate());
    assertEquals(first.id(), again.id());
    assertEquals("Receipt", again.jobClass());
    assertEquals(first.runAt(), again.runAt());
    assertEquals(List.of(42, "EUR"), List.of(again.arg(0, Integer.class), again.arg(1, String.class)));
    assertEquals(1, jobCount());
    assertEquals(1, keys());

    assertFalse(client.enqueue(NewJob.of("Receipt", 43, "EUR").unique(BY_ARGS)).isDuplicate(), "other args");
    assertFalse(client.enqueue(NewJob.of("Receipt", 42, "EUR").queue("other").unique(BY_ARGS)).isDuplicate(), "other queue");
    assertFalse(client.enqueue(NewJob.of("Invoice", 42, "EUR").unique(BY_ARGS)).isDuplicate(), "other class");
    assertFalse(client.enqueue(NewJob.of("Receipt", 42, "EUR")).isDuplicate(), "a job without the option is never refused");
    assertEquals(5, jobCount());
  }

  @Test
  void argsAreComparedAsJsonValuesNotAsText() throws SQLException {
    Job first = client.enqueue(NewJob.ofJson("Report", "[{\"month\": 11, \"year\": 2026, \"scale\": 1.50}]").unique(BY_ARGS));
    Job same = client.enqueue(NewJob.ofJson("Report", "[{ \"scale\":1.5,\"year\" :2026,\"month\":11.0 }]").unique(BY_ARGS));
    assertTrue(same.isDuplicate());
    assertEquals(first.id(), same.id());
    Job unset = client.enqueue(NewJob.ofJson("Report", "[{\"month\": 11, \"year\": 2026, \"scale\": 1.5}]")
        .queue(defaultQueue()).unique(BY_ARGS));
    assertTrue(unset.isDuplicate(), "the default queue named or not is one queue");
    assertFalse(client.enqueue(NewJob.ofJson("Report", "[{\"month\": 12, \"year\": 2026, \"scale\": 1.5}]").unique(BY_ARGS))
        .isDuplicate());
    assertFalse(client.enqueue(NewJob.ofJson("Report", "[[11, 2026]]").unique(BY_ARGS)).isDuplicate());
    assertFalse(client.enqueue(NewJob.ofJson("Report", "[[2026, 11]]").unique(BY_ARGS)).isDuplicate(), "array order counts");
    assertEquals(4, jobCount());
  }

  @Test
  void anExplicitKeyIsSharedAcrossClassesAndQueues() throws SQLException {
    Job a = client.enqueue(NewJob.of("SyncAccount", 7).unique(UniqueOptions.byKey("account:7")));
    Job b = client.enqueue(NewJob.of("OtherSync", "x").queue("elsewhere").unique(UniqueOptions.byKey("account:7")));
    assertTrue(b.isDuplicate());
    assertEquals(a.id(), b.id());
    assertEquals("SyncAccount", b.jobClass(), "the job that holds the key, as it is");
    assertEquals(1, jobCount());
  }

  @Test
  void eightThreadsOfAThousandEnqueuesOverAHundredKeysLeaveExactlyAHundredJobs() throws Exception {
    int threads = 8;
    int perThread = 1000;
    int distinct = 100;
    ConcurrentHashMap<Integer, Set<Long>> idsByKey = new ConcurrentHashMap<>();
    AtomicInteger inserted = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      done.add(pool.submit(() -> {
        try (Connection c = ds.getConnection()) {
          start.await();
          for (int i = 0; i < perThread; i++) {
            int key = (i * 7 + thread * 13) % distinct;
            NewJob job = NewJob.of("Concurrent", key).unique(BY_ARGS);
            // Each thread on a connection it keeps, in autocommit: every enqueue is a transaction of its
            // own (the test data source opens a new connection per call, which would measure that instead).
            Job got = client.enqueue(c, job);
            if (!got.isDuplicate()) {
              inserted.incrementAndGet();
            }
            idsByKey.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(got.id());
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : done) {
      f.get(240, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertEquals(distinct, jobCount());
    assertEquals(distinct, inserted.get(), "one enqueue per key inserted, every other one was told it was a duplicate");
    assertEquals(distinct, keys());
    assertEquals(distinct, idsByKey.size());
    for (Map.Entry<Integer, Set<Long>> e : idsByKey.entrySet()) {
      assertEquals(1, e.getValue().size(), "key " + e.getKey() + " answered with one job id: " + e.getValue());
    }
    assertEquals(distinct, count("SELECT count(DISTINCT args::text) FROM que_jobs"));
  }

  @Test
  void aRubyStyleDeleteBySqlReleasesTheKey() throws SQLException {
    Job first = client.enqueue(NewJob.of("Released", 1).unique(BY_ARGS));
    deleteAsRuby(first);
    assertEquals(0, keys());
    Job next = client.enqueue(NewJob.of("Released", 1).unique(BY_ARGS));
    assertFalse(next.isDuplicate());
    assertNotEquals(first.id(), next.id());
  }

  @Test
  void aJavaWorkerThatWorksTheJobReleasesTheKey() throws SQLException {
    Job first = client.enqueue(NewJob.of("Worked", 1).unique(BY_ARGS));
    Worker w = new Worker(client, WorkMap.of("Worked", job -> { }));
    try {
      assertTrue(w.workOne());
    } finally {
      w.shutdown();
    }
    assertEquals(0, jobCount());
    assertEquals(0, keys());
    assertFalse(client.enqueue(NewJob.of("Worked", 1).unique(BY_ARGS)).isDuplicate());
    assertNotEquals(first.id(), client.enqueue(NewJob.of("Worked", 1).unique(BY_ARGS)).id() + 1);
  }

  @Test
  void aFailingJobKeepsItsKeyByDefaultAndGivesItUpWhenFailingDoesNotCount() throws SQLException {
    Job first = client.enqueue(NewJob.of("Flaky", 1).unique(BY_ARGS));
    Worker w = new Worker(client, WorkMap.of("Flaky", job -> {
      throw new IllegalStateException("down");
    }));
    try {
      assertTrue(w.workOne());
    } finally {
      w.shutdown();
    }
    assertEquals(1, count("SELECT error_count FROM que_unique_jobs"), "the trigger copied the error count");
    Job dup = client.enqueue(NewJob.of("Flaky", 1).unique(BY_ARGS));
    assertTrue(dup.isDuplicate());
    assertEquals(1, dup.errorCount(), "the holder as it is now");

    Job fresh = client.enqueue(NewJob.of("Flaky", 1).unique(BY_ARGS.states(State.READY, State.SCHEDULED, State.RUNNING)));
    assertFalse(fresh.isDuplicate(), "a failing holder does not count: the key moves to the new job");
    assertEquals(2, jobCount());
    assertEquals(fresh.id(), count("SELECT job_id FROM que_unique_jobs"));
    // The old job goes (worked by anyone): the new job keeps its key.
    deleteAsRuby(first);
    assertEquals(1, keys());
    assertTrue(client.enqueue(NewJob.of("Flaky", 1).unique(BY_ARGS)).isDuplicate());
  }

  @Test
  void aRunningJobCountsByDefaultAndNotWhenRunningIsLeftOut() throws SQLException {
    Job first = client.enqueue(NewJob.of("Long", 1).queue("long").unique(BY_ARGS));
    try (LockedJob locked = client.lockJob("long").orElseThrow()) {
      assertEquals(first.id(), locked.job().id());
      assertTrue(client.enqueue(NewJob.of("Long", 1).queue("long").unique(BY_ARGS)).isDuplicate());
      Job second = client.enqueue(NewJob.of("Long", 1).queue("long")
          .unique(BY_ARGS.states(State.READY, State.SCHEDULED, State.FAILING)));
      assertFalse(second.isDuplicate(), "the holder runs, which does not count");
      assertTrue(client.enqueue(NewJob.of("Long", 1).queue("long")
          .unique(BY_ARGS.states(State.READY, State.SCHEDULED, State.FAILING))).isDuplicate(), "the new one is ready");
      locked.delete();
    }
    assertEquals(1, jobCount());
    assertEquals(1, keys());
  }

  @Test
  void aScheduledJobCountsUnlessScheduledIsLeftOut() throws SQLException {
    Instant later = Instant.now().plus(Duration.ofHours(1));
    Job first = client.enqueue(NewJob.of("Later", 1).runAt(later).unique(BY_ARGS));
    assertTrue(client.enqueue(NewJob.of("Later", 1).unique(BY_ARGS)).isDuplicate());
    Job now = client.enqueue(NewJob.of("Later", 1).unique(BY_ARGS.states(State.READY)));
    assertFalse(now.isDuplicate());
    assertNotEquals(first.id(), now.id());
  }

  @Test
  void aKeyWithAPeriodLapsesWithoutASweeper() throws SQLException {
    UniqueOptions hourly = BY_ARGS.period(Duration.ofHours(1));
    Job first = client.enqueue(NewJob.of("Hourly", 1).unique(hourly));
    assertTrue(client.enqueue(NewJob.of("Hourly", 1).unique(hourly)).isDuplicate());
    assertEquals(1, count("SELECT count(*) FROM que_unique_jobs WHERE expires_at BETWEEN now() + interval '59 minutes'"
        + " AND now() + interval '61 minutes'"));
    // An hour later (set by SQL rather than waited for).
    exec("UPDATE que_unique_jobs SET expires_at = now() - interval '1 second'");
    Job second = client.enqueue(NewJob.of("Hourly", 1).unique(hourly));
    assertFalse(second.isDuplicate(), "the period is over: a new job, though the first is still there");
    assertEquals(2, jobCount());
    assertEquals(second.id(), count("SELECT job_id FROM que_unique_jobs"));
    assertTrue(client.enqueue(NewJob.of("Hourly", 1).unique(hourly)).isDuplicate());
    deleteAsRuby(first);
    assertEquals(1, keys(), "the old job's delete leaves the new job's key");
  }

  @Test
  void aRolledBackEnqueueReleasesItsKey() throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      Job j = client.enqueue(c, NewJob.of("Tx", 1).unique(BY_ARGS));
      assertFalse(j.isDuplicate());
      assertTrue(client.enqueue(c, NewJob.of("Tx", 1).unique(BY_ARGS)).isDuplicate(), "the transaction sees its own job");
      c.rollback();
    }
    assertEquals(0, jobCount());
    assertEquals(0, keys());
    assertFalse(client.enqueue(NewJob.of("Tx", 1).unique(BY_ARGS)).isDuplicate());
  }

  @Test
  void aConcurrentEnqueueWaitsForTheOpenTransactionAndThenSeesItsOutcome() throws Exception {
    for (boolean commit : new boolean[] {true, false}) {
      exec("DELETE FROM que_jobs");
      ExecutorService other = Executors.newSingleThreadExecutor();
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        Job mine = client.enqueue(c, NewJob.of("Raced", 1).unique(BY_ARGS));
        Future<Job> theirs = other.submit(() -> client.enqueue(NewJob.of("Raced", 1).unique(BY_ARGS)));
        // The other enqueue waits on our uncommitted key.
        io.quejava.testing.Await.until(Duration.ofSeconds(10), "the other enqueue to wait on the key", () -> unchecked());
        assertFalse(theirs.isDone());
        if (commit) {
          c.commit();
          Job got = theirs.get(10, TimeUnit.SECONDS);
          assertTrue(got.isDuplicate());
          assertEquals(mine.id(), got.id());
        } else {
          c.rollback();
          Job got = theirs.get(10, TimeUnit.SECONDS);
          assertFalse(got.isDuplicate(), "our rollback freed the key for them");
          assertNotEquals(mine.id(), got.id());
        }
      } finally {
        other.shutdownNow();
      }
      assertEquals(1, jobCount());
      assertEquals(1, keys());
    }
  }

  /** True while some session waits on a lock (the other enqueue, blocked by our key). */
  boolean unchecked() {
    try {
      return count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()") > 0;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void enqueueAllHonoursUniquenessWithinTheBatchAndAgainstExistingJobs() throws SQLException {
    Job existing = client.enqueue(NewJob.of("Batch", 0).unique(BY_ARGS));
    List<Job> jobs = client.enqueueAll(List.of(
        NewJob.of("Batch", 1).unique(BY_ARGS),        // 0: new
        NewJob.of("Batch", 0).unique(BY_ARGS),        // 1: duplicate of the existing job
        NewJob.of("Batch", 1).unique(BY_ARGS),        // 2: duplicate of 0, in the same batch
        NewJob.of("Plain", 1),                        // 3: no option: always inserted
        NewJob.of("Plain", 1),                        // 4: the same again: inserted
        NewJob.of("Batch", 2).unique(UniqueOptions.byKey("two")), // 5: new
        NewJob.of("Other", 9).unique(UniqueOptions.byKey("two"))  // 6: duplicate of 5
    ));
    assertEquals(7, jobs.size());
    assertEquals(List.of(false, true, true, false, false, false, true), jobs.stream().map(Job::isDuplicate).toList());
    assertEquals(existing.id(), jobs.get(1).id());
    assertEquals(jobs.get(0).id(), jobs.get(2).id());
    assertEquals(jobs.get(5).id(), jobs.get(6).id());
    assertNotEquals(jobs.get(3).id(), jobs.get(4).id());
    assertEquals(5, jobCount(), "existing + 0, 3, 4, 5");
    assertEquals(3, keys());
    Set<Long> ids = new HashSet<>();
    for (Object[] r : rows("SELECT " + idColumn() + " FROM que_jobs")) {
      ids.add(((Number) r[0]).longValue());
    }
    assertEquals(Set.of(existing.id(), jobs.get(0).id(), jobs.get(3).id(), jobs.get(4).id(), jobs.get(5).id()), ids);

    // A batch in the caller's transaction, rolled back: nothing stays, keys included.
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      List<Job> more = client.enqueueAll(c, List.of(NewJob.of("Batch", 3).unique(BY_ARGS), NewJob.of("Batch", 0).unique(BY_ARGS)));
      assertEquals(List.of(false, true), more.stream().map(Job::isDuplicate).toList());
      c.rollback();
    }
    assertEquals(5, jobCount());
    assertEquals(3, keys());
  }

  /**
   * A batch large enough for COPY that holds unique jobs goes the unique insert's way (COPY cannot
   * skip a row whose key is taken): duplicates still come back as the job holding the key.
   */
  @Test
  void aLargeBatchWithUniqueJobsKeepsTheirRules() throws SQLException {
    Job existing = client.enqueue(NewJob.of("Large", -1).unique(BY_ARGS));
    List<NewJob> batch = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      batch.add(i % 10 == 0 ? NewJob.of("Large", -1).unique(BY_ARGS) : NewJob.of("Plain", i));
    }
    List<Job> jobs = client.enqueueAll(batch);
    for (int i = 0; i < 150; i++) {
      assertEquals(i % 10 == 0, jobs.get(i).isDuplicate(), "jobs[" + i + "]");
      if (i % 10 == 0) {
        assertEquals(existing.id(), jobs.get(i).id());
      }
    }
    assertEquals(136, jobCount(), "the existing job and the 135 plain ones");
  }

  @Test
  void concurrentBatchesOverTheSameKeysInOppositeOrdersNeitherDeadlockNorDuplicate() throws Exception {
    List<NewJob> up = new ArrayList<>();
    List<NewJob> down = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      up.add(NewJob.of("Both", i).unique(BY_ARGS));
      down.add(NewJob.of("Both", 49 - i).unique(BY_ARGS));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<List<Job>>> all = new ArrayList<>();
    for (int r = 0; r < 20; r++) {
      all.add(pool.submit(() -> client.enqueueAll(up)));
      all.add(pool.submit(() -> client.enqueueAll(down)));
    }
    Map<Long, Integer> inserted = new HashMap<>();
    for (Future<List<Job>> f : all) {
      for (Job j : f.get(120, TimeUnit.SECONDS)) {
        if (!j.isDuplicate()) {
          inserted.merge(j.id(), 1, Integer::sum);
        }
      }
    }
    pool.shutdown();
    assertEquals(50, jobCount());
    assertEquals(50, inserted.size());
  }

  @Test
  void truncateEmptiesTheKeys() throws SQLException {
    client.enqueue(NewJob.of("T", 1).unique(BY_ARGS));
    exec("TRUNCATE que_jobs");
    assertEquals(0, keys());
    assertFalse(client.enqueue(NewJob.of("T", 1).unique(BY_ARGS)).isDuplicate());
  }

  @Test
  void aKeyWhoseJobWentWithTriggersOffIsTakenOverAndPurged() throws SQLException {
    Job first = client.enqueue(NewJob.of("Orphan", 1).unique(BY_ARGS));
    try (Connection c = ds.getConnection(); java.sql.Statement st = c.createStatement()) {
      c.setAutoCommit(false);
      st.execute("ALTER TABLE que_jobs DISABLE TRIGGER que_java_unique_sync");
      st.execute("DELETE FROM que_jobs");
      st.execute("ALTER TABLE que_jobs ENABLE TRIGGER que_java_unique_sync");
      c.commit();
    }
    assertEquals(1, keys(), "the key stayed behind");
    Job again = client.enqueue(NewJob.of("Orphan", 1).unique(BY_ARGS));
    assertFalse(again.isDuplicate(), "a key whose job is gone is taken over");
    assertNotEquals(first.id(), again.id());
    assertEquals(1, keys());

    client.enqueue(NewJob.of("Other", 1).unique(UniqueOptions.byKey("orphan")));
    exec("UPDATE que_unique_jobs SET job_id = job_id + 1000000 WHERE unique_key = 'orphan'");
    assertEquals(1, UniqueJobs.purge(ds), "the one with no job");
    assertEquals(1, keys());
    assertEquals(again.id(), count("SELECT job_id FROM que_unique_jobs"));
  }

  @Test
  void keysStillGoWhenQueJobsMovesFromSchema3To4UnderTheTriggersAndInstallPutsThemRight() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(modern(), "a move from the classic table");
    DataSource moving = schemaAt(3, "unique_move");
    UniqueJobs.install(moving);
    Client classic = Client.create(moving);
    Job a = classic.enqueue(NewJob.of("Moved", 1).unique(BY_ARGS));
    Job b = classic.enqueue(NewJob.of("Moved", 2).unique(BY_ARGS));
    io.quejava.Migrator.create(moving).migrateTo(4); // Que's migration 4: job_id becomes id, with our triggers on
    io.quejava.testing.TestSql sql = new io.quejava.testing.TestSql(moving);
    assertEquals(2, sql.count("SELECT count(*) FROM que_unique_jobs"));
    assertTrue(QueJobsListing.of(moving).stream().anyMatch(l -> l.contains("que_java_unique_sync('job_id')")));
    // The trigger still names job_id: it reads the renamed column from the row instead.
    sql.exec("DELETE FROM que_jobs WHERE id = ?", a.id());
    assertEquals(1, sql.count("SELECT count(*) FROM que_unique_jobs"));
    sql.exec("UPDATE que_jobs SET finished_at = now() WHERE id = ?", b.id());
    assertEquals(0, sql.count("SELECT count(*) FROM que_unique_jobs"));

    UniqueJobs.install(moving);
    assertTrue(QueJobsListing.of(moving).stream().anyMatch(l -> l.contains("que_java_unique_sync('id')")), "repaired");
    Client modernClient = Client.create(moving);
    Job c = modernClient.enqueue(NewJob.of("Moved", 3).unique(BY_ARGS));
    assertTrue(modernClient.enqueue(NewJob.of("Moved", 3).unique(BY_ARGS)).isDuplicate());
    sql.exec("DELETE FROM que_jobs WHERE id = ?", c.id());
    assertEquals(0, sql.count("SELECT count(*) FROM que_unique_jobs"));
  }

  @Test
  void withoutTheExtensionAUniqueEnqueueSaysWhatToInstall() throws SQLException {
    DataSource bare = schemaAt(schemaVersion(), "unique_bare");
    Client c = Client.create(bare);
    QueException e = assertThrows(QueException.class, () -> c.enqueue(NewJob.of("X").unique(BY_ARGS)));
    assertTrue(e.getMessage().contains("UniqueJobs.install"), e.getMessage());
    assertFalse(c.enqueue(NewJob.of("X")).isDuplicate(), "plain jobs need nothing");
  }

  @Test
  void badOptionsAreRefusedNamingTheField() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> UniqueOptions.byKey(null)).getMessage().startsWith("key: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> UniqueOptions.byKey("")).getMessage().startsWith("key: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> UniqueOptions.byKey("que-java:x")).getMessage().startsWith("key: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> UniqueOptions.byKey("a\0b")).getMessage().startsWith("key: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> UniqueOptions.byKey("x".repeat(1001))).getMessage().startsWith("key: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> BY_ARGS.period(Duration.ZERO)).getMessage().startsWith("period: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> BY_ARGS.period(null)).getMessage().startsWith("period: must not be null"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> BY_ARGS.states()).getMessage().startsWith("states: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> BY_ARGS.states((State) null)).getMessage().startsWith("states[0]: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> NewJob.of("X").unique(null)).getMessage().startsWith("options: "));
    // What the schema refuses is refused before anything is written, unique or not.
    NewJob bad = modern() ? NewJob.of("Y").queue("q".repeat(101)) : NewJob.of("Y").kwargsJson("{\"a\":1}");
    String field = modern() ? "jobs[1].queue: " : "jobs[1].kwargs: ";
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> client.enqueueAll(List.of(NewJob.of("X").unique(BY_ARGS), bad.unique(BY_ARGS))))
        .getMessage().startsWith(field));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> client.enqueue(bad.unique(BY_ARGS)))
        .getMessage().startsWith(field.substring("jobs[1].".length())));
  }

  @Test
  void installUninstallInstallChangesQueJobsByTheTriggersAlone() throws Exception {
    UniqueJobs.uninstall(ds);
    List<String> before = QueJobsListing.of(ds);
    assertTrue(before.stream().noneMatch(l -> l.contains("que_java_unique")), before.toString());
    List<Object[]> rowsBefore = rows("SELECT to_json(j)::text FROM que_jobs j");

    assertEquals(1, UniqueJobs.install(ds));
    List<String> up = QueJobsListing.of(ds);
    assertEquals(1, ExtensionMigrator.create(ds, UniqueJobs.EXTENSION).currentVersion());
    List<String> added = up.stream().filter(l -> !before.contains(l)).toList();
    assertEquals(2, added.size(), added.toString());
    assertTrue(added.stream().anyMatch(l -> l.startsWith("trigger que_java_unique_sync ")
        && l.contains("AFTER DELETE OR UPDATE ON") && l.contains("que_java_unique_sync('" + idColumn() + "')")), added.toString());
    assertTrue(added.stream().anyMatch(l -> l.startsWith("trigger que_java_unique_truncate ")
        && l.contains("AFTER TRUNCATE")), added.toString());
    assertEquals(before, QueJobsListing.without(up, l -> l.startsWith("trigger que_java_unique_")),
        "installing changed something of que_jobs besides adding the triggers");

    UniqueJobs.uninstall(ds);
    assertEquals(before, QueJobsListing.of(ds), "uninstalling left que_jobs different");
    assertEquals(0, count("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'que_unique_jobs'"));
    assertEquals(1, UniqueJobs.install(ds));
    assertEquals(up, QueJobsListing.of(ds), "installing again gave another catalog");
    assertEquals(1, UniqueJobs.install(ds), "idempotent");
    assertEquals(up, QueJobsListing.of(ds));
    assertEquals(schemaVersion(), io.quejava.Migrator.create(ds).currentVersion(), "que_jobs' version comment");
    assertEquals(rowsBefore.stream().map(r -> r[0]).toList(),
        rows("SELECT to_json(j)::text FROM que_jobs j").stream().map(r -> r[0]).toList());
  }
}
