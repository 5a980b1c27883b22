package io.quejava.ext.deadletter;

/**
 * Which dead jobs a {@link DeadLetters} call looks at: every condition set must hold. Immutable;
 * each setter returns a new filter and rejects bad input with an {@link IllegalArgumentException}
 * that names the option.
 *
 * <pre>{@code
 * DeadJobFilter f = DeadJobFilter.all().queue("billing").errorContains("timeout").limit(50);
 * }</pre>
 */
public final class DeadJobFilter {
  /** Default {@link #limit(int)}: {@value}. */
  public static final int DEFAULT_LIMIT = 100;
  /** Largest {@link #limit(int)}: {@value}. */
  public static final int MAX_LIMIT = 10_000;

  private static final DeadJobFilter ALL = new DeadJobFilter(null, null, null, DEFAULT_LIMIT);

  private final String queue;
  private final String jobClass;
  private final String errorContains;
  private final int limit;

  private DeadJobFilter(String queue, String jobClass, String errorContains, int limit) {
    this.queue = queue;
    this.jobClass = jobClass;
    this.errorContains = errorContains;
    this.limit = limit;
  }

  /** No condition; at most {@value #DEFAULT_LIMIT} jobs where a call returns or moves jobs. */
  public static DeadJobFilter all() {
    return ALL;
  }

  /** Only jobs of this queue (exactly; {@code ""} is Ruby 0.x's and que-go's default queue). */
  public DeadJobFilter queue(String queue) {
    return new DeadJobFilter(check("queue", queue, true), jobClass, errorContains, limit);
  }

  /** Only jobs of this job class (exactly). */
  public DeadJobFilter jobClass(String jobClass) {
    return new DeadJobFilter(queue, check("jobClass", jobClass, false), errorContains, limit);
  }

  /**
   * Only jobs whose last error text contains this text (case-sensitive; on schemas 4 to 7 the
   * message or the backtrace).
   */
  public DeadJobFilter errorContains(String text) {
    return new DeadJobFilter(queue, jobClass, check("errorContains", text, false), limit);
  }

  /**
   * At most this many jobs (1 to {@value #MAX_LIMIT}), newest death first, for the calls that return
   * or move jobs: {@link DeadLetters#list} and {@link DeadLetters#replay(DeadJobFilter)}. Counting
   * ignores it. Default: {@value #DEFAULT_LIMIT}.
   */
  public DeadJobFilter limit(int limit) {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit: must be 1 to " + MAX_LIMIT + ", got " + limit);
    }
    return new DeadJobFilter(queue, jobClass, errorContains, limit);
  }

  /** The queue condition, or null. */
  public String queue() {
    return queue;
  }

  /** The job class condition, or null. */
  public String jobClass() {
    return jobClass;
  }

  /** The error text condition, or null. */
  public String errorContains() {
    return errorContains;
  }

  /** The most jobs a call returns or moves. */
  public int limit() {
    return limit;
  }

  private static String check(String option, String value, boolean emptyAllowed) {
    if (value == null) {
      throw new IllegalArgumentException(option + ": must not be null (leave it unset for any)");
    }
    if (!emptyAllowed && value.isEmpty()) {
      throw new IllegalArgumentException(option + ": must not be empty");
    }
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(option + ": contains a NUL character, which PostgreSQL cannot store");
    }
    return value;
  }

  @Override
  public String toString() {
    return "DeadJobFilter{queue=" + queue + ", jobClass=" + jobClass + ", errorContains=" + errorContains
        + ", limit=" + limit + "}";
  }
}
