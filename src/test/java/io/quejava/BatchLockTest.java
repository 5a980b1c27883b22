package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.internal.Session;
import io.quejava.testing.Await;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The batch lock walk and the prefetching worker loop (schema 3). */
class BatchLockTest extends PgTest {

  @AfterEach
  void noHook() {
    client.beforeRecheck = null;
  }

  /** The advisory job locks one backend holds, decoded, in order. */
  private Set<Long> locksOf(int pid) throws SQLException {
    Set<Long> out = new TreeSet<>();
    for (Object[] r : rows("SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks"
        + " WHERE locktype = 'advisory' AND objsubid = 1 AND pid = ?", pid)) {
      out.add((Long) r[0]);
    }
    return out;
  }

  private boolean queueEmpty() {
    try {
      return jobCount() == 0;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theWalkHoldsExactlyTheLocksItReturnsAndSkipsOthersLocks() throws SQLException {
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      jobs.add(client.enqueue(NewJob.of("Batch", i).priority(10 + i)));
    }
    try (LockedJob other = client.lockJob("").orElseThrow();
        Session s = new Session(ds.getConnection())) {
      assertEquals(jobs.get(0).id(), other.job().id());
      List<LockedJob> batch = client.locker().lockBatch(s, "", 4, RetryPolicy.DEFAULT, null, false);
      List<Long> ids = batch.stream().map(l -> l.job().id()).toList();
      assertEquals(List.of(jobs.get(1).id(), jobs.get(2).id(), jobs.get(3).id(), jobs.get(4).id()), ids,
          "the next four in (priority, run_at, id) order, stepping over the job another session holds");
      assertEquals(new TreeSet<>(ids), locksOf(s.backendPid()), "one lock per returned job, none more");
      long[] all = ids.stream().mapToLong(Long::longValue).toArray();
      assertEquals(4, client.locker().unlockAll(s, all));
      assertEquals(Set.of(), locksOf(s.backendPid()));
      assertEquals(0, client.locker().unlockAll(s, all), "a second unlock finds nothing held");
    }
  }

  @Test
  void aWalkThatRunsOutReturnsWhatItGot() throws SQLException {
    Job a = client.enqueue("A");
    Job b = client.enqueue("B");
    try (Session s = new Session(ds.getConnection())) {
      List<LockedJob> batch = client.locker().lockBatch(s, "", 50, RetryPolicy.DEFAULT, null, false);
      assertEquals(List.of(a.id(), b.id()), batch.stream().map(l -> l.job().id()).toList());
      assertEquals(Set.of(a.id(), b.id()), locksOf(s.backendPid()));
    }
  }

  @Test
  void aWalkPassesOverTheIdsItIsToldSiblingsHoldWithoutLockingThem() throws SQLException {
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      jobs.add(client.enqueue(NewJob.of("Skip", i).priority(10 + i)));
    }
    long[] skip = {jobs.get(0).id(), jobs.get(2).id()};
    try (Session s = new Session(ds.getConnection())) {
      List<LockedJob> batch = client.locker().lockBatch(s, "", 3, RetryPolicy.DEFAULT, null, false, () -> skip);
      List<Long> ids = batch.stream().map(l -> l.job().id()).toList();
      assertEquals(List.of(jobs.get(1).id(), jobs.get(3).id(), jobs.get(4).id()), ids, "in order, the skipped ones left out");
      assertEquals(new TreeSet<>(ids), locksOf(s.backendPid()), "no lock call on a skipped row: none taken, none leaked");
    }
  }

  @Test
  void aJobThatChangedBeforeTheBatchRecheckIsUnlockedAndTheRestKept() throws SQLException {
    Job first = client.enqueue("First");
    Job moved = client.enqueue("Moved");
    Job third = client.enqueue("Third");
    client.beforeRecheck = j -> {
      if (j.id() == moved.id()) {
        try {
          exec("UPDATE que_jobs SET run_at = run_at + interval '1 hour' WHERE job_id = ?", moved.id());
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      }
    };
    try (Session s = new Session(ds.getConnection())) {
      List<LockedJob> batch = client.locker().lockBatch(s, "", 3, RetryPolicy.DEFAULT, null, false);
      assertEquals(List.of(first.id(), third.id()), batch.stream().map(l -> l.job().id()).toList());
      assertEquals(Set.of(first.id(), third.id()), locksOf(s.backendPid()), "the moved job's lock was released");
    }
  }

  @Test
  void aPrefetchingPoolRunsEveryJobOnceAndLeavesNoLock() throws Exception {
    int n = 2000;
    List<NewJob> batch = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      batch.add(NewJob.of("Count", i));
    }
    List<Long> ids = client.enqueueAll(batch).stream().map(Job::id).toList();
    ConcurrentHashMap<Long, Integer> runs = new ConcurrentHashMap<>();
    WorkMap map = WorkMap.builder().put("Count", job -> runs.merge(job.job().id(), 1, Integer::sum)).build();
    WorkerPool a = WorkerPool.builder(client, map).workers(3).prefetch(16).name("a").build();
    WorkerPool b = WorkerPool.builder(client, map).workers(3).prefetch(16).name("b").build();
    a.start();
    b.start();
    try {
      Await.until(Duration.ofSeconds(60), "the queue to drain", this::queueEmpty);
      Await.until(Duration.ofSeconds(10), "the pools' held-job sets to empty", () -> a.heldJobs() == 0 && b.heldJobs() == 0);
    } finally {
      a.shutdown(Duration.ofSeconds(10));
      b.shutdown(Duration.ofSeconds(10));
    }
    assertEquals(n, runs.size());
    assertTrue(runs.values().stream().allMatch(c -> c == 1), "no job ran twice");
    assertEquals(0, advisoryLocksOn(ids));
  }

  @Test
  void aSlowJobDoesNotHoldTheRestOfItsBatchHostage() throws Exception {
    // One worker with a large prefetch picks up fast jobs, then a slow one; jobs locked behind the
    // slow one must become free for another worker once its hold time is over.
    for (int i = 0; i < 40; i++) {
      client.enqueue(NewJob.of("Fast").priority(1));
    }
    client.enqueue(NewJob.of("Slow").priority(2));
    for (int i = 0; i < 5; i++) {
      client.enqueue(NewJob.of("After").priority(3));
    }
    CountDownLatch slowStarted = new CountDownLatch(1);
    CountDownLatch releaseSlow = new CountDownLatch(1);
    ConcurrentHashMap<String, String> afterRanOn = new ConcurrentHashMap<>();
    WorkMap map = WorkMap.builder()
        .put("Fast", job -> {})
        .put("Slow", job -> {
          slowStarted.countDown();
          releaseSlow.await(30, TimeUnit.SECONDS);
        })
        .put("After", job -> afterRanOn.put(Long.toString(job.job().id()), Thread.currentThread().getName()))
        .build();
    WorkerPool one = WorkerPool.builder(client, map).workers(1).prefetch(64).name("one").build();
    one.start();
    try {
      assertTrue(slowStarted.await(30, TimeUnit.SECONDS));
      WorkerPool two = WorkerPool.builder(client, map).workers(1).name("two").wakeInterval(Duration.ofMillis(20)).build();
      two.start();
      try {
        Await.until(Duration.ofSeconds(30), "the jobs behind the slow one to run", () -> afterRanOn.size() == 5);
      } finally {
        two.shutdown(Duration.ofSeconds(10));
      }
      assertTrue(afterRanOn.values().stream().allMatch(t -> t.startsWith("two-")),
          "the jobs behind the slow one ran on the other pool while it was busy: " + afterRanOn);
    } finally {
      releaseSlow.countDown();
      one.shutdown(Duration.ofSeconds(10));
    }
  }

  @Test
  void aHandlersTransactionCommitsBeforeTheBatchUnlocks() throws Exception {
    exec("CREATE TABLE IF NOT EXISTS side_effects (job_id bigint PRIMARY KEY)");
    exec("TRUNCATE side_effects");
    for (int i = 0; i < 50; i++) {
      client.enqueue("Tx");
    }
    WorkMap map = WorkMap.builder().put("Tx", job -> {
      Connection c = job.connection();
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO side_effects VALUES (?)")) {
        ps.setLong(1, job.job().id());
        ps.executeUpdate();
      }
      job.delete();
      c.commit();
      c.setAutoCommit(true);
    }).build();
    WorkerPool pool = WorkerPool.builder(client, map).workers(2).prefetch(8).build();
    pool.start();
    try {
      Await.until(Duration.ofSeconds(30), "the queue to drain", this::queueEmpty);
    } finally {
      pool.shutdown(Duration.ofSeconds(10));
    }
    assertEquals(50, count("SELECT count(*) FROM side_effects"), "each job's write committed once, with its delete");
  }

  @Test
  void byDefaultAWalkLocksUpToSixteenFastJobs() throws Exception {
    // The README's default prefetch: the batch doubles while jobs are fast, up to 16 locks at once.
    List<NewJob> batch = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      batch.add(NewJob.of("Count"));
    }
    client.enqueueAll(batch);
    java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
    WorkMap map = WorkMap.builder().put("Count", job -> {
      try (PreparedStatement ps = job.connection().prepareStatement(
          "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()");
          java.sql.ResultSet rs = ps.executeQuery()) {
        rs.next();
        most.accumulateAndGet(rs.getInt(1), Math::max);
      }
    }).build();
    WorkerPool pool = WorkerPool.builder(client, map).workers(1).build();
    pool.start();
    try {
      Await.until(Duration.ofSeconds(30), "the queue to drain", this::queueEmpty);
    } finally {
      pool.shutdown(Duration.ofSeconds(10));
    }
    assertEquals(WorkerConfig.DEFAULT_PREFETCH, most.get(), "most job locks one worker's session held at once");
    assertEquals(16, WorkerConfig.DEFAULT_PREFETCH);
  }

  @Test
  void jobsWithBcOrInfiniteRunAtDoNotStallABatch() throws SQLException {
    exec("INSERT INTO que_jobs (queue, priority, run_at, job_class, args) VALUES"
        + " ('', 1, '0044-03-15 12:00:00.123456+00 BC', 'Old', '[]'),"
        + " ('', 2, '-infinity', 'Old', '[]'), ('', 3, now(), 'Old', '[]'), ('', 4, now(), 'Old', '[]')");
    List<Long> ids = new ArrayList<>();
    for (Object[] r : rows("SELECT job_id FROM que_jobs")) {
      ids.add((Long) r[0]);
    }
    try (Session s = new Session(ds.getConnection())) {
      List<LockedJob> batch = client.locker().lockBatch(s, "", 4, RetryPolicy.DEFAULT, null, false);
      assertEquals(4, batch.size(), "the batch re-check matched every key, BC and -infinity included");
      for (LockedJob l : batch) {
        l.delete();
      }
      assertEquals(4, client.locker().unlockAll(s, ids.stream().mapToLong(Long::longValue).toArray()));
    }
    assertEquals(0, jobCount());
  }

  @Test
  void anExceptionWhoseMessageFailsIsStillRecordedWithItsBackoff() throws SQLException {
    client.enqueue("Weird");
    WorkMap map = WorkMap.of("Weird", job -> {
      throw new RuntimeException() {
        @Override
        public String getMessage() {
          throw new IllegalStateException("no message for you");
        }
      };
    });
    Worker worker = new Worker(client, map);
    try {
      assertTrue(worker.workOne());
    } finally {
      worker.shutdown();
    }
    Object[] row = rows("SELECT error_count, run_at > now(), last_error FROM que_jobs").get(0);
    assertEquals(1, row[0]);
    assertEquals(true, row[1], "backed off, not rerun at once");
    assertTrue(((String) row[2]).contains("its message could not be read"), (String) row[2]);
  }
}
