package io.quejava.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.testing.Await;
import io.quejava.testing.LocalCluster;
import io.quejava.testing.TestDatabase;
import java.io.IOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The fault suite (issue 10 §6): peer processes of several languages drain {@code FaultEffect} jobs,
 * whose handler inserts a {@code fault_effects} row and deletes the job in one transaction on the
 * job's own connection, while the driver SIGKILLs one worker process, terminates every client
 * session with {@code pg_terminate_backend}, and crash-restarts PostgreSQL ({@code pg_ctl -m
 * immediate}) once. Afterwards every enqueued job has exactly one effect (none lost, none run twice),
 * {@code que_jobs} is empty, no advisory lock is left, and every surviving process kept working after
 * each fault without being restarted.
 *
 * <p>The server is this class's own cluster from the machine's binaries ({@link LocalCluster}), with
 * durable settings (fsync, synchronous_commit, full_page_writes on), so that it can be crashed and
 * started again on the same port. Without server binaries the suite is skipped with the reason.
 *
 * <p>Jobs: {@code -Dque.fault.jobs=N} (or {@code QUE_FAULT_JOBS}), default 20,000. The faults are
 * spaced by progress, not by time: each comes once a share of the jobs is done and every surviving
 * peer has written an effect since the previous fault, so they land while the queue is busy whatever
 * the machine's speed.
 */
@Tag("compat")
@Tag("fault")
@TestMethodOrder(MethodOrderer.MethodName.class) // schema 3, then 7: the summaries read in that order
class FaultSuiteTest {
  static final int JOBS = jobs();
  static final int WORKERS_EACH = 2;
  static final int ENQUEUE_BATCH = 1000;
  /** Share of the jobs done before each fault: SIGKILL, terminate every session, crash-restart. */
  static final double[] FAULT_AT = {0.10, 0.25, 0.40};
  static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);
  /** The whole drain; a healthy run on two busy cores does well over 500 jobs/s. */
  static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(120).plusMillis(JOBS * 10L);
  /**
   * The peers' own --seconds: far beyond every deadline of a run, so it never ends one, but a peer
   * orphaned by a test JVM that died hard still exits by itself.
   */
  static final Duration PEER_LIFETIME = DRAIN_TIMEOUT.plus(STEP_TIMEOUT.multipliedBy(12));
  static final List<String> DURABLE = List.of("fsync=on", "synchronous_commit=on", "full_page_writes=on");

  private static LocalCluster.Cluster cluster;
  private static String skipReason;

  private static int jobs() {
    String v = Peer.setting("que.fault.jobs");
    if (v == null) {
      v = Peer.setting("QUE_FAULT_JOBS");
    }
    int n = v == null ? 20_000 : Integer.parseInt(v);
    if (n < 100) {
      throw new IllegalArgumentException("que.fault.jobs must be at least 100, got " + n);
    }
    return n;
  }

  @BeforeAll
  static void startCluster() throws IOException {
    cluster = LocalCluster.start(DURABLE);
    if (cluster == null) {
      skipReason = "no PostgreSQL server binaries to start a cluster this suite can crash and restart"
          + " (set QUE_TEST_PG_BIN)";
      System.err.println("[fault] SKIPPED: " + skipReason);
    }
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Java and que-go, plus Ruby Que 0.14 where it is installed (else left out, with the reason printed). */
  @Test
  void schema3JavaGoRuby() throws Exception {
    List<Member> team = new ArrayList<>(List.of(new Member(Peer.JAVA, "java-1"), new Member(Peer.JAVA, "java-2"),
        new Member(Peer.GO, "go-1")));
    team.addAll(ifAvailable(Peer.RUBY, "ruby-1"));
    run(3, team, "java-2");
  }

  @Test
  void schema7JavaOnly() throws Exception {
    run(7, List.of(new Member(Peer.JAVA, "java-1"), new Member(Peer.JAVA, "java-2"), new Member(Peer.JAVA, "java-3")),
        "java-2");
  }

  /**
   * The member, when its peer runs here; none (and the reason printed) when its library is missing,
   * unless QUE_COMPAT_REQUIRE names it, which fails the test.
   */
  private static List<Member> ifAvailable(Peer peer, String name) {
    Peer.Availability a = peer.availability();
    if (a.available()) {
      return List.of(new Member(peer, name));
    }
    if (!a.skippable()) {
      peer.require(); // fails with the reason
    }
    System.err.println("[fault] " + name + " left out: " + peer.label + " peer unavailable: " + a.reason());
    return List.of();
  }

  /** One worker process of the team: its peer and the name it writes into fault_effects.worker. */
  record Member(Peer peer, String name) {
    String applicationName() {
      return "fault-" + name;
    }
  }

  /** What the driver saw at one fault. */
  record Fault(String what, double second, long done, String note) {}

  private void run(int schema, List<Member> team, String victimName) throws Exception {
    Assumptions.assumeTrue(cluster != null, () -> skipReason);
    team.stream().map(Member::peer).distinct().forEach(Peer::require);
    long started = System.nanoTime();
    Db db = Db.create(cluster.endpoint(), "fault_s" + schema);
    assertEquals("on", db.text("SHOW fsync"), "fsync");
    assertEquals("on", db.text("SHOW synchronous_commit"), "synchronous_commit");
    assertEquals("on", db.text("SHOW full_page_writes"), "full_page_writes");

    if (schema == 3) {
      // que-go's own schema.sql, the table que-go and Java share.
      Peer.GO.cmd(Duration.ofSeconds(60), db.libpqUrl(null), "migrate").ok();
    } else {
      assertEquals(schema, Migrator.create(db.ds).migrateTo(schema), "Migrator.migrateTo(" + schema + ")");
    }
    Client client = Client.create(db.ds);
    assertEquals(schema, client.schemaVersion(), "schema");
    db.exec("CREATE TABLE fault_effects (job_id bigint NOT NULL, worker text NOT NULL,"
        + " written_at timestamptz NOT NULL DEFAULT clock_timestamp())");
    db.exec("CREATE TABLE fault_enqueued (job_id bigint PRIMARY KEY)");
    // The peers' `work` creates compat_runs if it is missing; peers starting together would race on it.
    db.exec("CREATE TABLE compat_runs (job_id bigint, peer text, job_class text, args text, error_count int,"
        + " started_at timestamptz, finished_at timestamptz, kwargs text, last_error text, last_error_backtrace text)");

    Member victim = team.stream().filter(m -> m.name().equals(victimName)).findFirst().orElseThrow();
    List<Member> survivors = team.stream().filter(m -> m != victim).collect(Collectors.toList());
    Map<Member, Peer.Running> all = new LinkedHashMap<>();
    // The processes that must stay alive: every step fails at once when one of them has exited.
    Map<Member, Peer.Running> running = new LinkedHashMap<>();
    List<Fault> faults = new ArrayList<>();
    Map<String, List<Double>> recovery = new LinkedHashMap<>();
    // Peers die with the test JVM, also when it is stopped before the finally below runs.
    Thread killPeers = new Thread(() -> all.values().forEach(Peer.Running::kill), "fault-kill-peers");
    Runtime.getRuntime().addShutdownHook(killPeers);
    try {
      // Every peer polls the empty queue before the first job exists, so all of them drain from the start.
      for (Member m : team) {
        all.put(m, m.peer().start(db.libpqUrl(m.applicationName()), "work", "--workers",
            String.valueOf(WORKERS_EACH), "--interval-ms", "100", "--name", m.name(),
            "--seconds", String.valueOf(PEER_LIFETIME.toSeconds())));
        running.put(m, all.get(m));
      }
      for (Member m : team) {
        step(running, m.name() + " connected", () -> db.sessions(m.applicationName()) > 0);
      }

      long enqueueStart = System.nanoTime();
      enqueue(db, client);
      double enqueueSeconds = seconds(enqueueStart);
      long drainStart = System.nanoTime();

      // Fault 1: SIGKILL one worker process while the queue is busy.
      step(running, "every peer worked a job and " + pct(0) + " of the jobs are done", () -> {
        for (Member m : team) {
          if (db.effectsBy(m.name()) == 0) {
            return false;
          }
        }
        return db.done() >= threshold(0);
      });
      long victimLocks = db.advisoryLocksOf(victim.applicationName());
      Peer.Running victimProcess = running.remove(victim);
      victimProcess.kill();
      Peer.PeerResult killed = victimProcess.await(Duration.ofSeconds(30));
      step(running, victim.name() + "'s sessions gone", () -> db.sessions(victim.applicationName()) == 0);
      OffsetDateTime killedAt = db.now();
      faults.add(new Fault("SIGKILL " + victim.name(), seconds(drainStart), db.done(),
          "exit " + killed.exit() + ", held " + victimLocks + " job lock(s)"));
      awaitResumed(db, running, survivors, "SIGKILL", killedAt, recovery);

      // Fault 2: pg_terminate_backend of every client session.
      step(running, pct(1) + " of the jobs done", () -> db.done() >= threshold(1));
      Map<String, Long> terminated = db.terminateAllClients();
      for (Member m : survivors) {
        assertTrue(terminated.getOrDefault(m.applicationName(), 0L) > 0,
            m.name() + " had no session to terminate: " + terminated);
      }
      OffsetDateTime terminatedAt = db.now();
      faults.add(new Fault("pg_terminate_backend", seconds(drainStart), db.done(),
          terminated.values().stream().mapToLong(Long::longValue).sum() + " sessions " + terminated));
      awaitResumed(db, running, survivors, "pg_terminate_backend", terminatedAt, recovery);

      // Fault 3: crash-restart of the server.
      step(running, pct(2) + " of the jobs done", () -> db.done() >= threshold(2));
      OffsetDateTime oldStart = db.postmasterStart();
      long committedBefore = db.effects();
      long doneBefore = db.done();
      double crashSecond = seconds(drainStart);
      long down = System.nanoTime();
      cluster.crash();
      cluster.start();
      double downSeconds = seconds(down);
      OffsetDateTime restartedAt = db.postmasterStart();
      assertTrue(restartedAt.isAfter(oldStart), "the server restarted: " + oldStart + " -> " + restartedAt);
      long committedAfter = db.effects();
      assertTrue(committedAfter >= committedBefore,
          "committed effects survive the crash: " + committedBefore + " before, " + committedAfter + " after");
      faults.add(new Fault("crash-restart", crashSecond, doneBefore,
          String.format(Locale.ROOT, "down %.1f s, %d effects committed before, %d after recovery",
              downSeconds, committedBefore, committedAfter)));
      awaitResumed(db, running, survivors, "crash-restart", restartedAt, recovery);

      step(running, DRAIN_TIMEOUT, "que_jobs empty", () -> db.left() == 0);
      double drainSeconds = seconds(drainStart);
      // Idle but still connected: no session may keep a job lock.
      step(running, Duration.ofSeconds(15), "no advisory lock held by the idle peers", () -> db.advisoryLocks() == 0);
      for (Member m : survivors) {
        assertTrue(db.sessions(m.applicationName()) > 0, m.name() + " is connected after the drain");
      }

      Map<String, String> exits = new LinkedHashMap<>();
      for (Member m : survivors) {
        running.get(m).term();
      }
      List<String> failedExits = new ArrayList<>();
      for (Member m : survivors) {
        Peer.PeerResult r = running.get(m).await(Duration.ofSeconds(60));
        exits.put(m.name(), "exit " + r.exit() + ", " + r.stdout().strip().lines().reduce((a, b) -> b).orElse(""));
        if (r.exit() != 0) {
          failedExits.add(r.describe());
        }
      }
      Await.until(Duration.ofSeconds(15), "the peers' sessions closed", () -> sql(() -> db.faultSessions() == 0));

      Report report = db.report(restartedAt);
      long victimAfterKill = db.effectsBy(victim.name(), killedAt);
      long locksLeft = db.advisoryLocks();
      System.err.println(summary(schema, team, victim, faults, recovery, report, locksLeft, exits,
          enqueueSeconds, drainSeconds, seconds(started)));

      assertEquals(JOBS, report.enqueued(), "jobs enqueued (fault_enqueued)");
      assertEquals(0, report.doubles(), "jobs with more than one effect (run twice)");
      assertEquals(0, report.lost(), "enqueued jobs with no effect (lost)");
      assertEquals(0, report.strays(), "effects of jobs never enqueued");
      assertEquals(JOBS, report.effects(), "effect rows");
      assertEquals(0, report.jobsLeft(), "que_jobs rows left");
      assertEquals(0, locksLeft, "advisory locks left after the peers stopped");
      assertEquals(0, victimAfterKill, victim.name() + " wrote effects after it was killed");
      assertTrue(failedExits.isEmpty(), "surviving peers exited non-zero:\n" + String.join("\n", failedExits));
    } catch (AssertionError | Exception e) {
      System.err.println("[fault] FAILED in schema " + schema + " run: " + e.getMessage());
      for (Map.Entry<Member, Peer.Running> r : all.entrySet()) {
        System.err.println("[fault] --- " + r.getKey().name() + " stderr (tail):\n"
            + Peer.PeerResult.tail(r.getValue().stderrSoFar(), 3000));
      }
      System.err.println("[fault] --- server log (tail):\n" + cluster.logTail(4000));
      throw e;
    } finally {
      all.values().forEach(Peer.Running::close);
      try {
        Runtime.getRuntime().removeShutdownHook(killPeers);
      } catch (IllegalStateException alreadyExiting) {
        // the hook runs anyway
      }
      db.drop();
    }
  }

  /** Waits until every survivor has written an effect after {@code at}; records how long each took. */
  private void awaitResumed(Db db, Map<Member, Peer.Running> running, List<Member> survivors, String fault,
      OffsetDateTime at, Map<String, List<Double>> recovery) {
    for (Member m : survivors) {
      step(running, m.name() + " wrote an effect after the " + fault, () -> db.effectsBy(m.name(), at) > 0);
      OffsetDateTime first = db.firstEffectAfter(m.name(), at);
      recovery.computeIfAbsent(m.name(), k -> new ArrayList<>())
          .add(Duration.between(at, first).toNanos() / 1e9);
    }
  }

  /** Polls {@code condition} with a deadline; fails at once when a peer still in the team has exited. */
  private static void step(Map<Member, Peer.Running> running, String what, SqlCondition condition) {
    step(running, STEP_TIMEOUT, what, condition);
  }

  private static void step(Map<Member, Peer.Running> running, Duration timeout, String what,
      SqlCondition condition) {
    SQLException[] lastError = new SQLException[1];
    try {
      Await.until(timeout, what, () -> {
        for (Map.Entry<Member, Peer.Running> r : running.entrySet()) {
          if (!r.getValue().isAlive()) {
            throw new AssertionError(r.getKey().name() + " exited while waiting for " + what
                + " (a peer must survive lost connections):\n" + Peer.PeerResult.tail(r.getValue().stderrSoFar(), 3000));
          }
        }
        try {
          boolean ok = condition.test();
          lastError[0] = null;
          return ok;
        } catch (SQLException e) {
          // The server may be restarting: look again on the next poll.
          lastError[0] = e;
          return false;
        }
      });
    } catch (AssertionError e) {
      if (lastError[0] != null) {
        throw new AssertionError(e.getMessage() + " (last database error: " + lastError[0].getMessage() + ")",
            lastError[0]);
      }
      throw e;
    }
  }

  private static boolean sql(SqlCondition c) {
    try {
      return c.test();
    } catch (SQLException e) {
      // The server may be restarting or this session was terminated: look again on the next poll.
      return false;
    }
  }

  @FunctionalInterface
  interface SqlCondition {
    boolean test() throws SQLException;
  }

  private static long threshold(int fault) {
    return (long) Math.ceil(JOBS * FAULT_AT[fault]);
  }

  private static String pct(int fault) {
    return Math.round(FAULT_AT[fault] * 100) + "%";
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** JOBS FaultEffect jobs through Client.enqueueAll, each batch's ids recorded in the same transaction. */
  private static void enqueue(Db db, Client client) throws SQLException {
    int n = 0;
    try (Connection c = db.connect()) {
      c.setAutoCommit(false);
      try (PreparedStatement record = c.prepareStatement("INSERT INTO fault_enqueued (job_id) SELECT unnest(?::bigint[])")) {
        while (n < JOBS) {
          int size = Math.min(ENQUEUE_BATCH, JOBS - n);
          List<NewJob> batch = new ArrayList<>(size);
          for (int i = 0; i < size; i++) {
            batch.add(NewJob.of("FaultEffect", n + i));
          }
          List<Job> jobs = client.enqueueAll(c, batch);
          Long[] ids = jobs.stream().map(Job::id).toArray(Long[]::new);
          Array array = c.createArrayOf("bigint", ids);
          record.setArray(1, array);
          assertEquals(size, record.executeUpdate(), "ids recorded");
          array.free();
          c.commit();
          n += size;
        }
      }
    }
  }

  /** The counts the suite asserts on. */
  record Report(long enqueued, long effects, long distinctJobs, long doubles, long extraRuns, long lost,
      long strays, long jobsLeft, Map<String, Long> perWorker, Map<String, Long> effectsAfter) {}

  private static String summary(int schema, List<Member> team, Member victim, List<Fault> faults,
      Map<String, List<Double>> recovery, Report r, long locksLeft, Map<String, String> exits,
      double enqueueSeconds, double drainSeconds, double totalSeconds) {
    StringBuilder b = new StringBuilder("\n=== fault suite: schema ").append(schema).append(", ")
        .append(JOBS).append(" jobs, peers ")
        .append(team.stream().map(m -> m.name() + "(" + m.peer().name + ")").collect(Collectors.joining(" ")))
        .append(", ").append(WORKERS_EACH).append(" workers each, ").append(String.join(" ", DURABLE))
        .append(" ===\n");
    for (Fault f : faults) {
      b.append(String.format(Locale.ROOT, "fault  %-22s at %6.1f s, %6d jobs done: %s%n", f.what(), f.second(), f.done(), f.note()));
    }
    b.append("recovery (s from each fault to the survivor's first effect after it; SIGKILL, terminate, crash):\n");
    recovery.forEach((name, s) -> b.append("  ").append(name).append(": ")
        .append(s.stream().map(x -> String.format(Locale.ROOT, "%.2f", x)).collect(Collectors.joining(" / ")))
        .append('\n'));
    b.append(String.format(Locale.ROOT,
        "jobs %d, effects %d, distinct %d, doubles %d (extra runs %d), lost %d, strays %d, que_jobs left %d,"
            + " advisory locks left %d%n",
        r.enqueued(), r.effects(), r.distinctJobs(), r.doubles(), r.extraRuns(), r.lost(), r.strays(), r.jobsLeft(),
        locksLeft));
    b.append("effects per worker: ").append(r.perWorker()).append("; after the crash-restart: ")
        .append(r.effectsAfter()).append('\n');
    b.append("killed: ").append(victim.name()).append("; survivors' exits: ").append(exits).append('\n');
    b.append(String.format(Locale.ROOT, "durations: enqueue %.1f s, drain %.1f s, whole run %.1f s%n",
        enqueueSeconds, drainSeconds, totalSeconds));
    return b.toString();
  }

  /** One database of the suite's cluster, and the queries the suite polls and checks with. */
  static final class Db {
    final TestDatabase.Endpoint endpoint;
    final PGSimpleDataSource ds;

    private Db(TestDatabase.Endpoint endpoint) {
      this.endpoint = endpoint;
      this.ds = endpoint.dataSource();
      ds.setApplicationName("fault-driver");
      ds.setConnectTimeout(10);
      ds.setSocketTimeout(60);
    }

    static Db create(TestDatabase.Endpoint server, String name) throws SQLException {
      try (Connection c = server.connect(); Statement st = c.createStatement()) {
        st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        st.execute("CREATE DATABASE " + name);
      }
      return new Db(server.withDatabase(name));
    }

    void drop() {
      try (Connection c = endpoint.withDatabase("postgres").connect(); Statement st = c.createStatement()) {
        st.execute("DROP DATABASE IF EXISTS " + endpoint.database() + " WITH (FORCE)");
      } catch (SQLException e) {
        System.err.println("[fault] could not drop database " + endpoint.database() + ": " + e.getMessage());
      }
    }

    /** The peers' URL, with an application_name to find their sessions by (none: the plain URL). */
    String libpqUrl(String applicationName) {
      return endpoint.libpqUrl() + (applicationName == null ? "" : "&application_name=" + applicationName);
    }

    Connection connect() throws SQLException {
      return ds.getConnection();
    }

    void exec(String sql, Object... params) throws SQLException {
      try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
        bind(ps, params);
        ps.execute();
      }
    }

    long count(String sql, Object... params) throws SQLException {
      try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
        bind(ps, params);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    }

    String text(String sql) throws SQLException {
      try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
        rs.next();
        return rs.getString(1);
      }
    }

    OffsetDateTime time(String sql, Object... params) throws SQLException {
      try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
        bind(ps, params);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getObject(1, OffsetDateTime.class);
        }
      }
    }

    /** The database clock. */
    OffsetDateTime now() throws SQLException {
      return time("SELECT clock_timestamp()");
    }

    OffsetDateTime postmasterStart() throws SQLException {
      return time("SELECT pg_postmaster_start_time()");
    }

    long left() throws SQLException {
      return count("SELECT count(*) FROM que_jobs");
    }

    long done() throws SQLException {
      return JOBS - left();
    }

    long effects() throws SQLException {
      return count("SELECT count(*) FROM fault_effects");
    }

    long effectsBy(String worker) throws SQLException {
      return count("SELECT count(*) FROM fault_effects WHERE worker = ?", worker);
    }

    long effectsBy(String worker, OffsetDateTime after) throws SQLException {
      return count("SELECT count(*) FROM fault_effects WHERE worker = ? AND written_at > ?", worker, after);
    }

    OffsetDateTime firstEffectAfter(String worker, OffsetDateTime after) {
      try {
        return time("SELECT min(written_at) FROM fault_effects WHERE worker = ? AND written_at > ?", worker, after);
      } catch (SQLException e) {
        throw new AssertionError("reading " + worker + "'s first effect after " + after + ": " + e.getMessage(), e);
      }
    }

    long sessions(String applicationName) throws SQLException {
      return count("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?", applicationName);
    }

    /** Sessions of the peers (application_name fault-*, the driver's own excepted). */
    long faultSessions() throws SQLException {
      return count("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE ? AND application_name <> ?",
          "fault-%", "fault-driver");
    }

    /** Advisory locks of any kind held by any session in this database. */
    long advisoryLocks() throws SQLException {
      return count("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
          + " WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()");
    }

    long advisoryLocksOf(String applicationName) throws SQLException {
      return count("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
          + " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = ?", applicationName);
    }

    /**
     * pg_terminate_backend of every client session of the cluster but this one; returns the number
     * terminated per application_name once they are all gone.
     */
    Map<String, Long> terminateAllClients() throws SQLException {
      Map<String, Long> terminated = new LinkedHashMap<>();
      List<Long> pids = new ArrayList<>();
      try (Connection c = connect()) {
        // Two statements: in one, the planner could call pg_terminate_backend before it filters out
        // this session's own pid.
        Map<Long, String> clients = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT pid, coalesce(application_name, '') FROM pg_stat_activity"
            + " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() ORDER BY 2, 1");
            ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            clients.put(rs.getLong(1), rs.getString(2));
          }
        }
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT pid FROM unnest(?::int[]) AS t(pid) WHERE pg_terminate_backend(pid)")) {
          Array a = c.createArrayOf("int4", clients.keySet().stream().map(Long::intValue).toArray(Integer[]::new));
          ps.setArray(1, a);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              long pid = rs.getLong(1);
              pids.add(pid);
              terminated.merge(clients.get(pid), 1L, Long::sum);
            }
          }
        }
      }
      Long[] boxed = pids.toArray(Long[]::new);
      Await.until(Duration.ofSeconds(30), "terminated sessions gone", () -> sql(() -> {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY (?)")) {
          Array a = c.createArrayOf("bigint", boxed);
          ps.setArray(1, a);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1) == 0;
          }
        }
      }));
      return terminated;
    }

    /** The final counts; {@code effectsAfter} per worker counts the effects written after {@code restartedAt}. */
    Report report(OffsetDateTime restartedAt) throws SQLException {
      long enqueued = count("SELECT count(*) FROM fault_enqueued");
      long effects = effects();
      long distinct = count("SELECT count(DISTINCT job_id) FROM fault_effects");
      long doubles = count("SELECT count(*) FROM (SELECT job_id FROM fault_effects GROUP BY job_id HAVING count(*) > 1) d");
      long lost = count("SELECT count(*) FROM fault_enqueued e"
          + " WHERE NOT EXISTS (SELECT 1 FROM fault_effects f WHERE f.job_id = e.job_id)");
      long strays = count("SELECT count(*) FROM fault_effects f"
          + " WHERE NOT EXISTS (SELECT 1 FROM fault_enqueued e WHERE e.job_id = f.job_id)");
      long left = left();
      Map<String, Long> perWorker = new LinkedHashMap<>();
      Map<String, Long> after = new LinkedHashMap<>();
      try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(
          "SELECT worker, count(*), count(*) FILTER (WHERE written_at > ?) FROM fault_effects GROUP BY worker ORDER BY worker")) {
        ps.setObject(1, restartedAt);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            perWorker.put(rs.getString(1), rs.getLong(2));
            after.put(rs.getString(1), rs.getLong(3));
          }
        }
      }
      return new Report(enqueued, effects, distinct, doubles, effects - distinct, lost, strays, left, perWorker, after);
    }

    private static void bind(PreparedStatement ps, Object... params) throws SQLException {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
    }
  }
}
