package io.quejava.ext.heartbeat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.ext.notify.NotifyWakeups;
import io.quejava.ext.timeout.Timeouts;
import io.quejava.testing.Await;
import io.quejava.testing.GoPeer;
import io.quejava.testing.QueJobsListing;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The heartbeat and timeout extensions (and the notify trigger) installed on a table the real
 * que-go (the compat suite's Go peer) works: Go is unaffected, its running jobs show up in the
 * in-flight list from their locks, and the rescuer leaves them alone.
 */
@Tag("compat")
@Timeout(300)
class GoPeerHeartbeatTest {
  static final Duration PEER = Duration.ofMinutes(5); // the first run may build the peer

  static PGSimpleDataSource installAll(GoPeer.Db db, String url) {
    GoPeer.run(PEER, "migrate", "--url", url).ok();
    PGSimpleDataSource ds = db.endpoint().dataSource();
    NotifyWakeups.install(ds);
    Heartbeats.install(ds);
    Timeouts.install(ds);
    return ds;
  }

  @Test
  void goEnqueuesAndWorksUnchangedWithEveryExtensionInstalled() throws Exception {
    try (GoPeer.Db db = GoPeer.Db.create("hb_go_work")) {
      String url = db.url("go-peer");
      PGSimpleDataSource ds = installAll(db, url);
      List<String> catalog = QueJobsListing.of(ds);

      GoPeer.run(PEER, "enqueue", "--url", url, "--class", "CompatRecord", "--args", "[\"beat\"]", "--count", "20").ok();
      GoPeer.run(PEER, "enqueue", "--url", url, "--class", "CompatFail", "--args", "[]").ok();
      GoPeer.Result r = GoPeer.run(PEER, "work", "--url", url, "--workers", "3", "--seconds", "3").ok();
      assertTrue(r.stdout().contains("worked=20 failed=1"), r.stdout());
      try (Connection c = ds.getConnection()) {
        assertEquals(20, count(c, "SELECT count(DISTINCT job_id) FROM compat_runs WHERE peer = 'go'"));
        assertEquals(1, count(c, "SELECT count(*) FROM que_jobs WHERE job_class = 'CompatFail' AND error_count = 1"
            + " AND last_error = 'compat failure from go'"));
        assertEquals(0, count(c, "SELECT count(*) FROM que_heartbeats"));
      }
      assertEquals(catalog, QueJobsListing.of(ds), "Go's run changed que_jobs' catalog");
    }
  }

  @Test
  void aGoJobIsInFlightFromItsLockBesideAJavaJobAndTheRescuerLeavesItAlone() throws Exception {
    try (GoPeer.Db db = GoPeer.Db.create("hb_go_lock")) {
      String url = db.url("go-peer");
      PGSimpleDataSource ds = installAll(db, url);
      Client client = Client.create(ds);

      Heartbeats beats = Heartbeats.builder(ds).interval(Duration.ofMillis(100)).build();
      CountDownLatch javaStarted = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      WorkerPool pool = WorkerPool.builder(client, WorkMap.of("JavaLong", job -> {
        javaStarted.countDown();
        release.await(60, TimeUnit.SECONDS);
      })).queue("java").wakeInterval(Duration.ofMillis(100)).interceptor(beats).extension(beats).build();
      pool.start();
      GoPeer.Running go = null;
      try {
        long javaJob = client.enqueue(NewJob.of("JavaLong").queue("java")).id();
        assertTrue(javaStarted.await(30, TimeUnit.SECONDS));
        GoPeer.run(PEER, "enqueue", "--url", url, "--class", "CompatSleep", "--args", "[3000]").ok();
        go = GoPeer.start("work", "--url", db.url("go-worker"), "--workers", "1", "--until-empty", "--interval-ms", "50");

        Await.until(Duration.ofSeconds(30), "the Go job and the Java job both in flight", () -> inFlight(ds).size() == 2);
        List<InFlightJob> all = inFlight(ds);
        InFlightJob goJob = all.stream().filter(j -> j.jobClass().equals("CompatSleep")).findFirst().orElseThrow();
        InFlightJob javaJobRow = all.stream().filter(j -> j.jobId() == javaJob).findFirst().orElseThrow();
        assertEquals(InFlightJob.Source.ADVISORY_LOCK, goJob.source());
        assertEquals(java.util.Optional.of("go-worker"), goJob.applicationName());
        assertFalse(goJob.hung());
        assertFalse(goJob.javaHolder());
        assertEquals(InFlightJob.Source.HEARTBEAT, javaJobRow.source());

        // Even with the strictest threshold the rescuer ends no Go session, and not the fresh Java one.
        assertTrue(Rescuer.builder(ds).staleBeats(1).build().rescue().isEmpty());
        GoPeer.Result r = go.await(Duration.ofSeconds(60)).ok();
        assertTrue(r.stdout().contains("worked=1 failed=0"), r.stdout());
        try (Connection c = ds.getConnection()) {
          assertEquals(1, count(c, "SELECT count(*) FROM compat_runs WHERE job_class = 'CompatSleep'"));
        }
      } finally {
        release.countDown();
        if (go != null) {
          go.close();
        }
        pool.shutdown(Duration.ofSeconds(10));
      }
    }
  }

  static List<InFlightJob> inFlight(PGSimpleDataSource ds) {
    return InFlight.list(ds);
  }

  static long count(Connection c, String sql) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
