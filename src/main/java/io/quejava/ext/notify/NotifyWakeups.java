package io.quejava.ext.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quejava.PoolExtension;
import io.quejava.QueException;
import io.quejava.WorkerPool;
import io.quejava.ext.ExtensionMigrator;
import io.quejava.internal.Args;
import io.quejava.internal.SchemaInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.OptionalInt;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes a {@link WorkerPool}'s idle workers the moment a job for its queue is inserted, by anyone
 * (Java, Ruby Que, que-go), instead of at the next poll. Polling stays as it was: this only ends
 * idle waits early.
 *
 * <pre>{@code
 * NotifyWakeups.install(dataSource);                     // once: the trigger on que_jobs
 * WorkerPool pool = WorkerPool.builder(client, work)
 *     .queue("billing")
 *     .extension(NotifyWakeups.create(dataSource))
 *     .build();
 * }</pre>
 *
 * <p><b>How.</b> {@link #install} adds the {@code notify} extension: an AFTER INSERT trigger on
 * {@code que_jobs} ({@code que_java_notify}) that sends {@code {"schema", "queue", "run_at", "id"}} on
 * a channel (default {@value #DEFAULT_CHANNEL}) for every job due later, and for a job due now only
 * while some pool of its queue asks to be woken. Each started instance keeps one connection of its
 * own that LISTENs on that channel and one thread that reads it with pgjdbc's
 * {@link PGConnection#getNotifications(int)}. A message for the pool's schema and queue whose run_at
 * has come calls {@link WorkerPool#wakeOne()}; one for later schedules a wake-up at its run_at (by
 * the database's clock, measured on the listening connection). Messages for other queues or schemas
 * are ignored.
 *
 * <p><b>Asking to be woken.</b> A NOTIFY makes its transaction commit one at a time with every other
 * notifying transaction, and a busy pool does not need it (its workers look again after each job).
 * So a pool asks for messages only while it has an idle worker ({@link WorkerPool#idleWorkers()}):
 * a second thread, on a second connection, holds the session-level advisory lock
 * {@code (-1364544078, que_java_notify_key(schema, queue))} in exclusive mode, or waits for it. For
 * a job due now the trigger tries that lock in shared mode for its transaction, without waiting: the
 * try fails exactly while a pool holds or waits for the lock, and then the job is announced. When the
 * try succeeds the inserting transaction keeps the shared lock until it ends, so a pool that starts
 * asking afterwards gets its lock only once that transaction is over, and then wakes a worker to
 * look: the job is found without a message. The pool stops asking {@link Builder#stopAskingAfter}
 * after its last idle worker got busy ({@link #isAsking()}).
 *
 * <p><b>Failures.</b> When the listening connection breaks (or stops answering the periodic health
 * check), the thread reconnects with exponential backoff and jitter, between
 * {@link Builder#minReconnectDelay} and {@link Builder#maxReconnectDelay}; after every LISTEN,
 * including the first, it wakes every worker ({@link WorkerPool#wakeAll()}), since notifications
 * sent while nobody listened are lost. Scheduled wake-ups survive reconnects.
 *
 * <p>The listening connection and the asking connection are held for the pool's lifetime: count
 * both when sizing a connection pool, and give them direct sessions (not PgBouncer in transaction
 * mode, which cannot LISTEN or keep a session lock). On {@link #stop()} they are aborted rather than
 * closed, so a pooling DataSource discards them instead of handing out a connection that still
 * LISTENs or holds the lock. When the asking connection fails it is opened again with the same
 * backoff; meanwhile the pool does not ask, and finds jobs by polling.
 */
public final class NotifyWakeups implements PoolExtension {
  private static final Logger log = LoggerFactory.getLogger(NotifyWakeups.class);

  /** The extension's name: its SQL is under {@code migrations/ext/notify/}. */
  public static final String EXTENSION = "notify";
  /** The channel {@link #install(DataSource)} uses: {@value}. */
  public static final String DEFAULT_CHANNEL = "que_java_jobs";
  /** Default {@link Builder#minReconnectDelay}: 100 ms. */
  public static final Duration DEFAULT_MIN_RECONNECT_DELAY = Duration.ofMillis(100);
  /** Default {@link Builder#maxReconnectDelay}: 10 s. */
  public static final Duration DEFAULT_MAX_RECONNECT_DELAY = Duration.ofSeconds(10);
  /** Default {@link Builder#healthCheckInterval}: 30 s. */
  public static final Duration DEFAULT_HEALTH_CHECK_INTERVAL = Duration.ofSeconds(30);
  /** Default {@link Builder#maxScheduledWakes}: {@value}. */
  public static final int DEFAULT_MAX_SCHEDULED_WAKES = 10_000;
  /** Default {@link Builder#followUpWake}: 50 ms. */
  public static final Duration DEFAULT_FOLLOW_UP_WAKE = Duration.ofMillis(50);
  /** Default {@link Builder#stopAskingAfter}: 100 ms. */
  public static final Duration DEFAULT_STOP_ASKING_AFTER = Duration.ofMillis(100);

  /**
   * The first key of the two-key advisory lock a pool holds while it asks to be woken (the second
   * is {@code que_java_notify_key(schema, queue)}); see {@code migrations/ext/notify/2.up.sql}.
   * Negative, so that Que's job_stats and worker_states decode it as a job id no job has.
   */
  static final int WAKE_LOCK_SPACE = -1364544078;

  /** The trigger's name on que_jobs; Que's own are que_job_notify and que_state_notify. */
  static final String TRIGGER = "que_java_notify";

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final DataSource dataSource;
  private final Duration minReconnectDelay;
  private final Duration maxReconnectDelay;
  private final Duration healthCheckInterval;
  private final long stopAskingNanos;
  /** When to wake the pool (no I/O); only the listener thread touches it. */
  private final WakeScheduler wakes;

  private final AtomicLong notifications = new AtomicLong();
  private final AtomicLong wakeups = new AtomicLong();
  private final AtomicLong reconnects = new AtomicLong();

  private WorkerPool pool;
  private java.util.Set<String> queues = java.util.Set.of();
  private Thread thread;
  private volatile boolean running;
  private volatile boolean listening;
  private volatile Connection connection;
  private volatile int backendPid;
  private volatile String channel;
  private volatile String schema;
  /** A connection opened and listening by {@link #start}, handed to the thread. */
  private Connection handover;

  /** The thread that asks for wake-ups (holds the wake lock) while the pool has idle workers. */
  private Thread asker;
  /** The asking thread's connection, which holds the wake lock; only that thread uses it. */
  private volatile Connection askConnection;
  private volatile int askPid;
  /** The second keys of the wake locks, one per queue of the pool, read on the asking connection. */
  private int[] askKeys = new int[0];
  /** True while the asking connection holds the wake lock. */
  private volatile boolean asking;
  private final AtomicLong asks = new AtomicLong();

  private NotifyWakeups(Builder b) {
    this.dataSource = b.dataSource;
    this.minReconnectDelay = b.minReconnectDelay;
    this.maxReconnectDelay = b.maxReconnectDelay;
    this.healthCheckInterval = b.healthCheckInterval;
    this.wakes = new WakeScheduler(b.maxScheduledWakes, b.followUpWake);
    this.stopAskingNanos = b.stopAskingAfter.toNanos();
  }

  /**
   * Installs (or brings up to date) the {@code notify} extension in the schema the data source's
   * connections resolve {@code que_jobs} in, with the default channel {@value #DEFAULT_CHANNEL}.
   * Idempotent. Returns the channel.
   */
  public static String install(DataSource dataSource) {
    return install(dataSource, DEFAULT_CHANNEL);
  }

  /**
   * Installs (or brings up to date) the {@code notify} extension with the trigger sending on
   * {@code channel} (a plain identifier: letters, digits and {@code _}, at most 63 characters, not
   * starting with a digit). Idempotent: also puts right a trigger left on another channel, or one
   * made before que_jobs moved between schema 3 and 4. Returns the channel.
   *
   * @throws IllegalArgumentException when the channel is not a plain identifier
   * @throws QueException when there is no que_jobs table, or the database fails
   */
  public static String install(DataSource dataSource, String channel) {
    Args.notNull(dataSource, "dataSource");
    checkChannel(channel);
    ExtensionMigrator.create(dataSource, EXTENSION).migrate();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT que_java_notify_install(to_regclass('que_jobs'), ?)")) {
      ps.setString(1, channel);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    } catch (SQLException e) {
      throw new QueException("installing the notify trigger failed: " + e.getMessage(), e);
    }
  }

  /** Removes the extension: the trigger and its functions. que_jobs is left exactly as before. */
  public static void uninstall(DataSource dataSource) {
    ExtensionMigrator.create(Args.notNull(dataSource, "dataSource"), EXTENSION).migrateTo(0);
  }

  /** A listener with the default settings, for {@link WorkerPool.Builder#extension}. */
  public static NotifyWakeups create(DataSource dataSource) {
    return builder(dataSource).build();
  }

  /** A builder for a listener whose connections come from {@code dataSource}. */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  private static void checkChannel(String channel) {
    if (channel == null || !IDENTIFIER.matcher(channel).matches()) {
      throw new IllegalArgumentException("channel: '" + channel
          + "' is not a plain identifier (letters, digits, _; at most 63; not starting with a digit)");
    }
  }

  /**
   * Checks the installation and starts listening: the first LISTEN happens before this returns when
   * the database answers (otherwise the thread keeps trying in the background).
   *
   * @throws QueException when the extension is not installed for the pool's que_jobs
   * @throws IllegalStateException when this instance was already started
   */
  @Override
  public synchronized void start(WorkerPool pool) {
    if (this.pool != null) {
      throw new IllegalStateException("this NotifyWakeups was already started; create one per pool");
    }
    this.pool = Args.notNull(pool, "pool");
    this.queues = java.util.Set.copyOf(pool.queues());
    running = true;
    Connection c = null;
    try {
      c = connect();
      handover = c;
    } catch (SQLException e) {
      closeQuietly(c);
      log.warn("pool '{}': cannot listen for new jobs yet ({}); retrying in the background, polling meanwhile",
          pool.name(), e.getMessage());
    } catch (RuntimeException e) {
      closeQuietly(c);
      running = false;
      throw e;
    }
    thread = new Thread(this::run, "que-notify-" + pool.name());
    thread.setDaemon(true);
    thread.start();
    asker = new Thread(this::ask, "que-notify-ask-" + pool.name());
    asker.setDaemon(true);
    asker.start();
  }

  /** A worker of the pool went idle, or the last idle one got busy: the asking thread looks. */
  @Override
  public void idleWorkersChanged(int idleWorkers) {
    Thread t = asker;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  /** Stops listening: aborts the listening connection and ends the thread. Idempotent. */
  @Override
  public void stop() {
    Thread t;
    Thread a;
    synchronized (this) {
      if (!running) {
        return;
      }
      running = false;
      t = thread;
      a = asker;
    }
    abortQuietly(connection);
    abortQuietly(askConnection);
    for (Thread x : new Thread[] {t, a}) {
      if (x != null) {
        LockSupport.unpark(x);
        try {
          x.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    listening = false;
    asking = false;
  }

  /**
   * Whether the listening connection hands over each notification as soon as it arrives: pgjdbc
   * otherwise holds every one for a 1 ms socket read (see NotificationPeek). Test and log seam.
   */
  boolean fastReceive() {
    return fastReceive;
  }

  private volatile boolean fastReceive;

  /** True while a connection LISTENs (false during a reconnect, and before start or after stop). */
  public boolean isListening() {
    return listening;
  }

  /** {@code pg_backend_pid()} of the listening session, or empty while none listens. */
  public OptionalInt listenerPid() {
    int pid = backendPid;
    return listening && pid != 0 ? OptionalInt.of(pid) : OptionalInt.empty();
  }

  /** The channel listened on (read from the installed trigger), or null before the first LISTEN. */
  public String channel() {
    return channel;
  }

  /** Notifications received on the channel, for every queue and schema. */
  public long notificationsReceived() {
    return notifications.get();
  }

  /** Wake-ups sent to the pool: for jobs due now, at a scheduled run_at, and after each LISTEN. */
  public long wakeups() {
    return wakeups.get();
  }

  /** Times the listening connection was lost and opened again. */
  public long reconnects() {
    return reconnects.get();
  }

  /**
   * True while this pool asks to be woken: it holds the wake lock of its queue, so every insert of a
   * job due now into that queue sends a NOTIFY. It asks while it has an idle worker, and stops
   * {@link Builder#stopAskingAfter} after its last idle worker got busy.
   */
  public boolean isAsking() {
    return asking;
  }

  /** Times this pool took the wake lock (started asking to be woken). */
  public long asks() {
    return asks.get();
  }

  /** {@code pg_backend_pid()} of the session that holds (or waits for) the wake lock, or empty. */
  public OptionalInt askerPid() {
    int pid = askPid;
    return askConnection != null && pid != 0 ? OptionalInt.of(pid) : OptionalInt.empty();
  }

  @Override
  public String toString() {
    return "NotifyWakeups{channel=" + channel + ", queues=" + queues + ", listening=" + listening + "}";
  }

  // ---------------------------------------------------------------------------------------------
  // The asking thread: holds the wake lock while the pool has an idle worker.

  /**
   * Takes the wake lock (waiting for it: inserts that probed before us must end first, and any
   * insert that probes while we wait sees our request and notifies) when the pool has an idle
   * worker, then wakes one worker to look for work: the jobs of inserts that ended while we waited
   * were announced to nobody. Releases the lock once the pool has had no idle worker for
   * {@link Builder#stopAskingAfter}. A pool that got busy while it waited keeps waiting (a wait is
   * long only behind another pool asking on the queue, or behind a transaction that inserted a job
   * and stays open) and lets go once it has the lock. Runs until {@link #stop()}.
   */
  private void ask() {
    long delay = minReconnectDelay.toNanos();
    long busySince = 0;
    long checked = System.nanoTime();
    while (running) {
      try {
        long now = System.nanoTime();
        boolean idle = pool.idleWorkers() > 0;
        if (idle) {
          busySince = 0;
        } else if (busySince == 0) {
          busySince = now;
        }
        boolean want = idle || (asking && now - busySince < stopAskingNanos);
        if (want && !asking) {
          Connection c = askConnection();
          if (takeWakeLock(c)) {
            asking = true;
            asks.incrementAndGet();
            checked = System.nanoTime();
            pool.wakeOne();
          }
          delay = minReconnectDelay.toNanos();
          continue;
        }
        if (!want && asking) {
          releaseWakeLock(askConnection);
          asking = false;
          continue;
        }
        if (asking && now - checked >= healthCheckInterval.toNanos()) {
          // The lock lives as long as the session: prove the session is still there.
          try (Statement st = askConnection.createStatement()) {
            st.execute("SELECT 1");
          }
          checked = System.nanoTime();
          continue;
        }
        long park = healthCheckInterval.toNanos() - (now - checked);
        if (asking && !idle) {
          park = Math.min(park, stopAskingNanos - (now - busySince));
        }
        LockSupport.parkNanos(this, Math.max(1, park));
      } catch (SQLException | RuntimeException e) {
        boolean was = asking;
        asking = false;
        Connection c = askConnection;
        askConnection = null;
        abortQuietly(c);
        if (!running) {
          break;
        }
        log.warn("pool '{}': the connection that asks for wake-ups failed ({}){}; trying again in about {} ms",
            pool.name(), e.getMessage(), was ? ", inserts no longer announce jobs meanwhile" : "",
            TimeUnit.NANOSECONDS.toMillis(delay));
        long end = System.nanoTime() + delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
        while (running && end - System.nanoTime() > 0) {
          LockSupport.parkNanos(this, end - System.nanoTime());
        }
        delay = Math.min(delay * 2, maxReconnectDelay.toNanos());
      }
    }
    Connection c = askConnection;
    askConnection = null;
    abortQuietly(c);
    asking = false;
  }

  /** The asking connection, opened on first use, with the wake lock's key read. */
  private Connection askConnection() throws SQLException {
    Connection c = askConnection;
    if (c != null) {
      return c;
    }
    c = dataSource.getConnection();
    try {
      c.setAutoCommit(true);
      String jobsSchema;
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT n.nspname, pg_backend_pid() FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace"
              + " WHERE k.oid = to_regclass('que_jobs')")) {
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw new QueException("there is no que_jobs table on the connection's search_path");
          }
          jobsSchema = rs.getString(1);
          askPid = rs.getInt(2);
        }
      }
      String quoted = "\"" + jobsSchema.replace("\"", "\"\"") + "\"";
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT to_regprocedure(format('%I.que_java_notify_key(text, text)', ?::text)) IS NOT NULL")) {
        ps.setString(1, jobsSchema);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (!rs.getBoolean(1)) {
            throw new QueException("the notify extension in " + jobsSchema + " is older than this release"
                + " (every insert notifies): call NotifyWakeups.install(dataSource) to bring it up to date");
          }
        }
      }
      // One wake lock per queue of the pool (a pool over several queues asks on each).
      java.util.List<String> poolQueues = pool.queues();
      int[] keys = new int[poolQueues.size()];
      try (PreparedStatement ps = c.prepareStatement("SELECT " + quoted + ".que_java_notify_key(?, ?)")) {
        for (int i = 0; i < keys.length; i++) {
          ps.setString(1, jobsSchema);
          ps.setString(2, poolQueues.get(i));
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            keys[i] = rs.getInt(1);
          }
        }
      }
      askKeys = keys;
      try (Statement st = c.createStatement()) {
        // Wait for the wake lock as long as it takes (inserts that took the shared lock before us
        // must end, or another pool asking on this queue must stop): while we wait, every insert
        // into the queue notifies, so nothing is lost, and stop() aborts the wait.
        st.execute("SET lock_timeout = 0");
      }
      askConnection = c;
      if (!running) {
        abortQuietly(c);
      }
      return c;
    } catch (SQLException | RuntimeException e) {
      closeQuietly(c);
      throw e;
    }
  }

  /**
   * Waits for the wake lock; false when a lock_timeout ended the wait (only if something changed
   * the session's setting: the loop then asks again if the pool still has an idle worker).
   */
  private boolean takeWakeLock(Connection c) throws SQLException {
    int taken = 0;
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_lock(?, ?)")) {
      for (int key : askKeys) {
        ps.setInt(1, WAKE_LOCK_SPACE);
        ps.setInt(2, key);
        ps.execute();
        taken++;
      }
      return true;
    } catch (SQLException e) {
      if ("55P03".equals(e.getSQLState())) {
        unlockFirst(c, taken); // try again later for all of them
        return false;
      }
      throw e;
    }
  }

  private void unlockFirst(Connection c, int n) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?, ?)")) {
      for (int i = 0; i < n; i++) {
        ps.setInt(1, WAKE_LOCK_SPACE);
        ps.setInt(2, askKeys[i]);
        ps.execute();
      }
    }
  }

  private void releaseWakeLock(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?, ?)")) {
      for (int key : askKeys) {
        ps.setInt(1, WAKE_LOCK_SPACE);
        ps.setInt(2, key);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next() && !rs.getBoolean(1)) {
            log.warn("pool '{}': a wake lock was not held at release", pool.name());
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The listener thread.

  private void run() {
    long delay = minReconnectDelay.toNanos();
    boolean first = true;
    while (running) {
      Connection c = handover;
      handover = null;
      try {
        if (c == null) {
          c = connect();
        }
        connection = c;
        if (!running) {
          break;
        }
        listening = true;
        if (!first) {
          reconnects.incrementAndGet();
          log.info("pool '{}': listening on {} again (backend {}); waking every worker for what was missed",
              pool.name(), channel, backendPid);
        } else {
          log.debug("pool '{}': listening on {} (backend {})", pool.name(), channel, backendPid);
        }
        first = false;
        delay = minReconnectDelay.toNanos();
        wakeAll();
        listen(c);
      } catch (SQLException | RuntimeException e) {
        if (running) {
          log.warn("pool '{}': the connection listening on {} failed ({}); reconnecting in about {} ms, polling meanwhile",
              pool.name(), channel, e.getMessage(), TimeUnit.NANOSECONDS.toMillis(delay));
        }
      } finally {
        listening = false;
        connection = null;
        closeQuietly(c);
      }
      if (!running) {
        break;
      }
      pause(delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1));
      delay = Math.min(delay * 2, maxReconnectDelay.toNanos());
    }
    listening = false;
  }

  /** Opens a connection, checks the installation, measures the clock, and LISTENs. */
  private Connection connect() throws SQLException {
    Connection c = dataSource.getConnection();
    try {
      c.setAutoCommit(true);
      readInstallation(c);
      measureClock(c);
      try (Statement st = c.createStatement()) {
        st.execute("LISTEN \"" + channel + "\"");
      }
      c.unwrap(PGConnection.class);  // fail here, not in the loop, if the driver is not pgjdbc
      fastReceive = NotificationPeek.skipTimedPeek(c);
      return c;
    } catch (SQLException | RuntimeException e) {
      closeQuietly(c);
      throw e;
    }
  }

  /**
   * Reads the channel and schema from the installed trigger. Missing on the first connection is a
   * configuration error; missing later (uninstalled while running) keeps the last known channel.
   */
  private void readInstallation(Connection c) throws SQLException {
    String sql = """
        SELECT n.nspname, encode(t.tgargs, 'escape'), %s, pg_backend_pid()
        FROM (SELECT to_regclass('que_jobs') AS oid) r
        LEFT JOIN pg_class k ON k.oid = r.oid
        LEFT JOIN pg_namespace n ON n.oid = k.relnamespace
        LEFT JOIN pg_trigger t ON t.tgrelid = r.oid AND t.tgname = ?""".formatted(SchemaInfo.idColumnProbe("r.oid"));
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, TRIGGER);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        String foundSchema = rs.getString(1);
        String args = rs.getString(2);
        String idColumn = rs.getString(3);
        backendPid = rs.getInt(4);
        if (foundSchema == null) {
          throw new QueException("there is no que_jobs table on the connection's search_path");
        }
        if (args == null) {
          if (channel == null) {
            throw new QueException("the notify extension is not installed for " + foundSchema
                + ".que_jobs: call NotifyWakeups.install(dataSource) first");
          }
          log.warn("pool '{}': the notify trigger is gone from {}.que_jobs; still listening on {}",
              pool.name(), foundSchema, channel);
          schema = foundSchema;
          return;
        }
        String[] parts = args.split("\\\\000", -1);
        if (parts.length < 2 || !IDENTIFIER.matcher(parts[0]).matches()) {
          throw new QueException("the notify trigger on " + foundSchema + ".que_jobs has unexpected arguments: " + args);
        }
        if (!parts[1].equals(idColumn)) {
          log.warn("pool '{}': the notify trigger on {}.que_jobs names column {} but the table has {} (it moved"
              + " between schema 3 and 4): its messages carry no queue, so every pool wakes; run"
              + " NotifyWakeups.install(dataSource) again", pool.name(), foundSchema, parts[1], idColumn);
        }
        schema = foundSchema;
        channel = parts[0];
      }
    }
  }

  private void measureClock(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT clock_timestamp()")) {
      long before = System.nanoTime();
      Instant jvmBefore = Instant.now();
      OffsetDateTime db;
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        db = rs.getObject(1, OffsetDateTime.class);
      }
      long rtt = System.nanoTime() - before;
      Instant jvmMid = jvmBefore.plusNanos(rtt / 2);
      wakes.clock(Duration.between(jvmMid, db.toInstant()).toNanos(), rtt / 2);
    }
  }

  /** Reads notifications until stop; returns only when stopping, throws when the connection fails. */
  private void listen(Connection c) throws SQLException {
    PGConnection pg = c.unwrap(PGConnection.class);
    long checkEvery = healthCheckInterval.toNanos();
    long lastHeard = System.nanoTime();
    while (running) {
      long now = System.nanoTime();
      fireDue(now);
      long until = wakes.nextDeadline(lastHeard + checkEvery);
      int waitMs = (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(until - now + 999_999)));
      PGNotification[] received = pg.getNotifications(waitMs);
      now = System.nanoTime();
      if (received != null && received.length > 0) {
        lastHeard = now;
        handle(received, now);
      } else if (now - lastHeard >= checkEvery) {
        // No traffic for a while: prove the session is alive (a silently dropped connection would
        // otherwise look like a quiet queue), and read the clock again while at it.
        measureClock(c);
        lastHeard = System.nanoTime();
      }
    }
  }

  private void handle(PGNotification[] received, long now) {
    boolean wake = false;
    for (PGNotification n : received) {
      if (!n.getName().equals(channel)) {
        continue;
      }
      notifications.incrementAndGet();
      Message m = Message.parse(n.getParameter());
      if (m == null) {
        log.debug("pool '{}': unreadable message on {}: {}", pool.name(), channel, n.getParameter());
        continue;
      }
      if (m.schema() != null && !m.schema().equals(schema)) {
        continue;
      }
      if (m.queue() != null && !queues.contains(m.queue())) {
        continue;
      }
      wake |= wakes.announced(m.runAt(), now, Instant.now());
    }
    if (wake) {
      wakeOne();
      // WorkerPool.wakeOne() wakes an idle worker only. A worker in the middle of a walk that
      // started before this job committed is not idle, misses the job, and then sleeps a whole wake
      // interval; the follow-up wake a moment later reaches it once it sleeps.
      wakes.woke(now);
    }
  }

  private void fireDue(long now) {
    if (wakes.takeDue(now)) {
      wakeOne();
    }
  }

  /** Waits out a reconnect delay, still firing the scheduled wake-ups that fall due meanwhile. */
  private void pause(long nanos) {
    long end = System.nanoTime() + nanos;
    while (running) {
      long now = System.nanoTime();
      fireDue(now);
      if (now - end >= 0) {
        return;
      }
      long until = wakes.nextDeadline(end);
      LockSupport.parkNanos(Math.max(1, until - now));
    }
  }

  private void wakeOne() {
    wakeups.incrementAndGet();
    pool.wakeOne();
  }

  private void wakeAll() {
    wakeups.incrementAndGet();
    pool.wakeAll();
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException | RuntimeException ignored) {
        // the connection is being discarded
      }
    }
  }

  /** Ends the session at once (unblocking a read in progress); a pool then discards the connection. */
  private static void abortQuietly(Connection c) {
    if (c == null) {
      return;
    }
    try {
      Connection physical = c.isWrapperFor(PGConnection.class) ? (Connection) c.unwrap(PGConnection.class) : c;
      physical.abort(Runnable::run);
    } catch (SQLException | RuntimeException e) {
      log.debug("aborting the listening connection failed: {}", e.toString());
    }
  }

  /** One decoded payload; null fields mean "any" (queue, schema) or "now" (run_at). */
  record Message(String schema, String queue, Instant runAt) {
    static Message parse(String payload) {
      if (payload == null || payload.isEmpty()) {
        return null;
      }
      try {
        JsonNode node = JSON.readTree(payload);
        if (node == null || !node.isObject()) {
          return null;
        }
        JsonNode s = node.get("schema");
        JsonNode q = node.get("queue");
        JsonNode r = node.get("run_at");
        Instant runAt = r != null && r.isTextual() ? OffsetDateTime.parse(r.asText()).toInstant() : null;
        return new Message(s != null && s.isTextual() ? s.asText() : null,
            q != null && q.isTextual() ? q.asText() : null, runAt);
      } catch (java.io.IOException | DateTimeParseException e) {
        return null;
      }
    }
  }

  /** Settings for a {@link NotifyWakeups}; {@link #build()} returns an unstarted listener. */
  public static final class Builder {
    private final DataSource dataSource;
    private Duration minReconnectDelay = DEFAULT_MIN_RECONNECT_DELAY;
    private Duration maxReconnectDelay = DEFAULT_MAX_RECONNECT_DELAY;
    private Duration healthCheckInterval = DEFAULT_HEALTH_CHECK_INTERVAL;
    private int maxScheduledWakes = DEFAULT_MAX_SCHEDULED_WAKES;
    private Duration followUpWake = DEFAULT_FOLLOW_UP_WAKE;
    private Duration stopAskingAfter = DEFAULT_STOP_ASKING_AFTER;

    private Builder(DataSource dataSource) {
      this.dataSource = Args.notNull(dataSource, "dataSource");
    }

    /**
     * The first wait before reconnecting after the listening connection failed; it doubles (with
     * jitter) up to {@link #maxReconnectDelay}. Default: 100 ms. At least 1 ms.
     */
    public Builder minReconnectDelay(Duration delay) {
      this.minReconnectDelay = positive("minReconnectDelay", delay);
      return this;
    }

    /** The longest wait between reconnect attempts. Default: 10 s. At least the minimum. */
    public Builder maxReconnectDelay(Duration delay) {
      this.maxReconnectDelay = positive("maxReconnectDelay", delay);
      return this;
    }

    /**
     * After this long without a notification the listener runs one query on its connection, so
     * that a silently dropped connection is noticed and replaced. Default: 30 s. At least 10 ms.
     */
    public Builder healthCheckInterval(Duration interval) {
      Duration d = positive("healthCheckInterval", interval);
      if (d.compareTo(Duration.ofMillis(10)) < 0) {
        throw new IllegalArgumentException("healthCheckInterval: must be at least 10 ms, got " + d);
      }
      this.healthCheckInterval = d;
      return this;
    }

    /**
     * The most wake-ups kept for jobs due later; past it the latest are dropped and those jobs are
     * found by polling. Default: {@value NotifyWakeups#DEFAULT_MAX_SCHEDULED_WAKES}. 0 schedules none.
     */
    public Builder maxScheduledWakes(int count) {
      if (count < 0) {
        throw new IllegalArgumentException("maxScheduledWakes: must be zero or more, got " + count);
      }
      this.maxScheduledWakes = count;
      return this;
    }

    /**
     * A second wake-up this long after each burst of messages for jobs due now, for a worker that
     * was in the middle of a lock walk when the message came (it cannot see the job, and
     * {@link WorkerPool#wakeOne()} only wakes idle workers). Costs at most one extra walk per this
     * interval. Default: 50 ms. Zero turns it off.
     */
    public Builder followUpWake(Duration delay) {
      if (delay == null || delay.isNegative() || delay.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException("followUpWake: must be zero to 10 s, got " + delay);
      }
      this.followUpWake = delay;
      return this;
    }

    /**
     * How long the pool keeps asking to be woken after its last idle worker got busy. While it
     * asks, every insert of a job due now into its queue sends a NOTIFY; a busy pool does not need
     * them (its workers look again right after each job), so it stops asking, but not at once: a
     * pool that turns idle and busy many times a second would otherwise take and release its lock
     * as often. Default: 100 ms. Zero to 10 s.
     */
    public Builder stopAskingAfter(Duration delay) {
      if (delay == null || delay.isNegative() || delay.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException("stopAskingAfter: must be zero to 10 s, got " + delay);
      }
      this.stopAskingAfter = delay;
      return this;
    }

    /** An unstarted listener; give it to {@link WorkerPool.Builder#extension}. */
    public NotifyWakeups build() {
      if (maxReconnectDelay.compareTo(minReconnectDelay) < 0) {
        throw new IllegalArgumentException("maxReconnectDelay: must be at least minReconnectDelay ("
            + minReconnectDelay + "), got " + maxReconnectDelay);
      }
      return new NotifyWakeups(this);
    }

    private static Duration positive(String name, Duration d) {
      if (d == null) {
        throw new IllegalArgumentException(name + ": must not be null");
      }
      if (d.compareTo(Duration.ofMillis(1)) < 0) {
        throw new IllegalArgumentException(name + ": must be at least 1 ms, got " + d);
      }
      return d;
    }
  }
}
