package io.quejava;

import io.quejava.internal.Args;
import io.quejava.internal.Dialect;
import io.quejava.internal.ErrorText;
import io.quejava.internal.Session;
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
  private final Integer maxRetryCount;
  private final boolean ownsSession;
  private Outcome outcome;
  /** The outcome was written inside a transaction that has not committed yet (as far as we know). */
  private boolean outcomeUncommitted;
  private boolean closed;
  private Connection guarded;
  private volatile JobContext context;

  /** How the job was resolved. */
  enum Outcome { DELETED, ERRORED, RETRIED, FINISHED, EXPIRED }

  LockedJob(Dialect dialect, Session session, Job job, RetryPolicy retryPolicy, Integer maxRetryCount,
      boolean ownsSession) {
    this.dialect = dialect;
    this.session = session;
    this.job = job;
    this.retryPolicy = retryPolicy;
    this.maxRetryCount = maxRetryCount;
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
   * Deletes the job by the key it was locked with (Que's default on success). Idempotent. If a
   * transaction is open on {@link #connection()}, the delete commits (or rolls back) with it.
   */
  public void delete() {
    checkOpen();
    if (outcome == Outcome.DELETED) {
      return;
    }
    write(Outcome.DELETED, "delete", () -> dialect.delete(session, job.row()));
  }

  /**
   * Keeps the row with {@code finished_at = now()}; it is never run again (Que 1.x/2.x's
   * {@code finish}). Schema 4 to 7 only.
   *
   * @throws UnsupportedOperationException on schema 3, which has no finished_at
   */
  public void finish() {
    checkUnresolved();
    requireOutcomeColumns("finish");
    write(Outcome.FINISHED, "finish", () -> dialect.finish(session, job.row()));
  }

  /**
   * Keeps the row with {@code expired_at = now()} and error_count + 1; it is never run again until
   * someone clears expired_at (Que 1.x/2.x's {@code expire}). Schema 4 to 7 only.
   *
   * @throws UnsupportedOperationException on schema 3, which has no expired_at
   */
  public void expire() {
    checkUnresolved();
    requireOutcomeColumns("expire");
    write(Outcome.EXPIRED, "expire", () -> dialect.expire(session, job.row()));
  }

  /**
   * Runs the job again after {@code delay}: error_count + 1 and run_at = now() + delay, as Que's
   * {@code retry_in}. On schema 4+ the error columns are cleared; on schema 3 last_error is kept and
   * the delay is rounded up to whole seconds. Never expires the job.
   */
  public void retryIn(Duration delay) {
    checkUnresolved();
    Duration d = checkDelay(delay == null ? null : delay);
    if (d == null) {
      throw new IllegalArgumentException("delay: must not be null");
    }
    write(Outcome.RETRIED, "retry", () -> dialect.setError(session, job.row(), d, new ErrorText(null, null)));
  }

  /**
   * Records a failure, retried after the retry policy's delay. Schema 3 writes last_error =
   * {@code "<exception class>: <message>"} (cut to 500 characters), a newline and the stack trace;
   * schema 4+ writes last_error_message (500) and last_error_backtrace (10,000). On schema 4+ a job
   * whose new error count exceeds the maximum retry count (15 unless configured) is expired instead,
   * exactly as Que 1.x/2.x does.
   */
  public void error(Throwable failure) {
    Args.notNull(failure, "failure");
    ErrorText text;
    try {
      text = dialect.describe(failure);
    } catch (RuntimeException | StackOverflowError e) {
      // An exception whose getMessage() or stack trace itself fails must still be recorded (with
      // its backoff), not turn into a poison job that reruns at once.
      text = dialect.describe(failure.getClass().getName() + ": (its message could not be read: " + e.getClass().getName() + ")");
    }
    error(text, null);
  }

  /** Records a failure with this text as its message, retried after the retry policy's delay. */
  public void error(String message) {
    error(message, null);
  }

  /**
   * Records a failure with this text, retried after {@code delay} (or the retry policy's delay when
   * null; rounded up to whole seconds on schema 3).
   */
  public void error(String message, Duration delay) {
    error(dialect.describe(message == null ? "" : message), delay);
  }

  private void error(ErrorText text, Duration delay) {
    checkUnresolved();
    Duration d = checkDelay(delay);
    int newCount = job.errorCount() + 1;
    if (maxRetryCount != null && newCount > maxRetryCount && dialect.hasOutcomeColumns()) {
      log.warn("job expired after {} failures (maximum retry count {}) id={} class={} queue='{}'",
          newCount, maxRetryCount, job.id(), job.jobClass(), job.queue());
      write(Outcome.EXPIRED, "expire", () -> dialect.expire(session, job.row()));
      return;
    }
    Duration wait = d != null ? d : policyDelay(newCount);
    write(Outcome.ERRORED, "recording the error of", () -> dialect.setError(session, job.row(), wait, text));
  }

  private interface Write {
    int run() throws SQLException;
  }

  private void write(Outcome result, String what, Write statement) {
    try {
      int rows = statement.run();
      session.markAlive();
      boolean inTransaction = session.inTransaction();
      if (rows == 0) {
        if (inTransaction) {
          // The caller's transaction must not commit its effect for a job that stays in the table
          // and runs again: make it roll back (rule: one committed outcome per effect).
          throw new JobChangedException(job.id(), what + " job " + job.id() + " (" + job.jobClass()
              + ") matched no row: the job changed under its lock (run_at, queue or priority moved, or"
              + " it was deleted); roll back this transaction, the job runs again as it now is");
        }
        log.warn("job changed under its lock: {} matched no row (id={} class={} queue='{}')",
            what, job.id(), job.jobClass(), job.queue());
      }
      outcome = result;
      outcomeUncommitted = inTransaction;
    } catch (SQLException e) {
      throw new QueException(what + " job " + job.id() + " failed: " + e.getMessage(), e);
    }
  }

  private void requireOutcomeColumns(String what) {
    if (!dialect.hasOutcomeColumns()) {
      throw new UnsupportedOperationException(what + ": que_jobs is at schema " + dialect.schemaVersion()
          + " (Ruby Que 0.x, que-go), which has no " + (what.equals("finish") ? "finished_at" : "expired_at")
          + " column; delete the job, or record an error");
    }
  }

  private void checkUnresolved() {
    checkOpen();
    if (outcome != null) {
      throw new IllegalStateException("job " + job.id() + " is already resolved (" + outcome.name().toLowerCase() + ")");
    }
  }

  /** Null stays null; negative is refused; more than 100 years is capped (an interval now() can take). */
  private static Duration checkDelay(Duration delay) {
    if (delay == null) {
      return null;
    }
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay: must be zero or positive, got " + delay);
    }
    Duration cap = Duration.ofDays(100L * 365);
    return delay.compareTo(cap) > 0 ? cap : delay;
  }

  /** The caller's transaction was rolled back: an outcome written inside it did not happen. */
  void transactionRolledBack() {
    if (outcomeUncommitted) {
      outcome = null;
      outcomeUncommitted = false;
    }
  }

  /**
   * The retry policy's delay; a policy that throws or answers null or a negative delay must not
   * leave the job retrying with no backoff, so the default applies then.
   */
  private Duration policyDelay(int errorCount) {
    try {
      Duration d = retryPolicy.delay(job, errorCount);
      if (d != null && !d.isNegative()) {
        return d;
      }
      log.warn("job {}: retry policy answered {}; using the default backoff", job.id(), d);
    } catch (RuntimeException e) {
      log.warn("job {}: retry policy failed ({}); using the default backoff", job.id(), e.toString());
    }
    return RetryPolicy.DEFAULT.delay(errorCount);
  }

  /** True once the job was deleted, errored, retried, finished or expired. */
  public boolean isResolved() {
    return outcome != null;
  }

  /** True when the job was resolved by a statement that has committed (autocommit, or a committed transaction as far as we know). */
  boolean outcomeCommitted() {
    if (outcome == null) {
      return false;
    }
    if (!outcomeUncommitted) {
      return true;
    }
    try {
      // Written inside a transaction: it committed if none is open any more and the session lives.
      return !session.isAborted() && !session.inTransaction();
    } catch (SQLException e) {
      return false;
    }
  }

  /** Batched completion: the worker's batched delete of this job committed. */
  void deletedInBatch() {
    outcome = Outcome.DELETED;
    outcomeUncommitted = false;
  }

  /** The session that holds this job's lock. */
  Session session() {
    return session;
  }

  /** How the job was resolved in this attempt, or null. */
  Outcome outcome() {
    return outcome;
  }

  /** True once {@link #delete()} ran (and was not rolled back). */
  public boolean isDeleted() {
    return outcome == Outcome.DELETED;
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
  /**
   * Closes the job without unlocking it, for a worker that unlocks a whole batch in one statement
   * afterwards: rolls back a transaction left open (so the unlock cannot precede a commit). On a
   * failure the session is aborted, which drops every lock it holds.
   */
  void settleForBatchUnlock() {
    if (closed) {
      return;
    }
    closed = true;
    if (session.isAborted()) {
      return;
    }
    try {
      if (session.resetTransaction()) {
        log.warn("job {} ({}): an open transaction on its connection was rolled back before unlock",
            job.id(), job.jobClass());
      }
    } catch (SQLException e) {
      log.warn("job {}: rollback failed ({}); closing its connection so the server drops its locks",
          job.id(), e.getMessage());
      session.abort();
    }
  }

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
