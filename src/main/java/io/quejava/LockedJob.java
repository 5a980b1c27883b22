package io.quejava;

import io.quejava.internal.Dialect;
import io.quejava.internal.Session;
import io.quejava.internal.Text;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job this process holds the advisory lock of, together with the connection that holds it.
 *
 * <p>The lock lives as long as this object is open: resolve the job with {@link #delete()} or
 * {@link #error}, then {@link #close()} it, which releases the lock on the same session and only then
 * gives the connection back. Each resolving statement runs in autocommit unless the caller opened a
 * transaction on {@link #connection()}, in which case it commits with that transaction. Not
 * thread-safe: one thread works one job.
 *
 * <pre>{@code
 * try (LockedJob locked = client.lockJob("billing").orElseThrow()) {
 *   Connection c = locked.connection();
 *   c.setAutoCommit(false);
 *   ... business writes on c ...
 *   locked.delete();          // commits together with the writes
 *   c.commit();
 * }                           // unlock, after the commit
 * }</pre>
 */
public final class LockedJob implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LockedJob.class);

  private final Dialect dialect;
  private final Session session;
  private final Job job;
  private final RetryPolicy retryPolicy;
  private final boolean ownsSession;
  private boolean deleted;
  /** The delete ran inside a transaction that has not committed yet (as far as we know). */
  private boolean deleteUncommitted;
  private boolean errored;
  /** The error update ran inside a transaction that has not committed yet (as far as we know). */
  private boolean errorUncommitted;
  private boolean closed;
  private Connection guarded;
  private volatile JobContext context;

  LockedJob(Dialect dialect, Session session, Job job, RetryPolicy retryPolicy, boolean ownsSession) {
    this.dialect = dialect;
    this.session = session;
    this.job = job;
    this.retryPolicy = retryPolicy;
    this.ownsSession = ownsSession;
  }

  /**
   * This attempt's context: progress, cancellation, a job-scoped logger, and who holds the lock.
   */
  public JobContext context() {
    JobContext c = context;
    if (c == null) {
      synchronized (this) {
        c = context;
        if (c == null) {
          c = new JobContext(job, null, session.backendPid(), null);
          context = c;
        }
      }
    }
    return c;
  }

  void attach(JobContext c) {
    this.context = c;
  }

  /** The job as it was when it was locked. */
  public Job job() {
    return job;
  }

  /**
   * The connection that holds the job's lock, for work that must commit together with the job's
   * deletion. Do not close it, and leave it with no transaction open when the handler returns.
   */
  public Connection connection() {
    checkOpen();
    if (guarded == null) {
      guarded = GuardedConnection.wrap(session.connection());
    }
    return guarded;
  }

  /**
   * Deletes the job by the key it was locked with. Idempotent. If a transaction is open on
   * {@link #connection()}, the delete commits (or rolls back) with it.
   */
  public void delete() {
    checkOpen();
    if (deleted) {
      return;
    }
    try {
      int rows = dialect.delete(session, job.row());
      if (rows == 0) {
        log.warn("job changed under its lock: delete matched no row (id={} class={} queue='{}')",
            job.id(), job.jobClass(), job.queue());
      }
      deleted = true;
      deleteUncommitted = session.inTransaction();
    } catch (SQLException e) {
      throw new QueException("delete of job " + job.id() + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Records a failure: error_count + 1, run_at = now() + the retry policy's delay for the new count,
   * and last_error = {@code "<exception class>: <message>"} (cut to 500 characters), a newline, and
   * the stack trace.
   */
  public void error(Throwable failure) {
    error(Text.classicLastError(failure), null);
  }

  /** Records a failure with this text as last_error, retried after the retry policy's delay. */
  public void error(String message) {
    error(message, null);
  }

  /** Records a failure with this text, retried after {@code delay} (rounded up to whole seconds). */
  public void error(String message, Duration delay) {
    checkOpen();
    if (deleted || errored) {
      throw new IllegalStateException("job " + job.id() + " is already " + (deleted ? "deleted" : "errored"));
    }
    if (delay != null && delay.isNegative()) {
      throw new IllegalArgumentException("delay: must be zero or positive, got " + delay);
    }
    long seconds = delaySeconds(delay != null ? delay : policyDelay(job.errorCount() + 1));
    String text = Text.stripNul(message == null ? "" : message);
    try {
      int rows = dialect.setError(session, job.row(), seconds, text);
      if (rows == 0) {
        log.warn("job changed under its lock: error update matched no row (id={} class={} queue='{}')",
            job.id(), job.jobClass(), job.queue());
      }
      errored = true;
      errorUncommitted = session.inTransaction();
    } catch (SQLException e) {
      throw new QueException("recording the error of job " + job.id() + " failed: " + e.getMessage(), e);
    }
  }

  /** The caller's transaction was rolled back: a delete made inside it did not happen. */
  void transactionRolledBack() {
    if (deleteUncommitted) {
      deleted = false;
      deleteUncommitted = false;
    }
    if (errorUncommitted) {
      errored = false;
      errorUncommitted = false;
    }
  }

  /**
   * The retry policy's delay; a policy that throws or answers null or a negative delay must not
   * leave the job retrying with no backoff, so the default applies then.
   */
  private Duration policyDelay(int errorCount) {
    try {
      Duration d = retryPolicy.delay(errorCount);
      if (d != null && !d.isNegative()) {
        return d;
      }
      log.warn("job {}: retry policy answered {}; using the default backoff", job.id(), d);
    } catch (RuntimeException e) {
      log.warn("job {}: retry policy failed ({}); using the default backoff", job.id(), e.toString());
    }
    return RetryPolicy.DEFAULT.delay(errorCount);
  }

  /** Whole seconds, rounded up, at most 100 years (an interval PostgreSQL can add to now()). */
  private static long delaySeconds(Duration d) {
    long cap = 100L * 365 * 24 * 3600;
    if (d.getSeconds() >= cap) {
      return cap;
    }
    return d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
  }

  /** True once {@link #delete()} or {@link #error} has run. */
  public boolean isResolved() {
    return deleted || errored;
  }

  public boolean isDeleted() {
    return deleted;
  }

  /** Same as {@link #close()}, named as que-go names it. */
  public void done() {
    close();
  }

  /**
   * Releases the lock, then the connection. A transaction still open on the connection is rolled
   * back first, so the lock is never released before the job's resolution committed. Idempotent.
   *
   * <p>For a job that a {@link Worker} runs, this does nothing: the worker releases the lock after
   * the handler has returned and the job's outcome has been written, never while the handler runs.
   */
  @Override
  public void close() {
    if (ownsSession) {
      release();
    }
  }

  /** Unlock (after rolling back an open transaction) and give the connection back. */
  void release() {
    if (closed) {
      return;
    }
    closed = true;
    if (session.isAborted()) {
      return;
    }
    boolean unlocked = false;
    try {
      if (session.resetTransaction()) {
        log.warn("job {} ({}): an open transaction on its connection was rolled back before unlock",
            job.id(), job.jobClass());
      }
      unlocked = dialect.unlock(session, job.id());
      if (!unlocked) {
        log.warn("job {}: its advisory lock was not held at unlock", job.id());
      }
    } catch (SQLException e) {
      log.warn("job {}: unlock failed ({}); closing its connection so the server drops the lock",
          job.id(), e.getMessage());
      session.abort();
    } finally {
      if (ownsSession) {
        if (!unlocked) {
          session.abort();
        }
        session.close();
      }
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("job " + job.id() + " is closed: its lock was released");
    }
  }
}
