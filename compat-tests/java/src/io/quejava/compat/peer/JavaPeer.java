package io.quejava.compat.peer;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.RunningJob;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.QueException;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Java peer of the que-java cross-language compat suite: the same command line as the Go and Ruby
 * peers (see compat-tests/README.md), driving que-java's public API only.
 *
 * <pre>
 * peer migrate --url URL [--version N]
 * peer enqueue --url URL --class C (--args JSON | --args-file PATH|-) [--queue Q]
 *              [--priority P] [--run-at ISO8601] [--count N] [--kwargs JSON]
 * peer work    --url URL [--queue Q] [--workers N] [--until-empty | --seconds S] [--interval-ms MS]
 *              [--name NAME]
 * </pre>
 *
 * The client detects the table's schema (3, or 4 to 7 for Que 1.x/2.x), so the same commands work
 * on either; {@code --version} and {@code --kwargs} only make sense for the modern one.
 *
 * Exit codes: 0 ok, 1 database or runtime error, 2 bad command line.
 */
public final class JavaPeer {
  static final String USAGE = String.join("\n",
      "usage:",
      "  peer migrate --url URL [--version N]",
      "  peer enqueue --url URL --class C (--args JSON | --args-file PATH|-) [--queue Q]",
      "               [--priority P] [--run-at ISO8601] [--count N] [--kwargs JSON]",
      "  peer work    --url URL [--queue Q] [--workers N] [--until-empty | --seconds S]",
      "               [--interval-ms MS] [--name NAME]",
      "");

  static final String CREATE_COMPAT_RUNS = "CREATE TABLE IF NOT EXISTS compat_runs (\n"
      + "  job_id               bigint,\n"
      + "  peer                 text,\n"
      + "  job_class            text,\n"
      + "  args                 text,\n"
      + "  error_count          int,\n"
      + "  started_at           timestamptz,\n"
      + "  finished_at          timestamptz,\n"
      + "  kwargs               text,\n"
      + "  last_error           text,\n"
      + "  last_error_backtrace text\n"
      + ")";

  /** Columns a compat_runs created by an older peer (que-go) lacks. */
  static final List<String> LATER_COLUMNS = List.of("kwargs", "last_error", "last_error_backtrace");

  static final String COMPAT_RUNS_COLUMNS = "SELECT attname FROM pg_attribute"
      + " WHERE attrelid = 'compat_runs'::regclass AND attnum > 0 AND NOT attisdropped";

  static final String INSERT_COMPAT_RUN = "INSERT INTO compat_runs"
      + " (job_id, peer, job_class, args, kwargs, error_count, last_error, last_error_backtrace, started_at, finished_at)"
      + " VALUES (?, 'java', ?, ?, ?, ?, ?, ?, ?, clock_timestamp())";

  /**
   * FaultEffect's effect: one row per run, no unique constraint, so a job run twice shows as two rows.
   * The driver creates fault_effects (job_id bigint, worker text, written_at timestamptz DEFAULT
   * clock_timestamp()); the peer never does.
   */
  static final String INSERT_FAULT_EFFECT = "INSERT INTO fault_effects (job_id, worker) VALUES (?, ?)";

  /** Schema 3: every row is a job still to run (locked ones included). */
  static final String COUNT_READY_CLASSIC = "SELECT count(*) FROM que_jobs WHERE queue = ? AND run_at <= now()";

  /** Schema 4: finished and expired rows stay in the table. */
  static final String COUNT_READY_MODERN = "SELECT count(*) FROM que_jobs WHERE queue = ? AND run_at <= now()"
      + " AND finished_at IS NULL AND expired_at IS NULL";

  /** Schema 5-7: and jobs of another job schema version are not ours to run. */
  static final String COUNT_READY_VERSIONED = COUNT_READY_MODERN + " AND job_schema_version = ?";

  /** Jobs at most this many per enqueueAll statement. */
  static final int BATCH = 1000;

  /** How long a SIGTERM'd pool gives its running jobs before it kills their connections. */
  static final Duration SIGNAL_SHUTDOWN_GRACE = Duration.ofSeconds(
      Long.parseLong(System.getenv().getOrDefault("COMPAT_JAVA_SHUTDOWN_SECONDS", "30")));

  /** A bad command line: usage on stderr, exit 2. */
  static final class UsageError extends Exception {
    private static final long serialVersionUID = 1L;

    UsageError(String message) {
      super(message);
    }
  }

  private JavaPeer() {}

  public static void main(String[] argv) {
    PrintStream err = System.err;
    int code;
    try {
      code = run(argv);
    } catch (UsageError e) {
      err.println("peer: " + e.getMessage());
      err.print(USAGE);
      code = 2;
    } catch (SQLException | QueException e) {
      err.println("peer: database error: " + e.getMessage());
      code = 1;
    } catch (Exception e) {
      err.println("peer: error: " + e);
      code = 1;
    }
    System.out.flush();
    System.exit(code);
  }

  static int run(String[] argv) throws Exception {
    if (argv.length == 0) {
      throw new UsageError("missing subcommand (migrate, enqueue or work)");
    }
    String command = argv[0];
    String[] rest = java.util.Arrays.copyOfRange(argv, 1, argv.length);
    switch (command) {
      case "migrate":
        return migrate(Flags.parse(rest, Set.of("url", "version"), Set.of()));
      case "enqueue":
        return enqueue(Flags.parse(rest,
            Set.of("url", "class", "args", "args-file", "queue", "priority", "run-at", "count", "kwargs"), Set.of()));
      case "work":
        return work(Flags.parse(rest,
            Set.of("url", "queue", "workers", "seconds", "interval-ms", "name"), Set.of("until-empty")));
      default:
        throw new UsageError("unknown subcommand \"" + command + "\"");
    }
  }

  // ------------------------------------------------------------------ migrate

  /** {@code Migrator.migrate()} (schema 3 on an empty database), or {@code migrateTo(N)} with --version. */
  static int migrate(Flags f) throws UsageError {
    PGSimpleDataSource ds = dataSource(f.required("url"));
    Migrator migrator = Migrator.create(ds);
    if (f.has("version")) {
      migrator.migrateTo(f.integer("version", Migrator.DEFAULT_VERSION, 0, Migrator.NEWEST_VERSION));
    } else {
      migrator.migrate();
    }
    System.out.println("migrated");
    return 0;
  }

  // ------------------------------------------------------------------ enqueue

  static int enqueue(Flags f) throws UsageError, IOException {
    PGSimpleDataSource ds = dataSource(f.required("url"));
    String jobClass = f.required("class");
    if (f.has("args") && f.has("args-file")) {
      throw new UsageError("give only one of --args and --args-file");
    }
    String args = "[]";
    if (f.has("args")) {
      args = f.get("args");
    } else if (f.has("args-file")) {
      String path = f.get("args-file");
      byte[] bytes;
      try {
        bytes = "-".equals(path) ? System.in.readAllBytes() : Files.readAllBytes(Path.of(path));
      } catch (IOException e) {
        throw new UsageError("cannot read --args-file: " + e.getMessage());
      }
      // Drop the whitespace around the file's content (e.g. its final newline), as the Go peer does;
      // the JSON itself is stored as given.
      args = utf8(bytes).strip();
    }
    int count = f.integer("count", 1, 0, Integer.MAX_VALUE);
    NewJob job;
    try {
      job = NewJob.ofJson(jobClass, args);
      if (f.has("queue")) {
        job = job.queue(f.get("queue"));
      }
      if (f.has("priority")) {
        job = job.priority(f.integer("priority", 0, Short.MIN_VALUE, Short.MAX_VALUE));
      }
      if (f.has("run-at")) {
        job = job.runAt(parseRunAt(f.get("run-at")));
      }
      if (f.has("kwargs")) {
        job = job.kwargsJson(f.get("kwargs"));
      }
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage());
    }
    Client client = Client.create(ds);
    int done = 0;
    while (done < count) {
      int n = Math.min(BATCH, count - done);
      List<Job> jobs;
      if (n == 1) {
        jobs = List.of(client.enqueue(job));
      } else {
        List<NewJob> batch = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          batch.add(job);
        }
        jobs = client.enqueueAll(batch);
      }
      StringBuilder ids = new StringBuilder();
      for (Job j : jobs) {
        ids.append(j.id()).append('\n');
      }
      System.out.print(ids);
      done += n;
    }
    System.out.println("enqueued=" + count);
    return 0;
  }

  static Instant parseRunAt(String text) throws UsageError {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      throw new UsageError("bad --run-at (want ISO 8601 with an offset, e.g. 2024-01-02T03:04:05.123456Z): " + text);
    }
  }

  static String utf8(byte[] bytes) throws UsageError {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new UsageError("job args are not valid UTF-8");
    }
  }

  // ------------------------------------------------------------------ work

  /** Handler outcomes that the library counts as worked but that hit a DB error in our own code. */
  static final AtomicLong PEER_FAULTS = new AtomicLong();

  /**
   * FaultEffect jobs whose transaction failed. The fault suite kills sessions and the server under the
   * peer, so these are expected there and do not change the exit status; the job stays in que_jobs.
   */
  static final AtomicLong FAULT_EFFECT_ERRORS = new AtomicLong();

  static int work(Flags f) throws UsageError, SQLException, InterruptedException {
    PGSimpleDataSource ds = dataSource(f.required("url"));
    int workers = f.integer("workers", 2, 1, 1000);
    int intervalMs = f.integer("interval-ms", 100, 1, Integer.MAX_VALUE);
    boolean untilEmpty = f.switchOn("until-empty");
    if (untilEmpty && f.has("seconds")) {
      throw new UsageError("give only one of --until-empty and --seconds");
    }
    long runForNanos = -1;
    if (f.has("seconds")) {
      double s;
      try {
        s = Double.parseDouble(f.get("seconds"));
      } catch (NumberFormatException e) {
        throw new UsageError("bad --seconds \"" + f.get("seconds") + "\"");
      }
      if (!(s >= 0) || Double.isInfinite(s)) {
        throw new UsageError("bad --seconds \"" + f.get("seconds") + "\"");
      }
      runForNanos = (long) (s * 1e9);
    }
    Duration interval = Duration.ofMillis(intervalMs);
    String workerName = f.has("name") ? f.required("name") : "java";

    try (Connection c = ds.getConnection()) {
      createCompatRuns(c);
    }

    Client client = Client.create(ds);
    // No --queue: the library's default queue ('' on schema 3, 'default' on 4-7).
    String queue = f.has("queue") ? f.get("queue") : client.defaultQueue();
    Integer jobSchemaVersion = client.jobSchemaVersion().isPresent() ? client.jobSchemaVersion().getAsInt() : null;
    String countReady = jobSchemaVersion != null ? COUNT_READY_VERSIONED
        : client.hasOutcomeColumns() ? COUNT_READY_MODERN : COUNT_READY_CLASSIC;
    WorkMap map = WorkMap.builder()
        .put("CompatRecord", job -> record(job, Instant.now()))
        .put("CompatFail", job -> {
          throw new RuntimeException("compat failure from java");
        })
        .put("CompatFailOnce", job -> {
          if (job.job().errorCount() == 0) {
            throw new RuntimeException("compat failure from java");
          }
          record(job, Instant.now());
        })
        .put("CompatSleep", JavaPeer::sleepThenRecord)
        .put("CompatNoop", job -> { })
        .put("FaultEffect", job -> faultEffect(job, workerName))
        .build();
    WorkerPool pool = WorkerPool.builder(client, map)
        .workers(workers)
        .queue(queue)
        .wakeInterval(interval)
        .name("compat-java")
        .build();

    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch finished = new CountDownLatch(1);
    AtomicBoolean signalled = new AtomicBoolean();
    AtomicInteger exitCode = new AtomicInteger();
    Thread hook = new Thread(() -> {
      // SIGTERM/SIGINT (or System.exit after a normal run, when `finished` is already open).
      if (finished.getCount() > 0) {
        signalled.set(true);
        stop.countDown();
        try {
          finished.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        System.out.flush();
        // A signal is this peer's normal way to stop: exit with the run's own status, not 143.
        Runtime.getRuntime().halt(exitCode.get());
      }
    }, "compat-java-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);

    long start = System.nanoTime();
    pool.start();
    int code = 0;
    try {
      waitForStop(ds, countReady, queue, jobSchemaVersion, untilEmpty, runForNanos, interval, stop, start);
    } catch (SQLException e) {
      System.err.println("peer: database error: " + e.getMessage());
      code = 1;
    }
    boolean clean = pool.shutdown(signalled.get() ? SIGNAL_SHUTDOWN_GRACE : Duration.ofNanos(Long.MAX_VALUE));
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    System.out.println("worked=" + pool.jobsWorked() + " failed=" + pool.jobsFailed() + " elapsed_ms=" + elapsedMs);
    System.out.flush();
    if (!clean) {
      System.err.println("peer: jobs still running at the shutdown deadline were interrupted");
    }
    long faultEffectErrors = FAULT_EFFECT_ERRORS.get();
    if (faultEffectErrors > 0) {
      System.err.println("peer: " + faultEffectErrors + " FaultEffect job(s) failed (left in que_jobs to run again)");
    }
    long faults = PEER_FAULTS.get();
    if (faults > 0) {
      System.err.println("peer: error: " + faults + " job(s) hit a database error in the peer's own handler code");
      code = 1;
    }
    exitCode.set(code);
    finished.countDown();
    if (!signalled.get()) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException alreadyShuttingDown) {
        // a signal came in just now; the hook sees `finished` open and lets the JVM exit
      }
    }
    return code;
  }

  /** Blocks until the queue has no ready job (--until-empty), --seconds passed, or a signal came. */
  static void waitForStop(PGSimpleDataSource ds, String countReady, String queue, Integer jobSchemaVersion,
      boolean untilEmpty, long runForNanos, Duration interval, CountDownLatch stop, long start)
      throws SQLException, InterruptedException {
    if (!untilEmpty) {
      if (runForNanos >= 0) {
        stop.await(Math.max(0, runForNanos - (System.nanoTime() - start)), TimeUnit.NANOSECONDS);
      } else {
        stop.await();
      }
      return;
    }
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(countReady)) {
      ps.setString(1, queue);
      if (jobSchemaVersion != null) {
        ps.setInt(2, jobSchemaVersion);
      }
      while (true) {
        long ready;
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          ready = rs.getLong(1);
        }
        if (ready == 0) {
          return;
        }
        if (stop.await(interval.toNanos(), TimeUnit.NANOSECONDS)) {
          return;
        }
      }
    }
  }

  /**
   * Creates compat_runs, or adds the later columns to one that lacks them (only then, so that peers
   * running side by side don't queue behind each other's table locks).
   */
  static void createCompatRuns(Connection c) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("SET client_min_messages TO warning");
      st.execute(CREATE_COMPAT_RUNS);
      Set<String> present = new java.util.HashSet<>();
      try (ResultSet rs = st.executeQuery(COMPAT_RUNS_COLUMNS)) {
        while (rs.next()) {
          present.add(rs.getString(1));
        }
      }
      for (String column : LATER_COLUMNS) {
        if (!present.contains(column)) {
          st.execute("ALTER TABLE compat_runs ADD COLUMN IF NOT EXISTS " + column + " text");
        }
      }
    }
  }

  /** CompatSleep: sleeps args[0] milliseconds, then records like CompatRecord. */
  static void sleepThenRecord(RunningJob job) throws Exception {
    Instant started = Instant.now();
    double ms;
    try {
      ms = job.job().args().get(0).asDouble(Double.NaN);
    } catch (RuntimeException e) {
      ms = Double.NaN;
    }
    if (!(ms >= 0)) {
      throw new IllegalArgumentException("CompatSleep wants [milliseconds] as args, got " + job.job().argsJson());
    }
    long nanos = (long) (ms * 1_000_000);
    Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
    record(job, started);
  }

  /** Inserts the compat_runs row and deletes the job in one transaction on the job's own connection. */
  static void record(RunningJob locked, Instant started) throws SQLException {
    Job job = locked.job();
    Connection c = locked.connection();
    c.setAutoCommit(false);
    try {
      try (PreparedStatement ps = c.prepareStatement(INSERT_COMPAT_RUN)) {
        ps.setLong(1, job.id());
        ps.setString(2, job.jobClass());
        ps.setString(3, job.argsJson());
        ps.setString(4, job.kwargsJson().orElse(null));
        ps.setInt(5, job.errorCount());
        ps.setString(6, job.lastError().orElse(null));
        ps.setString(7, job.lastErrorBacktrace().orElse(null));
        ps.setTimestamp(8, Timestamp.from(started));
        ps.executeUpdate();
      }
      locked.delete();
      c.commit();
    } catch (SQLException | RuntimeException e) {
      PEER_FAULTS.incrementAndGet();
      System.err.println("peer: recording job " + job.id() + " (" + job.jobClass() + ") failed: " + e.getMessage());
      try {
        c.rollback();
      } catch (SQLException ignored) {
        // the worker resets the connection anyway
      }
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  /**
   * FaultEffect: inserts the job's fault_effects row and deletes the job in one transaction on the
   * job's own (lock-holding) connection, so the effect exists if and only if the job is gone. When the
   * session dies on the way (the fault suite's kills), neither happened and the job runs again.
   */
  static void faultEffect(RunningJob locked, String workerName) throws SQLException {
    Connection c = locked.connection();
    boolean committed = false;
    try {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(INSERT_FAULT_EFFECT)) {
        ps.setLong(1, locked.job().id());
        ps.setString(2, workerName);
        ps.executeUpdate();
      }
      locked.delete();
      c.commit();
      committed = true;
    } catch (SQLException | RuntimeException e) {
      FAULT_EFFECT_ERRORS.incrementAndGet();
      try {
        c.rollback();
      } catch (SQLException ignored) {
        // a broken session: the worker drops it
      }
      throw e;
    } finally {
      if (committed) {
        c.setAutoCommit(true);
      } else {
        try {
          c.setAutoCommit(true);
        } catch (SQLException ignored) {
          // keep the handler's own failure; the worker drops a broken session
        }
      }
    }
  }

  // ------------------------------------------------------------------ URL

  /**
   * A data source for a libpq-style {@code postgres://user[:pw]@host[:port]/db[?k=v&...]} URL.
   * Understood query keys: sslmode, application_name, user, password, connect_timeout; others are
   * refused.
   */
  static PGSimpleDataSource dataSource(String url) throws UsageError {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new UsageError("bad --url: " + e.getMessage());
    }
    if (!"postgres".equals(uri.getScheme()) && !"postgresql".equals(uri.getScheme())) {
      throw new UsageError("--url must be a postgres:// or postgresql:// URL, got \"" + url + "\"");
    }
    PGSimpleDataSource ds = new PGSimpleDataSource();
    String host = uri.getHost();
    ds.setServerNames(new String[] {host == null || host.isEmpty() ? "localhost" : host});
    ds.setPortNumbers(new int[] {uri.getPort() > 0 ? uri.getPort() : 5432});
    String user = System.getProperty("user.name");
    String password = null;
    if (uri.getRawUserInfo() != null) {
      String[] parts = uri.getRawUserInfo().split(":", 2);
      user = decode(parts[0]);
      password = parts.length > 1 ? decode(parts[1]) : null;
    }
    Map<String, String> query = new HashMap<>();
    if (uri.getRawQuery() != null && !uri.getRawQuery().isEmpty()) {
      for (String kv : uri.getRawQuery().split("&")) {
        String[] p = kv.split("=", 2);
        query.put(decode(p[0]), p.length > 1 ? decode(p[1]) : "");
      }
    }
    ds.setApplicationName("que-compat-java");
    for (Map.Entry<String, String> e : query.entrySet()) {
      switch (e.getKey()) {
        case "sslmode" -> ds.setSslMode(e.getValue());
        case "application_name" -> ds.setApplicationName(e.getValue());
        case "user" -> user = e.getValue();
        case "password" -> password = e.getValue();
        case "connect_timeout" -> ds.setConnectTimeout(Integer.parseInt(e.getValue()));
        default -> throw new UsageError("--url: unsupported parameter \"" + e.getKey() + "\"");
      }
    }
    String path = uri.getRawPath();
    String db = path == null || path.length() <= 1 ? user : decode(path.substring(1));
    ds.setDatabaseName(db);
    ds.setUser(user);
    if (password != null) {
      ds.setPassword(password);
    }
    return ds;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------ flags

  /** {@code --name value}, {@code --name=value} and bare switches; each flag at most once. */
  static final class Flags {
    private final Map<String, String> values = new HashMap<>();

    static Flags parse(String[] args, Set<String> valued, Set<String> switches) throws UsageError {
      Flags f = new Flags();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (!a.startsWith("--") || a.length() == 2) {
          throw new UsageError("unexpected argument \"" + a + "\"");
        }
        String name = a.substring(2);
        String inline = null;
        int eq = name.indexOf('=');
        if (eq >= 0) {
          inline = name.substring(eq + 1);
          name = name.substring(0, eq);
        }
        if (f.values.containsKey(name)) {
          throw new UsageError("--" + name + " given twice");
        }
        if (switches.contains(name)) {
          if (inline != null) {
            throw new UsageError("--" + name + " takes no value");
          }
          f.values.put(name, "true");
        } else if (valued.contains(name)) {
          if (inline == null) {
            if (i + 1 >= args.length) {
              throw new UsageError("--" + name + " needs a value");
            }
            inline = args[++i];
          }
          f.values.put(name, inline);
        } else {
          throw new UsageError("unknown flag --" + name);
        }
      }
      return f;
    }

    boolean has(String name) {
      return values.containsKey(name);
    }

    String get(String name) {
      return values.get(name);
    }

    boolean switchOn(String name) {
      return values.containsKey(name);
    }

    String required(String name) throws UsageError {
      String v = values.get(name);
      if (v == null || v.isEmpty()) {
        throw new UsageError("--" + name + " is required");
      }
      return v;
    }

    int integer(String name, int dflt, int min, int max) throws UsageError {
      String v = values.get(name);
      if (v == null) {
        return dflt;
      }
      int n;
      try {
        n = Integer.parseInt(v.trim());
      } catch (NumberFormatException e) {
        throw new UsageError("--" + name + " must be an integer, got \"" + v + "\"");
      }
      if (n < min || n > max) {
        throw new UsageError("--" + name + " must be between " + min + " and " + max + ", got " + n);
      }
      return n;
    }
  }
}
