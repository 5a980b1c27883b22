package io.quejava.ext.timeout;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.JobContext;
import io.quejava.JobInterceptor;
import io.quejava.NewJob;
import io.quejava.QueException;
import io.quejava.RunningJob;
import io.quejava.ext.ExtensionMigrator;
import io.quejava.internal.Args;
import io.quejava.internal.SchemaInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-job timeouts: an interceptor that cancels a job ({@link JobContext#cancel(String)}: a flag
 * plus an interrupt) when it has run longer than its timeout, and then fails the attempt with a
 * {@link JobTimeoutException}, whatever the handler did after the cancel.
 *
 * <pre>{@code
 * Timeouts.install(dataSource);                                   // only for per-job timeouts
 * Timeouts timeouts = Timeouts.builder()
 *     .forClass("Reports::Monthly", Duration.ofMinutes(10))
 *     .defaultTimeout(Duration.ofMinutes(1))
 *     .build();
 * WorkerPool.builder(client, work).interceptor(timeouts)...;
 *
 * Timeouts.enqueue(client, connection, NewJob.of("Export", 7), Duration.ofSeconds(30)); // in your transaction
 * }</pre>
 *
 * <p>A job's timeout is, first found: the one given to {@link #enqueue} for that job (a row in the
 * extension's table {@code que_job_timeouts}, written in the enqueuing transaction; que_jobs is
 * never changed), the one for its class, the default. No timeout means the job is never cancelled.
 * The clock starts when the interceptor does, on the worker's thread with the lock held.
 *
 * <p>Cancellation is cooperative: blocking calls that honour interrupts end with an
 * {@link InterruptedException}, and handlers can poll {@link JobContext#isCancelled()}. A handler
 * that ignores both keeps running (and keeps the lock) until it returns; the heartbeat extension
 * reports it as hung, and its opt-in rescuer can end its session.
 *
 * <p>When a job with a per-job timeout succeeds without resolving itself, the interceptor deletes
 * its timeout row and the job together, in one transaction on the job's connection (instead of
 * leaving the delete to the worker); when it fails, the row stays for the next attempt.
 */
public final class Timeouts implements JobInterceptor {
  private static final Logger log = LoggerFactory.getLogger(Timeouts.class);

  /** The extension's name: its SQL is under {@code migrations/ext/timeout/}. */
  public static final String EXTENSION = "timeout";
  /** The longest timeout accepted: 100 years (what an interval comfortably holds). */
  public static final Duration MAX_TIMEOUT = Duration.ofDays(365L * 100);

  /** The timeout of each attempt running in this JVM under some Timeouts, for monitors. */

  private static final ScheduledThreadPoolExecutor TIMER = timer();

  private final Map<String, Duration> byClass;
  private final Duration defaultTimeout;
  private final boolean perJob;
  /** Set once the table turned out to be missing: per-job lookups stop (after one warning). */
  private volatile boolean tableMissing;

  private Timeouts(Builder b) {
    this.byClass = Map.copyOf(b.byClass);
    this.defaultTimeout = b.defaultTimeout;
    this.perJob = b.perJob;
  }

  private static ScheduledThreadPoolExecutor timer() {
    ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
      Thread th = new Thread(r, "que-timeouts");
      th.setDaemon(true);
      return th;
    });
    t.setRemoveOnCancelPolicy(true);
    t.setKeepAliveTime(30, TimeUnit.SECONDS);
    t.allowCoreThreadTimeOut(true);
    return t;
  }

  /** A builder with no timeouts at all; add per-class ones and a default. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Installs (or brings up to date) the {@code timeout} extension's table in the schema the data
   * source's connections resolve to; needed only for per-job timeouts ({@link #enqueue}). Idempotent.
   * Returns the installed version.
   */
  public static int install(DataSource dataSource) {
    return ExtensionMigrator.create(Args.notNull(dataSource, "dataSource"), EXTENSION).migrate();
  }

  /** Removes the extension's table (every per-job timeout with it). que_jobs is not touched. */
  public static void uninstall(DataSource dataSource) {
    ExtensionMigrator.create(Args.notNull(dataSource, "dataSource"), EXTENSION).migrateTo(0);
  }

  /**
   * Enqueues {@code job} with a timeout of its own, on the caller's connection: the job and its
   * timeout are written in the caller's transaction (exist if and only if it commits), or, on a
   * connection in autocommit, in one transaction opened and committed here.
   *
   * @throws IllegalArgumentException when the timeout is not positive or exceeds {@link #MAX_TIMEOUT}
   */
  public static Job enqueue(Client client, Connection connection, NewJob job, Duration timeout) {
    Args.notNull(client, "client");
    Args.notNull(connection, "connection");
    Args.notNull(job, "job");
    checkTimeout("timeout", timeout);
    try {
      boolean own = connection.getAutoCommit();
      if (own) {
        connection.setAutoCommit(false);
      }
      try {
        Job enqueued = client.enqueue(connection, job);
        try (PreparedStatement ps = connection.prepareStatement(
            "INSERT INTO que_job_timeouts (job_id, timeout) VALUES (?, ? * interval '1 microsecond')")) {
          ps.setLong(1, enqueued.id());
          ps.setLong(2, micros(timeout));
          ps.executeUpdate();
        }
        if (own) {
          connection.commit();
        }
        return enqueued;
      } catch (SQLException | RuntimeException e) {
        if (own) {
          connection.rollback();
        }
        throw e;
      } finally {
        if (own) {
          connection.setAutoCommit(true);
        }
      }
    } catch (SQLException e) {
      throw new QueException("enqueue of " + job.jobClass() + " with a timeout failed: " + e.getMessage(), e);
    }
  }

  /** Enqueues {@code job} with a timeout of its own, both committed together on a connection of its own. */
  public static Job enqueue(Client client, NewJob job, Duration timeout) {
    Args.notNull(client, "client");
    checkTimeout("timeout", timeout);
    try (Connection c = client.dataSource().getConnection()) {
      return enqueue(client, c, job, timeout);
    } catch (SQLException e) {
      throw new QueException("cannot get a connection: " + e.getMessage(), e);
    }
  }

  /**
   * Deletes the per-job timeouts whose job is gone from que_jobs (removed by Ruby, Go or by hand) or,
   * on schema 4-7, finished or expired. Returns how many. On schema 3 this reads all of que_jobs
   * (it has no index on the id alone): run it now and then, not per job.
   */
  public static int purge(DataSource dataSource) {
    try (Connection c = dataSource.getConnection()) {
      boolean modern = SchemaInfo.ID.equals(SchemaInfo.idColumn(c));
      String sql = modern
          ? """
              DELETE FROM que_job_timeouts t
              WHERE NOT EXISTS (SELECT 1 FROM que_jobs j
                                WHERE j.id = t.job_id AND j.finished_at IS NULL AND j.expired_at IS NULL)"""
          : """
              DELETE FROM que_job_timeouts t
              WHERE NOT EXISTS (SELECT 1 FROM que_jobs j WHERE j.job_id = t.job_id)""";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        return ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new QueException("purging job timeouts failed: " + e.getMessage(), e);
    }
  }

  /**
   * The timeout of an attempt running now in this JVM under a {@link Timeouts} interceptor, or empty
   * (no timeout, or not running). The heartbeat extension stores it beside each heartbeat.
   */
  public static Optional<Duration> current(JobContext context) {
    return context == null ? Optional.empty() : context.get(JobContext.TIMEOUT);
  }

  /** The per-class timeout for {@code jobClass}, else the default, else empty. Per-job rows are not read. */
  public Optional<Duration> timeoutFor(String jobClass) {
    Duration d = byClass.get(jobClass);
    return Optional.ofNullable(d != null ? d : defaultTimeout);
  }

  @Override
  public void intercept(RunningJob locked, Chain next) throws Exception {
    Job job = locked.job();
    Duration perJobTimeout = perJob ? readPerJob(locked) : null;
    Duration timeout;
    String source;
    if (perJobTimeout != null) {
      timeout = perJobTimeout;
      source = "the job's own timeout";
    } else if (byClass.containsKey(job.jobClass())) {
      timeout = byClass.get(job.jobClass());
      source = "the timeout for class " + job.jobClass();
    } else if (defaultTimeout != null) {
      timeout = defaultTimeout;
      source = "the default timeout";
    } else {
      next.proceed();
      return;
    }
    JobContext ctx = locked.context();
    Attempt attempt = new Attempt(ctx, "timed out after " + describe(timeout) + " (" + source + ")");
    ctx.put(JobContext.TIMEOUT, timeout);
    ScheduledFuture<?> alarm = TIMER.schedule(attempt::expire, timeout.toNanos(), TimeUnit.NANOSECONDS);
    Throwable failure = null;
    boolean expired;
    try {
      next.proceed();
    } catch (Throwable t) {
      failure = t;
    } finally {
      alarm.cancel(false);
      expired = attempt.end();
    }
    if (expired) {
      Thread.interrupted(); // our interrupt did its work; the worker must write the error undisturbed
      log.warn("job {} ({}) timed out after {} ({})", job.id(), job.jobClass(), describe(timeout), source);
      throw new JobTimeoutException(job.id(), job.jobClass(), timeout, source, failure);
    }
    if (failure instanceof Exception e) {
      throw e;
    }
    if (failure instanceof Error e) {
      throw e;
    }
    if (failure != null) {
      throw new IllegalStateException(failure);
    }
    if (perJobTimeout != null) {
      forgetPerJob(locked);
    }
  }

  /** The per-job timeout row of this job, or null (none, or the table is not installed). */
  private Duration readPerJob(RunningJob locked) throws SQLException {
    if (tableMissing) {
      return null;
    }
    Connection c = locked.connection();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT (extract(epoch FROM timeout) * 1000000)::bigint FROM que_job_timeouts WHERE job_id = ?")) {
      ps.setLong(1, locked.job().id());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Duration.ofNanos(Math.multiplyExact(rs.getLong(1), 1000L)) : null;
      }
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState()) && c.getAutoCommit()) {
        tableMissing = true;
        log.warn("que_job_timeouts does not exist: per-job timeouts are off until Timeouts.install(dataSource)"
            + " has run and the pool restarts; per-class and default timeouts still apply");
        return null;
      }
      throw e;
    }
  }

  /**
   * After a success: the job and its timeout row go together, in one transaction on the job's
   * connection. A job the handler deleted itself only loses the row; one it errored, retried,
   * finished or expired keeps it (the next attempt needs it; {@link #purge} clears the others).
   */
  private void forgetPerJob(RunningJob locked) throws SQLException {
    Connection c = locked.connection();
    if (!c.getAutoCommit()) {
      return; // the handler left a transaction open; the worker rolls it back and fails the job
    }
    if (locked.isResolved() && !locked.isDeleted()) {
      return;
    }
    if (!locked.isResolved() && locked.context().isCancelled()) {
      return; // cancelled (by the shutdown deadline) and returned unresolved: not a success; the worker decides
    }
    boolean deleteJob = !locked.isResolved();
    c.setAutoCommit(false);
    try {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM que_job_timeouts WHERE job_id = ?")) {
        ps.setLong(1, locked.job().id());
        ps.executeUpdate();
      }
      if (deleteJob) {
        locked.delete();
      }
      c.commit();
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  /** One attempt's alarm: fires at most once, and never after the attempt ended. */
  private static final class Attempt {
    private final JobContext ctx;
    private final String reason;
    private boolean ended;
    private boolean expired;

    Attempt(JobContext ctx, String reason) {
      this.ctx = ctx;
      this.reason = reason;
    }

    synchronized void expire() {
      if (!ended) {
        expired = true;
        ctx.cancel(reason);
      }
    }

    synchronized boolean end() {
      ended = true;
      return expired;
    }
  }

  static void checkTimeout(String name, Duration d) {
    if (d == null) {
      throw new IllegalArgumentException(name + ": must not be null");
    }
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + ": must be positive, got " + d);
    }
    if (d.compareTo(MAX_TIMEOUT) > 0) {
      throw new IllegalArgumentException(name + ": must be at most 100 years, got " + d);
    }
  }

  private static long micros(Duration d) {
    return Math.max(1, d.getSeconds() * 1_000_000L + d.getNano() / 1000);
  }

  /** "250 ms", "2 s", "1.5 s", "90 s". */
  static String describe(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms % 1000 == 0) {
      return (ms / 1000) + " s";
    }
    return java.math.BigDecimal.valueOf(ms, 3).stripTrailingZeros().toPlainString() + " s";
  }

  @Override
  public String toString() {
    return "Timeouts{byClass=" + byClass + ", default=" + defaultTimeout + ", perJob=" + perJob + "}";
  }

  /** Settings for {@link Timeouts}; {@link #build()} returns the interceptor. */
  public static final class Builder {
    private final Map<String, Duration> byClass = new HashMap<>();
    private Duration defaultTimeout;
    private boolean perJob = true;

    private Builder() {}

    /** The timeout of every job of {@code jobClass} without one of its own. Default: none. */
    public Builder forClass(String jobClass, Duration timeout) {
      if (jobClass == null || jobClass.isEmpty()) {
        throw new IllegalArgumentException("forClass: the job class must not be empty");
      }
      checkTimeout("forClass", timeout);
      byClass.put(jobClass, timeout);
      return this;
    }

    /** The timeout of every job with neither its own nor its class's. Default: none (never cancelled). */
    public Builder defaultTimeout(Duration timeout) {
      checkTimeout("defaultTimeout", timeout);
      this.defaultTimeout = timeout;
      return this;
    }

    /**
     * Whether to read each job's own timeout from {@code que_job_timeouts} when it starts: one
     * indexed lookup per job, on the job's connection. Turn it off when only per-class and default
     * timeouts are used. Default: true.
     */
    public Builder perJob(boolean read) {
      this.perJob = read;
      return this;
    }

    /** The interceptor; give it to {@code WorkerPool.Builder.interceptor}. */
    public Timeouts build() {
      return new Timeouts(this);
    }
  }
}
