package io.quejava.ext.deadletter;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.JobInterceptor;
import io.quejava.RunningJob;
import io.quejava.UnknownJobClassException;
import io.quejava.internal.Args;
import io.quejava.internal.Dialect;
import io.quejava.internal.ErrorText;
import io.quejava.internal.SchemaInfo;
import io.quejava.internal.Text;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives up on a job after {@code maxAttempts} failed attempts, instead of retrying it forever as
 * Ruby Que 0.x and que-go do. A {@link JobInterceptor}: add it to a pool with
 * {@link io.quejava.WorkerPool.Builder#interceptor}, first, so that failures of every interceptor
 * inside it count too.
 *
 * <pre>{@code
 * JobInterceptor deadLetters = DeadLetterInterceptor.builder(client)
 *     .maxAttempts(10)                 // every class of this pool
 *     .maxAttempts("ChargeCard", 3)    // this class
 *     .build();
 * WorkerPool pool = WorkerPool.builder(client, work).interceptor(deadLetters).build();
 * }</pre>
 *
 * <p>When a failure reaches it and the attempt that failed was the last allowed one ({@code
 * error_count + 1 >= maxAttempts}), the job dies, in one transaction on the connection that holds
 * the job's advisory lock, committed before the worker sees the failure (and so before the lock is
 * released):
 *
 * <ul>
 *   <li>schema 3: its row is copied into {@code que_dead_jobs} with error_count + 1, this failure's
 *       text (in Que 0.14's format), the time, the reason and the worker's name, and deleted from
 *       {@code que_jobs} by the key it was locked with ({@link RunningJob#delete()});
 *   <li>schemas 4 to 7: this failure's text is written to the row and the job expires
 *       ({@link RunningJob#expire()}: error_count + 1, expired_at), Que 1.x/2.x's own dead state. The
 *       pool's {@code maxRetryCount} (15 by default there) still expires jobs on its own, so the
 *       smaller limit wins.
 * </ul>
 *
 * A job of a class the pool does not know ({@link UnknownJobClassException}) counts as a failed
 * attempt too, unless {@link Builder#countUnknownClasses(boolean) countUnknownClasses(false)}:
 * only use the default on queues no other language serves, or other languages' jobs die here.
 *
 * <p>The failure is then rethrown, so the pool counts the job as failed; the worker sees that the
 * job was resolved and leaves it alone. Nothing happens to a job the handler resolved itself, to
 * a job without a limit, or when the move fails (it is logged, and the worker records the error
 * as usual, so the job is never lost).
 */
public final class DeadLetterInterceptor implements JobInterceptor {
  private static final Logger log = LoggerFactory.getLogger(DeadLetterInterceptor.class);

  /** How the client's workers write a failure: the dead job's text is written the same way. */
  private final Dialect dialect;
  private final boolean modern;
  private final Integer maxAttempts;
  private final Map<String, Integer> perClass;
  private final boolean countUnknownClasses;

  private DeadLetterInterceptor(Builder b) {
    this.dialect = SchemaInfo.dialectOf(b.client);
    this.modern = dialect.hasOutcomeColumns();
    this.maxAttempts = b.maxAttempts;
    this.perClass = Map.copyOf(b.perClass);
    this.countUnknownClasses = b.countUnknownClasses;
  }

  /** Settings for an interceptor on the queue of {@code client}'s schema. */
  public static Builder builder(Client client) {
    return new Builder(client);
  }

  /** The limit for a job class: its own, else the pool's, else null (unlimited). */
  public Integer maxAttempts(String jobClass) {
    Integer own = perClass.get(jobClass);
    return own != null ? own : maxAttempts;
  }

  @Override
  public void intercept(RunningJob locked, Chain next) throws Exception {
    try {
      next.proceed();
    } catch (Throwable failure) {
      if (isLastAttempt(locked, failure)) {
        bury(locked, failure);
      }
      throw failure;
    }
  }

  private boolean isLastAttempt(RunningJob locked, Throwable failure) {
    if (locked.isResolved()) {
      // The handler resolved the job (maybe inside a transaction the worker will roll back): the
      // worker sorts that out, and the next attempt, if any, is counted then.
      return false;
    }
    if (failure instanceof UnknownJobClassException && !countUnknownClasses) {
      return false;
    }
    Job job = locked.job();
    Integer limit = maxAttempts(job.jobClass());
    return limit != null && job.errorCount() + 1 >= limit;
  }

  private void bury(RunningJob locked, Throwable failure) {
    Job job = locked.job();
    boolean unknown = failure instanceof UnknownJobClassException;
    String worker = locked.context().workerName().orElse(null);
    Connection c = locked.connection();
    try {
      if (!c.getAutoCommit()) {
        c.rollback(); // the failed handler's own work; the job itself is unresolved (checked above)
      }
      c.setAutoCommit(false);
      try {
        // The text the worker would record: an unknown class by its message alone.
        ErrorText text = unknown ? dialect.describe(failure.getMessage()) : dialect.describe(failure);
        boolean moved = modern ? expire(c, locked, text) : moveToDeadTable(c, locked, text, unknown, worker);
        if (!moved) {
          c.rollback();
          log.warn("job {} ({}) changed under its lock; not moved to the dead letters", job.id(), job.jobClass());
          return;
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
      log.warn("job died after {} failed attempts ({}) id={} class={} queue='{}': {}",
          job.errorCount() + 1, modern ? "expired" : "moved to que_dead_jobs", job.id(), job.jobClass(),
          job.queue(), firstLine(failure));
    } catch (SQLException | RuntimeException e) {
      log.error("job {} ({}): moving it to the dead letters failed ({}); its error is recorded as usual",
          job.id(), job.jobClass(), e.getMessage(), e);
    }
  }

  private static boolean moveToDeadTable(Connection c, RunningJob locked, ErrorText text, boolean unknown,
      String worker) throws SQLException {
    Job job = locked.job();
    int rows;
    try (PreparedStatement ps = c.prepareStatement(DeadLetterSql.CLASSIC_BURY)) {
      ps.setString(1, text.message());
      ps.setString(2, unknown ? DeadJob.REASON_UNKNOWN_JOB_CLASS : DeadJob.REASON_MAX_ATTEMPTS);
      ps.setString(3, worker == null ? null : Text.stripNul(worker));
      ps.setString(4, job.queue());
      ps.setShort(5, (short) job.priority());
      ps.setObject(6, job.runAt().atOffset(ZoneOffset.UTC));
      ps.setLong(7, job.id());
      rows = ps.executeUpdate();
    }
    if (rows != 1) {
      return false;
    }
    locked.delete();
    return true;
  }

  private static boolean expire(Connection c, RunningJob locked, ErrorText text) throws SQLException {
    Job job = locked.job();
    int rows;
    try (PreparedStatement ps = c.prepareStatement(DeadLetterSql.MODERN_LAST_ERROR)) {
      ps.setString(1, text.message());
      ps.setString(2, text.backtrace());
      ps.setLong(3, job.id());
      rows = ps.executeUpdate();
    }
    if (rows != 1) {
      return false;
    }
    locked.expire();
    return true;
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // The connection is broken; the worker drops it, and the server rolls back.
    }
  }

  private static String firstLine(Throwable t) {
    String s = t.toString();
    int nl = s.indexOf('\n');
    return nl >= 0 ? s.substring(0, nl) : s;
  }

  @Override
  public String toString() {
    return "DeadLetterInterceptor{maxAttempts=" + maxAttempts + ", perClass=" + perClass
        + ", countUnknownClasses=" + countUnknownClasses + "}";
  }

  /** Settings for a {@link DeadLetterInterceptor}. */
  public static final class Builder {
    private final Client client;
    private Integer maxAttempts;
    private final Map<String, Integer> perClass = new HashMap<>();
    private boolean countUnknownClasses = true;

    private Builder(Client client) {
      this.client = Args.notNull(client, "client");
    }

    /**
     * Attempts a job of any class gets (at least 1): the attempt that fails with
     * {@code error_count + 1 >= maxAttempts} is its last. Default: unlimited, as Ruby Que 0.x and
     * que-go (then only classes given to {@link #maxAttempts(String, int)} ever die).
     */
    public Builder maxAttempts(int attempts) {
      this.maxAttempts = checkAttempts("maxAttempts", attempts);
      return this;
    }

    /** Attempts a job of {@code jobClass} gets, overriding {@link #maxAttempts(int)} for it. */
    public Builder maxAttempts(String jobClass, int attempts) {
      if (jobClass == null || jobClass.isBlank()) {
        throw new IllegalArgumentException("jobClass: must not be blank");
      }
      perClass.put(jobClass, checkAttempts("maxAttempts(" + jobClass + ")", attempts));
      return this;
    }

    /**
     * Whether a job of a class the pool has no handler for counts its attempts toward the limit
     * (with reason {@value DeadJob#REASON_UNKNOWN_JOB_CLASS}). Default: true. Set false on a queue
     * other languages also serve, where an unknown class is another worker's job.
     */
    public Builder countUnknownClasses(boolean count) {
      this.countUnknownClasses = count;
      return this;
    }

    /** The interceptor. */
    public DeadLetterInterceptor build() {
      return new DeadLetterInterceptor(this);
    }

    private static int checkAttempts(String option, int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException(option + ": must be at least 1, got " + attempts);
      }
      return attempts;
    }
  }
}
