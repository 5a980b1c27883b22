package io.quejava.ext.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.testing.Await;
import io.quejava.testing.GoPeer;
import io.quejava.testing.QueJobsListing;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The notify trigger with the real que-go (the compat suite's Go peer) on a database of its own:
 * que-go's plain INSERTs wake Java workers, and que-go enqueues and works unchanged with the
 * trigger on its table.
 */
@Tag("compat")
@Timeout(300)
class GoPeerNotifyTest {
  static final Duration PEER = Duration.ofMinutes(5); // the first run may build the peer

  @Test
  void aJobGoEnqueuesWakesAJavaWorkerLongBeforeItsPoll() throws Exception {
    try (GoPeer.Db db = GoPeer.Db.create("notify_go")) {
      String url = db.url("go-peer");
      GoPeer.run(PEER, "migrate", "--url", url).ok();
      PGSimpleDataSource ds = db.endpoint().dataSource();
      NotifyWakeups.install(ds);
      ds.setApplicationName("notify-go-workers");

      ConcurrentHashMap<String, CountDownLatch> ran = new ConcurrentHashMap<>();
      WorkMap work = WorkMap.of("FromGo", job -> ran.computeIfAbsent(job.job().argsJson(), k -> new CountDownLatch(1)).countDown());
      NotifyWakeups ext = NotifyWakeups.create(ds);
      WorkerPool pool = WorkerPool.builder(Client.create(ds), work).workers(2).queue("java")
          .wakeInterval(Duration.ofSeconds(60)).extension(ext).build();
      pool.start();
      try {
        for (int i = 1; i <= 2; i++) {
          // Both workers have looked, found nothing and sleep for a minute.
          Await.until(Duration.ofSeconds(10), "the workers to sleep", () -> asleep(ds) == 2);
          Await.until(Duration.ofSeconds(10), "the idle pool to ask for wake-ups", ext::isAsking);
          String args = "[" + i + "]";
          CountDownLatch done = ran.computeIfAbsent(args, k -> new CountDownLatch(1));
          GoPeer.run(PEER, "enqueue", "--url", url, "--class", "FromGo", "--queue", "java", "--args", args).ok();
          assertTrue(done.await(10, TimeUnit.SECONDS), "the Go-enqueued job " + args + " ran within 10 s");
        }
        assertTrue(ext.notificationsReceived() >= 2);
      } finally {
        pool.shutdown(Duration.ofSeconds(10));
      }
    }
  }

  @Test
  void goEnqueuesAndWorksUnchangedWithTheTriggerInstalled() throws Exception {
    try (GoPeer.Db db = GoPeer.Db.create("notify_go_work")) {
      String url = db.url("go-peer");
      GoPeer.run(PEER, "migrate", "--url", url).ok();
      PGSimpleDataSource ds = db.endpoint().dataSource();
      NotifyWakeups.install(ds);
      assertTrue(QueJobsListing.of(ds).stream().anyMatch(l -> l.startsWith("trigger que_java_notify ")));
      // The peer's migrate again: que-go's schema.sql on a table with our trigger changes nothing it minds.
      GoPeer.run(PEER, "migrate", "--url", url).ok();

      GoPeer.run(PEER, "enqueue", "--url", url, "--class", "CompatRecord", "--args", "[\"go\"]", "--count", "25").ok();
      GoPeer.Result r = GoPeer.run(PEER, "work", "--url", url, "--workers", "3", "--until-empty").ok();
      assertTrue(r.stdout().contains("worked=25 failed=0"), r.stdout());
      try (Connection c = ds.getConnection()) {
        assertEquals(25, count(c, "SELECT count(DISTINCT job_id) FROM compat_runs WHERE peer = 'go'"));
        assertEquals(0, count(c, "SELECT count(*) FROM que_jobs"));
      }
      assertTrue(QueJobsListing.of(ds).stream().anyMatch(l -> l.startsWith("trigger que_java_notify ")));
    }
  }

  /** Worker sessions of the pool that sit idle after a lock walk. */
  static long asleep(PGSimpleDataSource ds) {
    try (Connection c = ds.getConnection()) {
      return count(c, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'notify-go-workers'"
          + " AND state = 'idle' AND query LIKE 'WITH RECURSIVE walk%'");
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static long count(Connection c, String sql) throws java.sql.SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
