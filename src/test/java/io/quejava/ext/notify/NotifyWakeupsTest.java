package io.quejava.ext.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.PgTest;
import io.quejava.QueException;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.ext.ExtensionMigrator;
import io.quejava.testing.Await;
import io.quejava.testing.QueJobsListing;
import io.quejava.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The notify extension on the classic table (schema 3); {@link ModernNotifyWakeupsTest} runs the
 * same on schema 7. Every pool here polls only once a minute, so a job done within seconds was
 * found because of a NOTIFY.
 */
@Timeout(120)
class NotifyWakeupsTest extends PgTest {
  static final Duration LONG_POLL = Duration.ofSeconds(60);
  static final Duration DEADLINE = Duration.ofSeconds(10);

  final List<WorkerPool> pools = new ArrayList<>();

  @BeforeEach
  void installed() {
    NotifyWakeups.install(ds);
  }

  @AfterEach
  void stopPools() {
    pools.forEach(p -> p.shutdown(Duration.ofSeconds(10)));
    pools.clear();
  }

  static final int WORKERS = 2;
  static final AtomicInteger POOLS = new AtomicInteger();
  /** The application_name of the last pool's worker sessions. */
  String poolSessions;
  /** Jobs of class "Block" wait for this; a new one for each test. */
  volatile CountDownLatch unblock = new CountDownLatch(1);

  @BeforeEach
  void newLatch() {
    unblock = new CountDownLatch(1);
  }

  @AfterEach
  void releaseBlockedJobs() {
    unblock.countDown();
  }

  /**
   * A pool of two workers on {@code queue} whose handler for "Ping" reports the job id, and for
   * "Block" waits until {@link #unblock} opens. Its workers connect with an application_name of
   * their own, so {@link #awaitWorkersAsleep()} can see them.
   */
  WorkerPool pool(String queue, NotifyWakeups ext, Consumer<Long> onRun) throws SQLException {
    return pool(List.of(queue), ext, onRun);
  }

  /** As {@link #pool(String, NotifyWakeups, Consumer)}, one pool over several queues. */
  WorkerPool pool(List<String> queues, NotifyWakeups ext, Consumer<Long> onRun) throws SQLException {
    poolSessions = "notify-test-" + ProcessHandle.current().pid() + "-" + POOLS.incrementAndGet();
    PGSimpleDataSource workerDs = TestDatabase.endpoint().dataSource();
    workerDs.setCurrentSchema(schema());
    workerDs.setApplicationName(poolSessions);
    WorkMap work = WorkMap.builder()
        .put("Ping", job -> onRun.accept(job.job().id()))
        .put("Block", job -> unblock.await())
        .build();
    WorkerPool.Builder b = WorkerPool.builder(Client.create(workerDs), work)
        .workers(WORKERS).wakeInterval(LONG_POLL);
    queues.forEach(b::queue);
    if (ext != null) {
      b.extension(ext);
    }
    WorkerPool p = b.build();
    pools.add(p);
    p.start();
    return p;
  }

  /**
   * Waits until every worker of the last pool sits idle with the lock walk as its last statement:
   * each has looked for work, found none, and now sleeps until a wake-up (or the one-minute poll).
   */
  void awaitWorkersAsleep() {
    Await.until(DEADLINE, "the workers to find no job and sleep", () -> uncheckedCount(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND state = 'idle'"
            + " AND query LIKE 'WITH RECURSIVE walk%'", poolSessions) == WORKERS);
  }

  @Test
  void aNotifyWakesAnIdleWorkerLongBeforeTheWakeInterval() throws Exception {
    NotifyWakeups ext = NotifyWakeups.create(ds);
    ConcurrentHashMap<Long, CountDownLatch> ran = new ConcurrentHashMap<>();
    pool("fast", ext, id -> ran.computeIfAbsent(id, k -> new CountDownLatch(1)).countDown());
    Await.until(DEADLINE, "the listener to LISTEN", ext::isListening);
    assertEquals(NotifyWakeups.DEFAULT_CHANNEL, ext.channel());
    assertTrue(ext.fastReceive(), "the listening connection skips pgjdbc's 1 ms read after each notification");

    for (int i = 0; i < 3; i++) {
      // Every worker has looked, found nothing and sleeps for a minute: only a wake-up brings it in.
      awaitWorkersAsleep();
      Await.until(DEADLINE, "the idle pool to ask for wake-ups", ext::isAsking);
      long id = client.enqueue(NewJob.of("Ping").queue("fast")).id();
      CountDownLatch done = ran.computeIfAbsent(id, k -> new CountDownLatch(1));
      assertTrue(done.await(DEADLINE.toSeconds(), TimeUnit.SECONDS), "job " + i + " ran within " + DEADLINE);
    }
    // Each job was announced, but a job may run before its message is counted: the pool also looks
    // when it starts asking (and a worker whose walk saw the commit runs the job without the
    // message), so the count can trail the runs for a moment.
    Await.until(DEADLINE, "the three messages to be counted", () -> ext.notificationsReceived() >= 3);
  }

  @Test
  void aPoolOverSeveralQueuesIsWokenByAJobInAnyOfThemWithOneListener() throws Exception {
    NotifyWakeups ext = NotifyWakeups.create(ds);
    ConcurrentHashMap<Long, CountDownLatch> ran = new ConcurrentHashMap<>();
    pool(List.of("first", "second", "third"), ext, id -> ran.computeIfAbsent(id, k -> new CountDownLatch(1)).countDown());
    Await.until(DEADLINE, "the listener to LISTEN", ext::isListening);
    for (String queue : List.of("third", "first", "second")) {
      awaitWorkersAsleep();
      Await.until(DEADLINE, "the idle pool to ask for wake-ups on its queues", ext::isAsking);
      long id = client.enqueue(NewJob.of("Ping").queue(queue)).id();
      CountDownLatch done = ran.computeIfAbsent(id, k -> new CountDownLatch(1));
      assertTrue(done.await(DEADLINE.toSeconds(), TimeUnit.SECONDS), "the job in " + queue + " ran within " + DEADLINE);
    }
    // Each ran within seconds though the pool polls once a minute: announced to its one listener, or
    // (when the insert came just before the pool asked) found by the look the pool takes on asking.
  }

  @Test
  void withoutTheListenerTheSameJobWaitsForThePoll() throws Exception {
    CountDownLatch first = new CountDownLatch(1);
    CountDownLatch second = new CountDownLatch(2);
    client.enqueue(NewJob.of("Ping").queue("slow"));
    pool("slow", null, id -> {
      first.countDown();
      second.countDown();
    });
    assertTrue(first.await(DEADLINE.toSeconds(), TimeUnit.SECONDS), "the first walk finds a job enqueued before start");
    awaitWorkersAsleep();
    client.enqueue(NewJob.of("Ping").queue("slow"));
    // The control for the test above: with a one-minute poll and no NOTIFY, nothing wakes the pool.
    assertFalse(second.await(1500, TimeUnit.MILLISECONDS), "a job ran without a wake-up");
  }

  @Test
  void aJobDueLaterWakesAWorkerAtItsRunAt() throws Exception {
    NotifyWakeups ext = NotifyWakeups.create(ds);
    CountDownLatch warm = new CountDownLatch(1);
    ConcurrentHashMap<Long, Instant> startedAt = new ConcurrentHashMap<>();
    pool("later", ext, id -> {
      startedAt.put(id, Instant.now());
      warm.countDown();
    });
    client.enqueue(NewJob.of("Ping").queue("later"));
    assertTrue(warm.await(DEADLINE.toSeconds(), TimeUnit.SECONDS));

    awaitWorkersAsleep();
    Instant runAt = Instant.ofEpochMilli(count("SELECT (extract(epoch FROM now()) * 1000)::bigint")).plusMillis(1500);
    long id = client.enqueue(NewJob.of("Ping").queue("later").runAt(runAt)).id();
    Await.until(DEADLINE, "the job due in 1.5 s to run", () -> startedAt.containsKey(id));
    assertEquals(0, jobCount());
  }

  @Test
  void messagesForOtherQueuesAndSchemasWakeNobody() throws Exception {
    NotifyWakeups ext = NotifyWakeups.create(ds);
    pool("mine", ext, id -> { });
    Await.until(DEADLINE, "the listener to LISTEN", ext::isListening);
    Await.until(DEADLINE, "the wake-up after LISTEN", () -> ext.wakeups() >= 1);
    Await.until(DEADLINE, "the idle pool to ask for wake-ups", ext::isAsking);
    long wakeups = ext.wakeups();
    long received = ext.notificationsReceived();

    // A job due later is announced whoever listens; one due now only while a pool of its queue has
    // an idle worker, and no pool works "theirs".
    client.enqueue(NewJob.of("Ping").queue("theirs").runAt(Instant.now().plus(Duration.ofHours(1))));
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      st.execute("SELECT pg_notify('que_java_jobs', '{\"schema\":\"elsewhere\",\"queue\":\"mine\",\"run_at\":null,\"id\":1}')");
    }
    Await.until(DEADLINE, "both messages to arrive", () -> ext.notificationsReceived() >= received + 2);
    assertEquals(wakeups, ext.wakeups(), "a message for another queue or schema woke the pool");

    client.enqueue(NewJob.of("Ping").queue("mine"));
    Await.until(DEADLINE, "a message for our queue to wake the pool", () -> ext.wakeups() > wakeups);
    // ... and once more a moment later, for a worker that was mid-walk when the message came.
    Await.until(DEADLINE, "the follow-up wake", () -> ext.wakeups() == wakeups + 2);
  }

  @Test
  void reconnectsAfterItsConnectionIsKilledAndWakesEveryWorkerForWhatItMissed() throws Exception {
    // No follow-up wake: the warm-up job's one would fire during the backoff and find the job.
    NotifyWakeups ext = NotifyWakeups.builder(ds).minReconnectDelay(Duration.ofSeconds(3))
        .followUpWake(Duration.ZERO).build();
    ConcurrentHashMap<Long, Boolean> ran = new ConcurrentHashMap<>();
    CountDownLatch warm = new CountDownLatch(1);
    pool("lossy", ext, id -> {
      ran.put(id, true);
      warm.countDown();
    });
    client.enqueue(NewJob.of("Ping").queue("lossy"));
    assertTrue(warm.await(DEADLINE.toSeconds(), TimeUnit.SECONDS));
    Await.until(DEADLINE, "the listener to LISTEN", ext::isListening);
    int oldPid = ext.listenerPid().orElseThrow();

    assertEquals(1, count("SELECT count(*) FROM (SELECT pg_terminate_backend(?)) t", oldPid));
    Await.until(DEADLINE, "the listener to notice the loss", () -> !ext.isListening());
    awaitWorkersAsleep();
    // Nobody listens for the next 1.5 to 3 seconds: this job's NOTIFY is lost, and only the
    // wake-up after the reconnect (or the poll, a minute away) can bring it in.
    long id = client.enqueue(NewJob.of("Ping").queue("lossy")).id();
    assertFalse(ext.isListening(), "the listener came back before the job was enqueued");
    Await.until(Duration.ofSeconds(15), "the job enqueued while nobody listened to run", () -> ran.containsKey(id));
    assertTrue(ext.isListening());
    assertEquals(1, ext.reconnects());
    assertNotEquals(oldPid, ext.listenerPid().orElseThrow());

    awaitWorkersAsleep();
    long next = client.enqueue(NewJob.of("Ping").queue("lossy")).id();
    Await.until(DEADLINE, "a job to run by NOTIFY on the new connection", () -> ran.containsKey(next));
  }

  @Test
  void stopEndsTheListeningSession() throws Exception {
    NotifyWakeups ext = NotifyWakeups.create(ds);
    WorkerPool p = pool("stopping", ext, id -> { });
    Await.until(DEADLINE, "the listener to LISTEN", ext::isListening);
    int pid = ext.listenerPid().orElseThrow();
    p.shutdown(Duration.ofSeconds(10));
    assertFalse(ext.isListening());
    Await.until(DEADLINE, "the listening session to end",
        () -> uncheckedCount("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pid) == 0);
  }

  @Test
  void aPoolStartFailsClearlyWhenTheExtensionIsNotInstalled() {
    NotifyWakeups.uninstall(ds);
    WorkerPool p = WorkerPool.builder(client, WorkMap.of("Ping", j -> { }))
        .queue("none").wakeInterval(LONG_POLL).extension(NotifyWakeups.create(ds)).build();
    pools.add(p);
    QueException e = assertThrows(QueException.class, p::start);
    assertTrue(e.getMessage().contains("NotifyWakeups.install"), e.getMessage());
  }

  @Test
  void theChannelIsAnOptionAndTheListenerReadsItFromTheTrigger() throws Exception {
    assertEquals("billing_jobs", NotifyWakeups.install(ds, "billing_jobs"));
    NotifyWakeups ext = NotifyWakeups.create(ds);
    CountDownLatch ran = new CountDownLatch(2);
    pool("chan", ext, id -> ran.countDown());
    Await.until(DEADLINE, "the listener to LISTEN", ext::isListening);
    assertEquals("billing_jobs", ext.channel());
    client.enqueue(NewJob.of("Ping").queue("chan"));
    Await.until(DEADLINE, "the first job to run", () -> ran.getCount() == 1);
    client.enqueue(NewJob.of("Ping").queue("chan"));
    assertTrue(ran.await(DEADLINE.toSeconds(), TimeUnit.SECONDS));
    assertEquals(NotifyWakeups.DEFAULT_CHANNEL, NotifyWakeups.install(ds));
  }

  @Test
  void badOptionsAreRefusedNamingTheOption() {
    assertMessageStarts("channel:", () -> NotifyWakeups.install(ds, "bad-channel"));
    assertMessageStarts("channel:", () -> NotifyWakeups.install(ds, "x".repeat(64)));
    assertMessageStarts("channel:", () -> NotifyWakeups.install(ds, "1abc"));
    assertMessageStarts("channel:", () -> NotifyWakeups.install(ds, null));
    assertMessageStarts("minReconnectDelay:", () -> NotifyWakeups.builder(ds).minReconnectDelay(Duration.ZERO));
    assertMessageStarts("maxReconnectDelay:", () -> NotifyWakeups.builder(ds).maxReconnectDelay(null));
    assertMessageStarts("maxReconnectDelay:", () -> NotifyWakeups.builder(ds)
        .minReconnectDelay(Duration.ofSeconds(5)).maxReconnectDelay(Duration.ofSeconds(1)).build());
    assertMessageStarts("healthCheckInterval:", () -> NotifyWakeups.builder(ds).healthCheckInterval(Duration.ofMillis(5)));
    assertMessageStarts("maxScheduledWakes:", () -> NotifyWakeups.builder(ds).maxScheduledWakes(-1));
    assertMessageStarts("followUpWake:", () -> NotifyWakeups.builder(ds).followUpWake(Duration.ofMillis(-1)));
    assertMessageStarts("followUpWake:", () -> NotifyWakeups.builder(ds).followUpWake(null));
  }

  @Test
  void theTriggerNeverFailsAnInsertAndSaysNoQueueWhenTheQueueIsTooLongToSend() throws Exception {
    Assumptions.assumeFalse(modern(), "schema 4-7 limit queue names to 100 characters");
    String longQueue = "é".repeat(5000); // 10,000 bytes: too long for an 8000-byte payload
    try (Connection c = ds.getConnection(); Connection idlePool = askingFor(longQueue, "short")) {
      PGConnection pg = c.unwrap(PGConnection.class);
      try (Statement st = c.createStatement()) {
        st.execute("LISTEN que_java_jobs");
      }
      long id = insertAsRubyInto(longQueue);
      long id2 = insertAsRubyInto("short");
      List<String> payloads = drain(pg, 2, schema());
      assertEquals(2, payloads.size(), payloads.toString());
      assertFalse(payloads.get(0).contains("\"queue\""), payloads.get(0));
      assertTrue(payloads.get(0).contains("\"id\" : " + id), payloads.get(0));
      NotifyWakeups.Message m = NotifyWakeups.Message.parse(payloads.get(1));
      assertEquals("short", m.queue());
      assertEquals(one("SELECT current_schema()"), m.schema());
      assertTrue(payloads.get(1).contains("\"id\" : " + id2), payloads.get(1));
      assertNull(NotifyWakeups.Message.parse(payloads.get(0)).queue());
    }
    assertEquals(2, jobCount());
  }

  /** A batch large enough for enqueueAll's COPY is announced job by job, with the ids returned. */
  @Test
  void everyJobOfACopiedBatchIsAnnounced() throws Exception {
    try (Connection c = ds.getConnection(); Connection idlePool = askingFor("copied")) {
      PGConnection pg = c.unwrap(PGConnection.class);
      try (Statement st = c.createStatement()) {
        st.execute("LISTEN que_java_jobs");
      }
      List<NewJob> batch = new ArrayList<>();
      for (int i = 0; i < 150; i++) {
        batch.add(NewJob.of("Copied", i).queue("copied"));
      }
      List<Job> jobs = client.enqueueAll(batch);
      List<String> payloads = drainUntil(pg, jobs.get(149).id());
      assertEquals(jobs.stream().map(Job::id).sorted().toList(), idsOf(payloads).stream().sorted().toList());
      assertTrue(payloads.stream().allMatch(p -> p.contains("\"queue\" : \"copied\"")), payloads.toString());
    }
  }

  @Test
  void withoutPgjdbcsTimedReadEveryNotificationOfABurstStillArrives() throws Exception {
    // The listener skips pgjdbc's 1 ms read after each notification (NotificationPeek); what is
    // already in the socket must still be read, and what comes later must wake getNotifications.
    try (Connection c = ds.getConnection(); Connection idlePool = askingFor("burst")) {
      assertTrue(NotificationPeek.skipTimedPeek(c), "the workaround applies to this pgjdbc");
      PGConnection pg = c.unwrap(PGConnection.class);
      try (Statement st = c.createStatement()) {
        st.execute("LISTEN que_java_jobs");
      }
      List<NewJob> batch = new ArrayList<>();
      for (int i = 0; i < 150; i++) {
        batch.add(NewJob.of("Burst", i).queue("burst"));
      }
      List<Job> jobs = client.enqueueAll(batch);
      List<String> payloads = drainUntil(pg, jobs.get(149).id());
      assertEquals(jobs.stream().map(Job::id).sorted().toList(), idsOf(payloads).stream().sorted().toList());
      long single = client.enqueue(NewJob.of("Burst").queue("burst")).id();
      assertEquals(List.of(single), idsOf(drainUntil(pg, single)));
    }
  }

  @Test
  void queJavaSkipNotifySilencesOurTrigger() throws Exception {
    try (Connection c = ds.getConnection(); Connection idlePool = askingFor("skip")) {
      PGConnection pg = c.unwrap(PGConnection.class);
      try (Statement st = c.createStatement()) {
        st.execute("LISTEN que_java_jobs");
      }
      try (Connection w = ds.getConnection(); Statement st = w.createStatement()) {
        w.setAutoCommit(false);
        st.execute("SET LOCAL que_java.skip_notify TO true");
        client.enqueue(w, NewJob.of("Silent").queue("skip"));
        w.commit();
      }
      client.enqueue(NewJob.of("Loud").queue("skip"));
      List<String> payloads = drain(pg, 1, schema());
      assertEquals(1, payloads.size(), payloads.toString());
      assertTrue(payloads.get(0).contains("\"queue\" : \"skip\""));
      assertEquals(2, jobCount());
    }
  }

  @Test
  void migrationUpDownUpLeavesQueJobsUntouched() throws Exception {
    NotifyWakeups.uninstall(ds);
    List<String> before = QueJobsListing.of(ds);
    assertTrue(before.stream().noneMatch(l -> l.contains("que_java")), before.toString());

    assertEquals(NotifyWakeups.DEFAULT_CHANNEL, NotifyWakeups.install(ds));
    List<String> up = QueJobsListing.of(ds);
    int newest = ExtensionMigrator.create(ds, NotifyWakeups.EXTENSION).newestVersion();
    assertEquals(2, newest);
    assertEquals(newest, ExtensionMigrator.create(ds, NotifyWakeups.EXTENSION).currentVersion());
    assertTrue(up.stream().anyMatch(l -> l.startsWith("trigger que_java_notify ")), up.toString());
    assertEquals(before, withoutOurs(up), "installing changed something of que_jobs besides adding the trigger");

    NotifyWakeups.uninstall(ds);
    assertEquals(before, QueJobsListing.of(ds), "uninstalling left que_jobs different");
    assertEquals(0, ExtensionMigrator.create(ds, NotifyWakeups.EXTENSION).currentVersion());

    NotifyWakeups.install(ds);
    assertEquals(up, QueJobsListing.of(ds), "installing again gave another catalog");
    assertEquals(newest, ExtensionMigrator.create(ds, NotifyWakeups.EXTENSION).currentVersion());

    // Step 2 down and up again: only our trigger changes (step 1 gave it a WHEN clause that step 2
    // tests inside the function, since PostgreSQL prepares a WHEN clause again for every statement).
    assertTrue(up.stream().anyMatch(l -> l.startsWith("trigger que_java_notify ") && !l.contains("WHEN")), up.toString());
    ExtensionMigrator.create(ds, NotifyWakeups.EXTENSION).migrateTo(1);
    List<String> step1 = QueJobsListing.of(ds);
    assertEquals(before, withoutOurs(step1), "step 2 down changed que_jobs");
    assertTrue(step1.stream().anyMatch(l -> l.startsWith("trigger que_java_notify ") && l.contains("WHEN")), step1.toString());
    assertEquals(0L, count("SELECT count(*) FROM pg_proc WHERE proname = 'que_java_notify_key'"
        + " AND pronamespace = current_schema()::regnamespace"));
    NotifyWakeups.install(ds);
    assertEquals(up, QueJobsListing.of(ds));
  }

  // ---------------------------------------------------------------------------------------------
  // Only a pool with an idle worker is told (step 2)

  /**
   * A pool whose workers are all busy stops asking to be woken, and then an insert into its queue
   * sends nothing (its workers look again after their jobs); once a worker is idle the pool asks
   * again and the next insert wakes it at once.
   */
  @Test
  void aBusyPoolIsNotToldAndAnIdleOneIs() throws Exception {
    NotifyWakeups ext = NotifyWakeups.create(ds);
    ConcurrentHashMap<Long, Boolean> ran = new ConcurrentHashMap<>();
    pool("busy", ext, id -> ran.put(id, true));
    awaitWorkersAsleep();
    Await.until(DEADLINE, "the idle pool to ask for wake-ups", ext::isAsking);
    assertTrue(wakeLockDecodesAsNoJob(ext.askerPid().orElseThrow()), "Que's tools read the wake lock as a negative id");
    long asked = ext.asks();

    for (int i = 0; i < WORKERS; i++) {
      client.enqueue(NewJob.of("Block").queue("busy"));
    }
    Await.until(DEADLINE, "both workers to run a blocking job and the pool to stop asking",
        () -> blockedWorkers() == WORKERS && !ext.isAsking() && ext.asks() == asked);
    try (Connection c = ds.getConnection()) {
      PGConnection pg = c.unwrap(PGConnection.class);
      try (Statement st = c.createStatement()) {
        st.execute("LISTEN que_java_jobs");
      }
      long quiet = insertRaw("queue, job_class", "?, 'Ping'", "busy"); // a plain INSERT, as Ruby's or Go's
      long alsoQuiet = client.enqueue(NewJob.of("Ping").queue("busy")).id();
      long marker = client.enqueue(NewJob.of("Ping").queue("busy").runAt(Instant.now().plus(Duration.ofHours(1)))).id();
      List<String> sent = drainUntil(pg, marker);
      assertEquals(List.of(marker), idsOf(sent), "only the job due later was announced while the pool was busy");
      assertTrue(ext.asks() == asked && !ext.isAsking());

      unblock.countDown();
      Await.until(DEADLINE, "the busy pool to run what came in meanwhile, by itself",
          () -> ran.containsKey(quiet) && ran.containsKey(alsoQuiet));
      awaitWorkersAsleep();
      Await.until(DEADLINE, "the pool to ask again", ext::isAsking);
      long loud = client.enqueue(NewJob.of("Ping").queue("busy")).id();
      assertEquals(List.of(loud), idsOf(drainUntil(pg, loud)));
      Await.until(DEADLINE, "the job to wake the idle pool", () -> ran.containsKey(loud));
    }
  }

  /**
   * The race between an insert and a pool turning idle. A transaction inserts a job while the pool
   * is busy (not asking: nothing is sent) and stays open; the pool turns idle, its walk cannot see
   * the uncommitted job, and its request for the wake lock waits for that transaction. Meanwhile
   * an insert by anyone else sees the waiting request and is announced (and runs) at once. When
   * the transaction commits the pool gets the lock, looks again and runs its job, without a
   * message and a minute before its poll.
   */
  @Test
  void aJobInsertedWhileThePoolTurnsIdleIsNotMissed() throws Exception {
    NotifyWakeups ext = NotifyWakeups.create(ds);
    ConcurrentHashMap<Long, Boolean> ran = new ConcurrentHashMap<>();
    pool("race", ext, id -> ran.put(id, true));
    awaitWorkersAsleep();
    for (int i = 0; i < WORKERS; i++) {
      client.enqueue(NewJob.of("Block").queue("race"));
    }
    Await.until(DEADLINE, "both workers to block and the pool to stop asking",
        () -> blockedWorkers() == WORKERS && !ext.isAsking());
    long asked = ext.asks();

    try (Connection listen = ds.getConnection(); Connection open = ds.getConnection()) {
      PGConnection pg = listen.unwrap(PGConnection.class);
      try (Statement st = listen.createStatement()) {
        st.execute("LISTEN que_java_jobs");
      }
      open.setAutoCommit(false);
      long pending = client.enqueue(open, NewJob.of("Ping").queue("race")).id();

      unblock.countDown();
      int asker = ext.askerPid().orElseThrow();
      Await.until(DEADLINE, "the pool, idle again, to wait for the wake lock behind the open transaction",
          () -> uncheckedCount("SELECT count(*) FROM pg_locks WHERE pid = ? AND locktype = 'advisory'"
              + " AND objsubid = 2 AND NOT granted", asker) == 1);
      awaitWorkersAsleep();
      assertFalse(ext.isAsking());

      long other = client.enqueue(NewJob.of("Ping").queue("race")).id();
      Await.until(DEADLINE, "an insert that sees the waiting request to be announced and run",
          () -> ran.containsKey(other));
      assertFalse(ran.containsKey(pending));

      open.commit();
      Await.until(DEADLINE, "the pool to take the lock and find the job committed meanwhile",
          () -> ran.containsKey(pending));
      assertTrue(ext.isAsking());
      assertEquals(asked + 1, ext.asks());
      long marker = client.enqueue(NewJob.of("Ping").queue("race").runAt(Instant.now().plus(Duration.ofHours(1)))).id();
      assertEquals(List.of(other, marker), idsOf(drainUntil(pg, marker)), "the job of the open transaction was never announced");
    }
  }

  /** Jobs of class Block that some session holds the lock of: they are running. */
  long blockedWorkers() {
    return uncheckedCount("SELECT count(*) FROM que_jobs j JOIN pg_locks l ON l.locktype = 'advisory'"
        + " AND l.objsubid = 1 AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = j." + idColumn()
        + " WHERE j.job_class = 'Block'");
  }

  /**
   * A session that holds the wake lock of these queues, as an idle pool does, so that inserts of
   * jobs due now into them are announced. Close it to let go.
   */
  Connection askingFor(String... queues) throws SQLException {
    Connection c = ds.getConnection();
    try (java.sql.PreparedStatement ps = c.prepareStatement(
        "SELECT pg_advisory_lock(?, que_java_notify_key(current_schema(), ?))")) {
      for (String q : queues) {
        ps.setInt(1, NotifyWakeups.WAKE_LOCK_SPACE);
        ps.setString(2, q);
        ps.execute();
      }
    }
    return c;
  }

  /** True when the wake lock held by {@code pid} reads, as Que's job_stats decodes locks, as a negative id. */
  boolean wakeLockDecodesAsNoJob(int pid) throws SQLException {
    return count("SELECT count(*) FROM pg_locks WHERE pid = ? AND locktype = 'advisory' AND objsubid = 2 AND granted"
        + " AND (classid::bigint << 32) + objid::bigint < 0", pid) == 1;
  }

  /** que_java_jobs messages about this schema until the one for job {@code marker} arrived. */
  List<String> drainUntil(PGConnection pg, long marker) throws SQLException {
    List<String> out = new ArrayList<>();
    String schema = schema();
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!idsOf(out).contains(marker)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("no message for job " + marker + " within " + DEADLINE + "; got " + out);
      }
      PGNotification[] got = pg.getNotifications((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      if (got == null) {
        continue;
      }
      for (PGNotification g : got) {
        NotifyWakeups.Message m = NotifyWakeups.Message.parse(g.getParameter());
        if (g.getName().equals(NotifyWakeups.DEFAULT_CHANNEL) && m != null && schema.equals(m.schema())) {
          out.add(g.getParameter());
        }
      }
    }
    return out;
  }

  static List<Long> idsOf(List<String> payloads) {
    List<Long> ids = new ArrayList<>();
    for (String p : payloads) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"id\" : (\\d+)").matcher(p);
      ids.add(m.find() ? Long.parseLong(m.group(1)) : -1L);
    }
    return ids;
  }

  static List<String> withoutOurs(List<String> catalog) {
    return QueJobsListing.without(catalog, l -> l.startsWith("trigger que_java_notify "));
  }

  String schema() throws SQLException {
    return (String) one("SELECT current_schema()");
  }

  /** Inserts one job into {@code queue} as this schema's Ruby Que would (que-go's insert is the same on 3). */
  long insertAsRubyInto(String queue) throws SQLException {
    String sql = modern()
        ? "INSERT INTO que_jobs (queue, priority, run_at, job_class, args, kwargs, data, job_schema_version)"
            + " VALUES (?, 100, now(), 'FromRuby', '[]', '{}', '{}', 2) RETURNING id"
        : "INSERT INTO que_jobs (queue, priority, run_at, job_class, args) VALUES (?, 100, now(), 'FromRuby', '[]')"
            + " RETURNING job_id";
    return count(sql, queue);
  }

  /**
   * Reads the que_java_jobs messages about {@code schema} (channels are shared by the whole
   * database, and other test classes run beside this one) until {@code n} arrived and then a quiet
   * second passed, or ten seconds in all.
   */
  static List<String> drain(PGConnection pg, int n, String schema) throws SQLException {
    List<String> out = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      PGNotification[] got = pg.getNotifications(out.size() >= n ? 1000 : 200);
      if (got == null || got.length == 0) {
        if (out.size() >= n) {
          break;
        }
        continue;
      }
      for (PGNotification g : got) {
        NotifyWakeups.Message m = NotifyWakeups.Message.parse(g.getParameter());
        if (g.getName().equals(NotifyWakeups.DEFAULT_CHANNEL) && m != null && schema.equals(m.schema())) {
          out.add(g.getParameter());
        }
      }
    }
    return out;
  }

  long uncheckedCount(String query, Object... params) {
    try {
      return count(query, params);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static void assertMessageStarts(String prefix, org.junit.jupiter.api.function.Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
  }
}
