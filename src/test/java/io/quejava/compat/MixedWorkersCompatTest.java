package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.compat.CompatMatrix.Scenario;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 3: workers of several languages on one queue at the same time, 5000 CompatRecord jobs:
 * every job recorded exactly once, the queue empty, no advisory lock left behind.
 *
 * <p>With Ruby que2 (schema 7) its Que::Locker registers in que_lockers and listens; the driver waits
 * for that registration too. Of the jobs, 4000 arrive in one {@code enqueueAll}, which on schema 7
 * skips the NOTIFY (as Que's bulk insert does), so the locker finds them by polling; the other 1000
 * are enqueued one statement each while both sides work, so the insert trigger NOTIFYs the locker
 * about each, and Ruby's NOTIFY path (lock by id, re-check) races Java's lock walk as well.
 */
@Tag("compat")
@Timeout(180)
class MixedWorkersCompatTest extends CompatTestBase {
  static final int JOBS = 5000;
  static final int WORKERS_EACH = 3;
  /** On schema 7: jobs enqueued one statement each, so that Que's trigger NOTIFYs the Ruby locker. */
  static final int NOTIFIED = 1000;

  static Stream<Arguments> teams() {
    return Stream.of(
        Arguments.of(CompatMatrix.JAVA_GO, List.of(JAVA, GO)),
        Arguments.of(CompatMatrix.JAVA_RUBY, List.of(JAVA, RUBY)),
        Arguments.of(CompatMatrix.JAVA_RUBY2, List.of(JAVA, RUBY2)),
        Arguments.of(CompatMatrix.ALL_THREE, List.of(JAVA, GO, RUBY)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("teams")
  void everyJobExactlyOnce(String column, List<Peer> team) throws Throwable {
    CompatMatrix.cell(Scenario.MIXED_WORKERS, column, () -> {
      team.forEach(Peer::require);
      try (CompatDb db = CompatDb.create("mixed_" + team.stream().map(p -> p.name).collect(Collectors.joining("_")))) {
        Peer partner = team.get(1);
        Client client = javaSchema(db, partner);
        db.createCompatRuns();
        List<Peer.Running> running = new ArrayList<>();
        try {
          // Start every peer on the empty queue and wait until each has connected, so that all of
          // them are polling when the jobs appear in one statement.
          for (Peer p : team) {
            running.add(p.start(db.url("compat-" + p.name), "work", "--workers", String.valueOf(WORKERS_EACH)));
          }
          for (int i = 0; i < team.size(); i++) {
            Peer p = team.get(i);
            Peer.Running r = running.get(i);
            db.await(Duration.ofSeconds(60), p.name + " peer connected", () -> {
              if (!r.isAlive()) {
                throw new AssertionError(p.name + " peer exited early:\n" + r.stderrSoFar());
              }
              return db.sessions("compat-" + p.name) > 0;
            });
            if (p.modern()) {
              // Que 2.x's locker runs on its own connection and registers before its first poll.
              db.await(Duration.ofSeconds(60), p.name + " locker registered", () -> {
                if (!r.isAlive()) {
                  throw new AssertionError(p.name + " peer exited early:\n" + r.stderrSoFar());
                }
                return db.count("SELECT count(*) FROM que_lockers WHERE listening") > 0;
              });
            }
          }

          int one = partner.modern() ? NOTIFIED : 0;
          List<NewJob> batch = new ArrayList<>(JOBS - one);
          for (int i = 0; i < JOBS - one; i++) {
            batch.add(NewJob.of("CompatRecord", i));
          }
          Set<Long> ids = client.enqueueAll(batch).stream().map(Job::id).collect(Collectors.toCollection(HashSet::new));
          try (Connection c = db.connect()) {
            for (int i = JOBS - one; i < JOBS; i++) {
              ids.add(client.enqueue(c, NewJob.of("CompatRecord", i)).id());
            }
          }
          assertEquals(JOBS, ids.size());

          db.await(Duration.ofSeconds(120), JOBS + " jobs recorded", () -> {
            for (int i = 0; i < team.size(); i++) {
              if (!running.get(i).isAlive()) {
                throw new AssertionError(team.get(i).name + " peer exited while working:\n"
                    + running.get(i).stderrSoFar());
              }
            }
            return db.compatRunCount() >= JOBS && db.jobCount() == 0;
          });
          // The workers are still connected (idle): every job lock must have been released.
          db.await(Duration.ofSeconds(10), "no advisory locks left", () -> db.advisoryLocks() == 0);

          Map<String, Peer.Summary> summaries = new LinkedHashMap<>();
          running.forEach(Peer.Running::term);
          for (int i = 0; i < team.size(); i++) {
            Peer.PeerResult r = running.get(i).await(Duration.ofSeconds(60)).ok();
            summaries.put(team.get(i).name, r.summary());
          }

          assertEquals(JOBS, db.count("SELECT count(*) FROM compat_runs"), "compat_runs rows");
          assertEquals(JOBS, db.count("SELECT count(DISTINCT job_id) FROM compat_runs"), "distinct job ids");
          Set<Long> recorded = new HashSet<>();
          for (Map<String, Object> row : db.rows("SELECT job_id FROM compat_runs")) {
            recorded.add(((Number) row.get("job_id")).longValue());
          }
          assertEquals(ids, recorded, "recorded ids = enqueued ids");
          assertEquals(0, db.jobCount(), "que_jobs is empty");
          assertEquals(0, db.advisoryLocks(), "advisory locks after the peers exited");

          Map<String, Long> perPeer = new LinkedHashMap<>();
          for (Map<String, Object> row : db.rows("SELECT peer, count(*) AS n FROM compat_runs GROUP BY peer")) {
            perPeer.put((String) row.get("peer"), ((Number) row.get("n")).longValue());
          }
          long worked = 0;
          for (Peer p : team) {
            Peer.Summary s = summaries.get(p.name);
            assertEquals(0, s.failed(), p.name + " failed jobs");
            assertEquals(perPeer.getOrDefault(p.name, 0L), s.worked(), p.name + ": worked= vs its compat_runs rows");
            assertTrue(s.worked() > 0, p.name + " worked no job: " + summaries + " (not all peers took part)");
            worked += s.worked();
          }
          assertEquals(JOBS, worked, "sum of worked= over the peers " + summaries);
          System.err.println("[compat] mixed " + column + ": jobs per peer " + perPeer);
        } finally {
          running.forEach(Peer.Running::close);
        }
      }
    });
  }
}
