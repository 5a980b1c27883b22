package io.quejava.ext.heartbeat;

import io.quejava.Job;
import io.quejava.JobContext;
import io.quejava.JobInterceptor;
import io.quejava.PoolExtension;
import io.quejava.RunningJob;
import io.quejava.WorkerPool;
import io.quejava.ext.ExtensionMigrator;
import io.quejava.internal.Args;
import io.quejava.internal.JobLocks;
import io.quejava.internal.Params;
import java.net.InetAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Heartbeats of the jobs a pool is running: a row in {@code que_heartbeats} per running job (which
 * worker, host, OS pid, the backend holding the lock, start, last beat, progress, timeout), written
 * when the job starts, refreshed every {@link Builder#interval interval} and deleted when it ends.
 * {@link InFlight} reads them (with the advisory locks of Ruby and Go workers) to tell hung jobs
 * from long ones; {@link Rescuer} can end the session of a hung Java worker.
 *
 * <pre>{@code
 * Heartbeats.install(dataSource);                          // once, like a migration
 * Heartbeats beats = Heartbeats.create(dataSource);
 * WorkerPool pool = WorkerPool.builder(client, work)
 *     .interceptor(beats)                                  // sees each job start and end
 *     .extension(beats)                                    // the writer: one thread, one connection
 *     .build();
 * }</pre>
 *
 * <p>One instance serves one pool, registered as both its interceptor and its extension. The
 * interceptor only records each attempt in memory (the worker's thread never waits for the
 * database); the writer thread turns what changed into one statement: rows for attempts that
 * started, deletes for attempts that ended, and, once per interval, one {@code UPDATE ... FROM
 * unnest(...)} of {@code last_beat = now()} and the progress each job reported
 * ({@link JobContext#progress(int)}) for all the others. An attempt that starts and ends between two
 * writes is never written. With {@link Builder#writeDelay} jobs shorter than it never touch the
 * database.
 *
 * <p>When the pool shuts down, the writer keeps beating the jobs still running until they end (so
 * a graceful shutdown never looks like a hang), then deletes their rows and stops. Rows a crashed
 * process left behind (their session is gone, so no lock matches) are deleted by any writer after
 * three of their intervals. If the writer's connection fails, it reconnects after a pause; the rows
 * go stale meanwhile, which {@link InFlight} reports as hung: that is what a stalled writer looks
 * like, and why {@link Rescuer} is opt-in.
 */
public final class Heartbeats implements JobInterceptor, PoolExtension {
  private static final Logger log = LoggerFactory.getLogger(Heartbeats.class);

  /** The extension's name: its SQL is under {@code migrations/ext/heartbeat/}. */
  public static final String EXTENSION = "heartbeat";
  /** Default {@link Builder#interval}: 5 s. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
  /** Default {@link Builder#writeDelay}: zero (a job's row is written as soon as the writer can). */
  public static final Duration DEFAULT_WRITE_DELAY = Duration.ZERO;
  /** Beats between two sweeps of rows that crashed processes left behind. */
  private static final int SWEEP_EVERY = 12;

  /**
   * One write of the writer thread, in three parts, each bound as its own group of parameters (see
   * {@link #write}): {@code ended}, the attempts whose rows go; {@code started}, this process
   * ({@code p}) and the attempts whose rows are new; {@code beating}, the attempts whose rows get
   * {@code last_beat = now()} and their progress. Attempts come as parallel arrays, one a column.
   */
  private static final String WRITE = """
      WITH ended AS (
        DELETE FROM que_heartbeats h
        USING unnest(?::bigint[], ?::integer[]) AS e(job_id, backend_pid)
        WHERE h.job_id = e.job_id AND h.backend_pid = e.backend_pid
      ), started AS (
        INSERT INTO que_heartbeats (job_id, backend_pid, queue, job_class, worker_name, host, os_pid,
                                    started_at, last_beat, beat_interval, progress, timeout)
        SELECT s.job_id, s.backend_pid, s.queue, s.job_class, s.worker_name, p.host, p.os_pid,
               s.started_at::timestamptz, now(), p.beat_interval, s.progress, s.timeout_us * interval '1 microsecond'
        FROM (SELECT ?::text AS host, ?::bigint AS os_pid, ?::bigint * interval '1 microsecond' AS beat_interval) p,
             unnest(?::bigint[], ?::integer[], ?::text[], ?::text[], ?::text[], ?::text[], ?::smallint[], ?::bigint[])
               AS s(job_id, backend_pid, queue, job_class, worker_name, started_at, progress, timeout_us)
        ON CONFLICT (job_id, backend_pid) DO UPDATE
          SET queue = excluded.queue, job_class = excluded.job_class, worker_name = excluded.worker_name,
              host = excluded.host, os_pid = excluded.os_pid, started_at = excluded.started_at,
              last_beat = excluded.last_beat, beat_interval = excluded.beat_interval,
              progress = excluded.progress, timeout = excluded.timeout
      )
      UPDATE que_heartbeats h  -- beating
      SET last_beat = now(), progress = b.progress, timeout = b.timeout_us * interval '1 microsecond'
      FROM unnest(?::bigint[], ?::integer[], ?::smallint[], ?::bigint[]) AS b(job_id, backend_pid, progress, timeout_us)
      WHERE h.job_id = b.job_id AND h.backend_pid = b.backend_pid""";

  /** Rows whose attempt no session holds any more (a crashed process), once they are stale. */
  static final String SWEEP = """
      DELETE FROM que_heartbeats h
      WHERE h.last_beat < now() - 3 * h.beat_interval
        AND NOT %s""".formatted(JobLocks.heldBy("h.backend_pid", "h.job_id"));

  private final DataSource dataSource;
  private final Duration interval;
  private final Duration writeDelay;

  private final Set<Attempt> attempts = ConcurrentHashMap.newKeySet();
  private final Semaphore changed = new Semaphore(0);
  private final AtomicLong writes = new AtomicLong();
  private volatile boolean started;
  private volatile boolean stopping;
  private volatile Thread writer;
  private volatile boolean warnedUnstarted;
  private String poolName = "?";

  private Heartbeats(Builder b) {
    this.dataSource = b.dataSource;
    this.interval = b.interval;
    this.writeDelay = b.writeDelay;
  }

  /** Installs (or brings up to date) the {@code heartbeat} extension's table. Idempotent; returns the version. */
  public static int install(DataSource dataSource) {
    return ExtensionMigrator.create(Args.notNull(dataSource, "dataSource"), EXTENSION).migrate();
  }

  /** Removes the extension's table. que_jobs is not touched. */
  public static void uninstall(DataSource dataSource) {
    ExtensionMigrator.create(Args.notNull(dataSource, "dataSource"), EXTENSION).migrateTo(0);
  }

  /** Heartbeats every 5 s ({@link #DEFAULT_INTERVAL}), written through {@code dataSource}. */
  public static Heartbeats create(DataSource dataSource) {
    return builder(dataSource).build();
  }

  /** A builder for heartbeats written through {@code dataSource}. */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** The beat interval. */
  public Duration interval() {
    return interval;
  }

  /** Jobs of this pool running now (as the interceptor saw them start and not yet end). */
  public int running() {
    int n = 0;
    for (Attempt a : attempts) {
      if (!a.ended) {
        n++;
      }
    }
    return n;
  }

  /** Statements the writer has run (test and monitoring seam). */
  public long writes() {
    return writes.get();
  }

  @Override
  public void intercept(RunningJob locked, Chain next) throws Exception {
    if (!started && !warnedUnstarted) {
      warnedUnstarted = true;
      log.warn("Heartbeats is an interceptor of this pool but not one of its extensions (or it stopped):"
          + " nothing is written; add it with WorkerPool.Builder.extension too");
    }
    Attempt a = new Attempt(locked.job(), locked.context());
    attempts.add(a);
    changed.release();
    try {
      next.proceed();
    } finally {
      a.ended = true;
      changed.release();
    }
  }

  /** Starts the writer thread. */
  @Override
  public synchronized void start(WorkerPool pool) {
    if (started || writer != null) {
      throw new IllegalStateException("this Heartbeats was already started; create one per pool");
    }
    poolName = pool.name();
    started = true;
    Thread t = new Thread(this::run, "que-heartbeat-" + pool.name());
    t.setDaemon(true);
    writer = t;
    t.start();
  }

  /**
   * Lets the writer finish: it keeps beating the jobs still running and deletes each row as its job
   * ends, then stops. Returns at once.
   */
  @Override
  public void stop() {
    stopping = true;
    changed.release();
  }

  /** Waits up to {@code timeout} for the writer to finish after {@link #stop()}; true when it did. */
  public boolean awaitStopped(Duration timeout) throws InterruptedException {
    Thread t = writer;
    if (t == null) {
      return true;
    }
    t.join(Math.max(1, timeout.toMillis()));
    return !t.isAlive();
  }

  @Override
  public String toString() {
    return "Heartbeats{interval=" + interval + ", running=" + running() + "}";
  }

  // ---------------------------------------------------------------------------------------------
  // The writer thread.

  private void run() {
    String host = hostName();
    long osPid = ProcessHandle.current().pid();
    long intervalNanos = interval.toNanos();
    long delayNanos = writeDelay.toNanos();
    long nextBeat = System.nanoTime() + intervalNanos;
    int beats = 0;
    boolean sweep = true;
    Connection c = null;
    try {
      while (true) {
        long now = System.nanoTime();
        List<Attempt> starts = new ArrayList<>();
        List<Attempt> ends = new ArrayList<>();
        List<Attempt> beating = new ArrayList<>();
        boolean beat = now - nextBeat >= 0;
        long nextStart = Long.MAX_VALUE;
        for (Attempt a : attempts) {
          if (a.ended) {
            if (a.written) {
              ends.add(a);
            } else {
              attempts.remove(a); // started and ended between two writes: never written
            }
          } else if (!a.written) {
            long due = a.startedNanos + delayNanos;
            if (due - now <= 0) {
              starts.add(a);
            } else {
              nextStart = Math.min(nextStart, due);
            }
          } else if (beat) {
            beating.add(a);
          }
        }
        if (stopping && attempts.isEmpty()) {
          break;
        }
        if (!starts.isEmpty() || !ends.isEmpty() || !beating.isEmpty() || (beat && sweep)) {
          try {
            if (c == null) {
              c = dataSource.getConnection();
              c.setAutoCommit(true);
            }
            if (!starts.isEmpty() || !ends.isEmpty() || !beating.isEmpty()) {
              write(c, host, osPid, starts, ends, beating);
            }
            starts.forEach(a -> a.written = true);
            ends.forEach(attempts::remove);
            if (beat && sweep) {
              sweep(c);
              sweep = false;
            }
          } catch (SQLException | RuntimeException e) {
            log.warn("pool '{}': writing heartbeats failed ({}); retrying after {}", poolName, e.getMessage(),
                Duration.ofNanos(Math.min(intervalNanos, TimeUnit.SECONDS.toNanos(1))));
            closeQuietly(c);
            c = null;
            pause(Math.min(intervalNanos, TimeUnit.SECONDS.toNanos(1)));
            continue;
          }
        }
        if (beat) {
          nextBeat = now + intervalNanos;
          if (++beats % SWEEP_EVERY == 0) {
            sweep = true;
          }
        }
        long wakeAt = Math.min(nextBeat, nextStart);
        long wait = wakeAt - System.nanoTime();
        if (wait > 0) {
          try {
            changed.tryAcquire(wait, TimeUnit.NANOSECONDS);
          } catch (InterruptedException e) {
            stopping = true;
          }
        }
        changed.drainPermits();
      }
    } finally {
      closeQuietly(c);
      started = false;
    }
  }

  private void write(Connection c, String host, long osPid, List<Attempt> starts, List<Attempt> ends,
      List<Attempt> beating) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(WRITE)) {
      Params.of(ps)
          // ended
          .bigints(ends, a -> a.jobId).integers(ends, a -> a.backendPid)
          // started: p, then s
          .text(host).bigint(osPid).bigint(micros(interval))
          .bigints(starts, a -> a.jobId).integers(starts, a -> a.backendPid)
          .texts(starts, a -> a.queue).texts(starts, a -> a.jobClass).texts(starts, a -> a.workerName)
          .texts(starts, a -> a.startedAt.toString()).smallints(starts, Attempt::progress)
          .bigints(starts, Attempt::timeoutMicros)
          // beating
          .bigints(beating, a -> a.jobId).integers(beating, a -> a.backendPid)
          .smallints(beating, Attempt::progress).bigints(beating, Attempt::timeoutMicros);
      ps.executeUpdate();
      writes.incrementAndGet();
    }
  }

  private void sweep(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(SWEEP)) {
      int gone = ps.executeUpdate();
      if (gone > 0) {
        log.info("pool '{}': deleted {} heartbeat rows left by sessions that are gone", poolName, gone);
      }
    }
  }

  private void pause(long nanos) {
    try {
      changed.tryAcquire(nanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      stopping = true;
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      String env = System.getenv("HOSTNAME");
      return env != null && !env.isBlank() ? env : "unknown";
    }
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException | RuntimeException ignored) {
        // discarded
      }
    }
  }

  static long micros(Duration d) {
    return Math.max(1, d.getSeconds() * 1_000_000L + d.getNano() / 1000);
  }

  /** One attempt of one job on this pool, as the interceptor saw it. */
  private static final class Attempt {
    final long jobId;
    final int backendPid;
    final String queue;
    final String jobClass;
    final String workerName;
    final Instant startedAt;
    final long startedNanos = System.nanoTime();
    final JobContext context;
    volatile boolean ended;
    /** Only the writer thread reads and writes this. */
    boolean written;

    Attempt(Job job, JobContext context) {
      this.jobId = job.id();
      this.queue = job.queue();
      this.jobClass = job.jobClass();
      this.context = context;
      this.backendPid = context.backendPid();
      this.workerName = context.workerName().orElse(null);
      this.startedAt = context.startedAt();
    }

    Short progress() {
      int p = context.progress();
      return p < 0 ? null : (short) p;
    }

    Long timeoutMicros() {
      return context.get(JobContext.TIMEOUT).map(Heartbeats::micros).orElse(null);
    }
  }

  /** Settings for {@link Heartbeats}. */
  public static final class Builder {
    private final DataSource dataSource;
    private Duration interval = DEFAULT_INTERVAL;
    private Duration writeDelay = DEFAULT_WRITE_DELAY;

    private Builder(DataSource dataSource) {
      this.dataSource = Args.notNull(dataSource, "dataSource");
    }

    /**
     * How often the rows of running jobs are refreshed ({@code last_beat}, progress). Readers call a
     * row stale after a few of these ({@link InFlight#DEFAULT_STALE_BEATS}). Default: 5 s. At least 10 ms.
     */
    public Builder interval(Duration interval) {
      if (interval == null) {
        throw new IllegalArgumentException("interval: must not be null");
      }
      if (interval.compareTo(Duration.ofMillis(10)) < 0 || interval.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException("interval: must be 10 ms to 1 day, got " + interval);
      }
      this.interval = interval;
      return this;
    }

    /**
     * How long a job runs before its row is written: jobs that end sooner never touch the database.
     * Default: zero (as soon as the writer gets to it). At most one day.
     */
    public Builder writeDelay(Duration delay) {
      if (delay == null) {
        throw new IllegalArgumentException("writeDelay: must not be null");
      }
      if (delay.isNegative() || delay.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException("writeDelay: must be zero to 1 day, got " + delay);
      }
      this.writeDelay = delay;
      return this;
    }

    /** The heartbeats; register the one instance as the pool's interceptor and extension. */
    public Heartbeats build() {
      return new Heartbeats(this);
    }
  }
}
