package io.quejava;

import io.quejava.internal.AdminSql;
import io.quejava.internal.Args;
import java.util.Locale;
import java.util.Optional;

/**
 * Which jobs {@link JobAdmin#list(JobQuery)} returns (and the bulk writes touch): every filter
 * given must match. Immutable; each method returns a new query.
 *
 * <pre>{@code
 * JobQuery.all().queue("mailers").state("failing").errorContains("timeout").limit(50)
 * }</pre>
 */
public final class JobQuery {
  /** Default for {@link #limit(int)}: {@value}. */
  public static final int DEFAULT_LIMIT = 100;
  /** The largest {@link #limit(int)}: {@value}. */
  public static final int MAX_LIMIT = 100_000;

  private final String queue;
  private final String jobClass;
  private final String state;
  private final String errorContains;
  private final int limit;

  private JobQuery(String queue, String jobClass, String state, String errorContains, int limit) {
    this.queue = queue;
    this.jobClass = jobClass;
    this.state = state;
    this.errorContains = errorContains;
    this.limit = limit;
  }

  /** Every job, up to {@value #DEFAULT_LIMIT}. */
  public static JobQuery all() {
    return new JobQuery(null, null, null, null, DEFAULT_LIMIT);
  }

  /** Jobs of this queue. */
  public JobQuery queue(String queue) {
    return new JobQuery(Args.notNull(queue, "queue"), jobClass, state, errorContains, limit);
  }

  /** Jobs of exactly this class. */
  public JobQuery jobClass(String jobClass) {
    return new JobQuery(queue, Args.notNull(jobClass, "jobClass"), state, errorContains, limit);
  }

  /**
   * Jobs in this state: ready, scheduled, running, failing (error_count above 0, not running), and
   * on schema 4–7 finished or expired.
   *
   * @throws IllegalArgumentException for any other word
   */
  public JobQuery state(String state) {
    String s = Args.notNull(state, "state").toLowerCase(Locale.ROOT);
    if (!AdminSql.STATES.contains(s)) {
      throw new IllegalArgumentException("state: must be one of " + String.join(", ", AdminSql.STATES) + ", got '" + state + "'");
    }
    return new JobQuery(queue, jobClass, s, errorContains, limit);
  }

  /** Jobs whose last error contains this text, ignoring case (4–7: message or backtrace). */
  public JobQuery errorContains(String text) {
    if (Args.notNull(text, "errorContains").isEmpty()) {
      throw new IllegalArgumentException("errorContains: must not be empty");
    }
    return new JobQuery(queue, jobClass, state, text, limit);
  }

  /** At most this many jobs (1 to {@value #MAX_LIMIT}), first in lock order (priority, run_at, id). */
  public JobQuery limit(int limit) {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit: must be 1 to " + MAX_LIMIT + ", got " + limit);
    }
    return new JobQuery(queue, jobClass, state, errorContains, limit);
  }

  public Optional<String> queue() {
    return Optional.ofNullable(queue);
  }

  public Optional<String> jobClass() {
    return Optional.ofNullable(jobClass);
  }

  public Optional<String> state() {
    return Optional.ofNullable(state);
  }

  public Optional<String> errorContains() {
    return Optional.ofNullable(errorContains);
  }

  public int limit() {
    return limit;
  }
}
