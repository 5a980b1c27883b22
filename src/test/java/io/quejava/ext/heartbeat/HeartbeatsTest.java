package io.quejava.ext.heartbeat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.JobContext;
import io.quejava.Client;
import io.quejava.NewJob;
import io.quejava.PgTest;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.ext.ExtensionMigrator;
import io.quejava.ext.timeout.Timeouts;
import io.quejava.testing.Await;
import io.quejava.testing.QueJobsListing;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Heartbeats, the in-flight listing and the rescuer on the classic table (schema 3);
 * {@link ModernHeartbeatsTest} runs the same on schema 7. Beats are every 100 ms here, so "stale"
 * (3 beats) comes within a second; everything waits on latches or on {@link Await} with a deadline.
 */
@Timeout(120)
class HeartbeatsTest extends PgTest {
  static final Duration BEAT = Duration.ofMillis(100);
  static final Duration DEADLINE = Duration.ofSeconds(15);

  final List<WorkerPool> pools = new ArrayList<>();
  final List<CountDownLatch> releaseAtEnd = new ArrayList<>();

  @BeforeEach
  void installed() throws SQLException {
    Heartbeats.install(ds);
    Timeouts.install(ds);
    exec("TRUNCATE que_heartbeats, que_job_timeouts");
  }

  @AfterEach
  void stopPools() {
    releaseAtEnd.forEach(CountDownLatch::countDown);
    pools.forEach(p -> p.shutdown(Duration.ofSeconds(10)));
    pools.clear();
    releaseAtEnd.clear();
  }

  WorkerPool pool(String queue, Heartbeats beats, WorkMap work, Timeouts timeouts) {
    WorkerPool.Builder b = WorkerPool.builder(client, work).workers(2).queue(queue).wakeInterval(Duration.ofMillis(200))
        .prefetch(1).interceptor(beats).extension(beats);
    if (timeouts != null) {
      b.interceptor(timeouts);
    }
    WorkerPool p = b.build();
    pools.add(p);
    p.start();
    return p;
  }

  CountDownLatch release() {
    CountDownLatch l = new CountDownLatch(1);
    releaseAtEnd.add(l);
    return l;
  }

  @Test
  void aRunningJobHasAHeartbeatRowWithItsProgressThatGoesWhenItEnds() throws Exception {
    Heartbeats beats = Heartbeats.builder(ds).interval(BEAT).build();
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch moreProgress = new CountDownLatch(1);
    CountDownLatch release = release();
    AtomicReference<JobContext> ctx = new AtomicReference<>();
    pool("beats", beats, WorkMap.of("Long", job -> {
      ctx.set(job.context());
      job.context().progress(10);
      started.countDown();
      moreProgress.await(30, TimeUnit.SECONDS);
      job.context().progress(70);
      release.await(30, TimeUnit.SECONDS);
    }), null);
    long id = client.enqueue(NewJob.of("Long").queue("beats")).id();
    assertTrue(started.await(DEADLINE.toSeconds(), TimeUnit.SECONDS));

    Await.until(DEADLINE, "the job's heartbeat row", () -> rowsFor(id) == 1);
    // The row is written as the job starts; the progress it reported then comes with a beat.
    Await.until(DEADLINE, "progress 10 stored",
        () -> uncheckedCount("SELECT count(*) FROM que_heartbeats WHERE job_id = ? AND progress = 10", id) == 1);
    List<Object[]> row = rows("SELECT queue, job_class, worker_name, host, os_pid, backend_pid, progress, beat_interval::text,"
        + " last_beat FROM que_heartbeats WHERE job_id = ?", id);
    Object[] r = row.get(0);
    assertEquals("beats", r[0]);
    assertEquals("Long", r[1]);
    assertEquals(ctx.get().workerName().orElseThrow(), r[2]);
    assertFalse(((String) r[3]).isBlank());
    assertEquals(ProcessHandle.current().pid(), ((Number) r[4]).longValue());
    assertEquals(ctx.get().backendPid(), ((Number) r[5]).intValue());
    assertEquals(10, ((Number) r[6]).intValue());
    assertEquals("00:00:00.1", r[7]);
    Object firstBeat = r[8];

    moreProgress.countDown();
    Await.until(DEADLINE, "progress 70 stored by a beat",
        () -> uncheckedCount("SELECT count(*) FROM que_heartbeats WHERE job_id = ? AND progress = 70", id) == 1);
    Await.until(DEADLINE, "last_beat to move on",
        () -> uncheckedCount("SELECT count(*) FROM que_heartbeats WHERE job_id = ? AND last_beat > ?", id, firstBeat) == 1);

    List<InFlightJob> inFlight = InFlight.list(ds);
    InFlightJob j = only(inFlight, id);
    assertEquals(InFlightJob.Source.HEARTBEAT, j.source());
    assertEquals("Long", j.jobClass());
    assertEquals(ctx.get().backendPid(), j.backendPid());
    assertEquals(java.util.OptionalInt.of(70), j.progress());
    assertTrue(j.javaHolder());
    assertFalse(j.hung(), j.toString());
    assertEquals(java.util.Optional.of("que-java-tests"), j.applicationName());

    release.countDown();
    Await.until(DEADLINE, "the row to go with the job", () -> rowsFor(id) == 0);
    Await.until(DEADLINE, "the job to be deleted", () -> uncheckedCount("SELECT count(*) FROM que_jobs") == 0);
    assertTrue(InFlight.list(ds).stream().noneMatch(x -> x.jobId() == id));
  }

  @Test
  void aHungJavaWorkerIsFlaggedAndRescuedAndItsJobRunsExactlyOnceMore() throws Exception {
    Heartbeats beats = Heartbeats.builder(ds).interval(BEAT).build();
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch firstStarted = new CountDownLatch(1);
    CountDownLatch rerun = new CountDownLatch(1);
    CountDownLatch release = release();
    AtomicReference<Integer> hungPid = new AtomicReference<>();
    WorkMap hang = WorkMap.of("Hang", job -> {
      if (runs.incrementAndGet() == 1) {
        hungPid.set(job.context().backendPid());
        firstStarted.countDown();
        awaitIgnoringInterrupts(release); // stuck: deaf to interrupts, like a busy loop
      } else {
        rerun.countDown();
      }
    });
    pool("hang", beats, hang, null);
    long id = client.enqueue(NewJob.of("Hang").queue("hang")).id();
    assertTrue(firstStarted.await(DEADLINE.toSeconds(), TimeUnit.SECONDS));
    Await.until(DEADLINE, "the job's heartbeat row", () -> rowsFor(id) == 1);
    assertTrue(Rescuer.create(ds).rescue().isEmpty(), "a fresh heartbeat was rescued");

    // Stall the writer as a blocked connection would: it cannot write que_heartbeats any more.
    try (Connection stall = ds.getConnection(); Statement st = stall.createStatement()) {
      stall.setAutoCommit(false);
      st.execute("LOCK TABLE que_heartbeats IN EXCLUSIVE MODE");

      Await.until(DEADLINE, "the job to be flagged hung",
          () -> InFlight.list(ds).stream().anyMatch(j -> j.jobId() == id && j.stale()));
      InFlightJob hung = only(InFlight.list(ds), id);
      assertEquals(InFlightJob.Source.HEARTBEAT, hung.source());
      assertTrue(hung.hung());
      assertTrue(hung.hungReason().orElseThrow().startsWith("heartbeat stale since"), hung.hungReason().toString());

      List<InFlightJob> ended = Rescuer.create(ds).rescue();
      assertEquals(1, ended.size(), ended.toString());
      assertEquals(id, ended.get(0).jobId());
      assertEquals(hungPid.get(), ended.get(0).backendPid());
      Await.until(DEADLINE, "the hung worker's session to end",
          () -> uncheckedCount("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", hungPid.get()) == 0);

      // PostgreSQL dropped the lock with the session: another process runs the job again (the
      // hung worker's own client leaves it alone while the hung attempt still runs there).
      WorkerPool other = WorkerPool.builder(Client.create(ds), hang).workers(1).queue("hang")
          .wakeInterval(Duration.ofMillis(200)).build();
      pools.add(other);
      other.start();
      assertTrue(rerun.await(DEADLINE.toSeconds(), TimeUnit.SECONDS), "the job ran again");
      Await.until(DEADLINE, "the job to be deleted by its second run", () -> uncheckedCount("SELECT count(*) FROM que_jobs") == 0);
      stall.rollback();
    }
    release.countDown(); // the stuck first run returns; its connection is gone, it writes nothing
    pools.get(0).shutdown(Duration.ofSeconds(10));
    assertEquals(2, runs.get(), "the job ran once more, exactly");
    assertEquals(0, uncheckedCount("SELECT count(*) FROM que_jobs"));
    assertTrue(beats.awaitStopped(DEADLINE));
    assertEquals(0, uncheckedCount("SELECT count(*) FROM que_heartbeats"), "heartbeat rows were left");
  }

  @Test
  void aLockWithoutHeartbeatIsListedButNeverHungNorRescued() throws Exception {
    long id = client.enqueue(NewJob.of("FromGo").queue("peer")).id();
    try (Connection peer = ds.getConnection()) {
      // What Ruby 0.x and que-go do: the one-argument advisory lock on the job id, held on their session.
      lock(peer, "SELECT pg_advisory_lock(?)", id);
      int peerPid = backendPid(peer);
      InFlightJob j = only(InFlight.list(ds, 1), id);
      assertEquals(InFlightJob.Source.ADVISORY_LOCK, j.source());
      assertEquals("FromGo", j.jobClass());
      assertEquals("peer", j.queue());
      assertEquals(peerPid, j.backendPid());
      assertFalse(j.javaHolder());
      assertFalse(j.hung());
      assertTrue(j.lastBeat().isEmpty());
      assertTrue(j.workerName().isEmpty() && j.progress().isEmpty() && j.hungReason().isEmpty());

      assertTrue(Rescuer.builder(ds).staleBeats(1).build().rescue().isEmpty());
      lock(peer, "SELECT ?", 1L); // still alive
      // A lock on a number that is no job, and the two-int form, are not jobs in flight.
      lock(peer, "SELECT pg_advisory_lock(?), pg_advisory_lock(1, 2)", id + 1_000_000);
      assertEquals(1, InFlight.list(ds).size(), InFlight.list(ds).toString());
    }
  }

  @Test
  void rowsLeftByGoneSessionsAreNeverListedAndAreSwept() throws Exception {
    long id = client.enqueue(NewJob.of("Orphan").queue("gone")).id();
    exec("INSERT INTO que_heartbeats (job_id, backend_pid, queue, job_class, host, os_pid, started_at, last_beat,"
        + " beat_interval) VALUES (?, 0, 'gone', 'Orphan', 'elsewhere', 1, now() - interval '1 hour',"
        + " now() - interval '1 hour', interval '1 second')", id);
    assertTrue(InFlight.list(ds).isEmpty(), "a heartbeat row without its lock was listed");
    assertTrue(Rescuer.create(ds).rescue().isEmpty());
    Heartbeats beats = Heartbeats.builder(ds).interval(BEAT).build();
    pool("sweeper", beats, WorkMap.of("X", job -> { }), null);
    Await.until(DEADLINE, "the first beat to sweep the orphan", () -> rowsFor(id) == 0);
  }

  @Test
  void aJobPastItsTimeoutIsHungWhileItsHeartbeatIsFresh() throws Exception {
    Heartbeats beats = Heartbeats.builder(ds).interval(BEAT).build();
    Timeouts timeouts = Timeouts.builder().forClass("Deaf", Duration.ofMillis(300)).build();
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = release();
    pool("deaf", beats, WorkMap.of("Deaf", job -> {
      started.countDown();
      awaitIgnoringInterrupts(release);
    }), timeouts);
    long id = client.enqueue(NewJob.of("Deaf").queue("deaf")).id();
    assertTrue(started.await(DEADLINE.toSeconds(), TimeUnit.SECONDS));
    Await.until(DEADLINE, "the job to run past its timeout and a beat",
        () -> InFlight.list(ds).stream().anyMatch(j -> j.jobId() == id && j.overTimeout()));
    InFlightJob j = only(InFlight.list(ds), id);
    assertEquals(java.util.Optional.of(Duration.ofMillis(300)), j.timeout());
    assertFalse(j.stale(), "the writer beats on");
    assertTrue(j.hung());
    assertTrue(j.hungReason().orElseThrow().startsWith("running past its timeout of PT0.3S"), j.hungReason().toString());

    release.countDown();
    Await.until(DEADLINE, "the job to fail with its timeout", () -> uncheckedCount(
        "SELECT count(*) FROM que_jobs WHERE error_count = 1 AND " + lastErrorColumn() + " LIKE ?",
        "io.quejava.ext.timeout.JobTimeoutException: job " + id + " (Deaf) timed out after 300 ms%") == 1);
  }

  @Test
  void jobsShorterThanTheWriteDelayNeverTouchTheDatabase() throws Exception {
    Heartbeats beats = Heartbeats.builder(ds).interval(BEAT).writeDelay(Duration.ofSeconds(30)).build();
    CountDownLatch ran = new CountDownLatch(5);
    pool("quick", beats, WorkMap.of("Quick", job -> ran.countDown()), null);
    for (int i = 0; i < 5; i++) {
      client.enqueue(NewJob.of("Quick").queue("quick"));
    }
    assertTrue(ran.await(DEADLINE.toSeconds(), TimeUnit.SECONDS));
    Await.until(DEADLINE, "the pool to finish", () -> beats.running() == 0);
    assertEquals(0, beats.writes());
    assertEquals(0, uncheckedCount("SELECT count(*) FROM que_heartbeats"));
  }

  @Test
  void migrationsUpDownUpLeaveQueJobsUntouched() throws Exception {
    Heartbeats.uninstall(ds);
    Timeouts.uninstall(ds);
    List<String> before = QueJobsListing.of(ds);
    assertEquals(Optional.empty(), regclass("que_heartbeats"));
    assertEquals(Optional.empty(), regclass("que_job_timeouts"));

    assertEquals(1, Heartbeats.install(ds));
    assertEquals(1, Timeouts.install(ds));
    assertEquals(before, QueJobsListing.of(ds));
    assertTrue(regclass("que_heartbeats").isPresent());
    assertTrue(regclass("que_job_timeouts").isPresent());
    assertEquals("u", one("SELECT relpersistence::text FROM pg_class WHERE oid = 'que_heartbeats'::regclass"));

    Heartbeats.uninstall(ds);
    Timeouts.uninstall(ds);
    assertEquals(before, QueJobsListing.of(ds));
    assertEquals(Optional.empty(), regclass("que_heartbeats"));
    assertEquals(0, ExtensionMigrator.create(ds, Heartbeats.EXTENSION).currentVersion());
    assertEquals(0, ExtensionMigrator.create(ds, Timeouts.EXTENSION).currentVersion());

    assertEquals(1, Heartbeats.install(ds));
    assertEquals(1, Timeouts.install(ds));
    assertEquals(before, QueJobsListing.of(ds));
    assertEquals(1, Heartbeats.install(ds), "install is idempotent");
  }

  @Test
  void badOptionsAreRefusedNamingTheOption() {
    assertMessageStarts("interval:", () -> Heartbeats.builder(ds).interval(Duration.ofMillis(5)));
    assertMessageStarts("interval:", () -> Heartbeats.builder(ds).interval(null));
    assertMessageStarts("writeDelay:", () -> Heartbeats.builder(ds).writeDelay(Duration.ofMillis(-1)));
    assertMessageStarts("staleBeats:", () -> InFlight.list(ds, 0));
    assertMessageStarts("staleBeats:", () -> Rescuer.builder(ds).staleBeats(1001));
    assertMessageStarts("interval:", () -> Rescuer.builder(ds).interval(Duration.ofMillis(1)));
  }

  @Test
  void oneInstanceServesOnePool() {
    Heartbeats beats = Heartbeats.builder(ds).interval(BEAT).build();
    pool("one", beats, WorkMap.of("X", job -> { }), null);
    WorkerPool second = WorkerPool.builder(client, WorkMap.of("X", job -> { })).queue("two").extension(beats).build();
    pools.add(second);
    assertThrows(RuntimeException.class, second::start);
  }

  /** Runs {@code sql} with one bigint parameter on {@code c}. */
  static void lock(Connection c, String sql, long value) throws SQLException {
    try (java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, value);
      ps.execute();
    }
  }

  long rowsFor(long id) {
    return uncheckedCount("SELECT count(*) FROM que_heartbeats WHERE job_id = ?", id);
  }

  Optional<String> regclass(String name) throws SQLException {
    return Optional.ofNullable((String) one("SELECT to_regclass(?)::text", name));
  }

  static InFlightJob only(List<InFlightJob> list, long id) {
    List<InFlightJob> mine = list.stream().filter(j -> j.jobId() == id).toList();
    assertEquals(1, mine.size(), list.toString());
    assertNotNull(mine.get(0));
    return mine.get(0);
  }

  long uncheckedCount(String query, Object... params) {
    try {
      return count(query, params);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Blocks until released (or a minute passed), ignoring interrupts as stuck code does. */
  static void awaitIgnoringInterrupts(CountDownLatch release) {
    long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (release.getCount() > 0 && System.nanoTime() < end) {
      try {
        release.await(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException ignored) {
        // deaf on purpose
      }
    }
  }

  static void assertMessageStarts(String prefix, org.junit.jupiter.api.function.Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
  }
}
