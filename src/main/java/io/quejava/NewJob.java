package io.quejava;

import io.quejava.internal.Json;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A job to enqueue: its class, its args (a JSON array) and the per-call options. Immutable; every
 * value is checked when it is set, so bad input fails here with an {@link IllegalArgumentException}
 * that names the field, before anything reaches the database.
 *
 * <pre>{@code
 * NewJob job = NewJob.of("SendInvoice", 42, Map.of("copy", true)).queue("billing").priority(10);
 * }</pre>
 */
public final class NewJob {
  /** Default priority: {@value}. Lower numbers run first. */
  public static final int DEFAULT_PRIORITY = 100;

  private static final Instant MIN_RUN_AT = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant MAX_RUN_AT = Instant.parse("9999-12-31T23:59:59.999999Z");

  private final String jobClass;
  private final String argsJson;
  private final String queue;
  private final int priority;
  private final Instant runAt;

  private NewJob(String jobClass, String argsJson, String queue, int priority, Instant runAt) {
    this.jobClass = jobClass;
    this.argsJson = argsJson;
    this.queue = queue;
    this.priority = priority;
    this.runAt = runAt;
  }

  /**
   * A job whose args are these Java values, written as a JSON array by Jackson (so a Ruby job is
   * called as {@code run(*args)} with them).
   */
  public static NewJob of(String jobClass, Object... args) {
    return of(jobClass, args == null ? List.of() : Arrays.asList(args));
  }

  /** A job whose args are the elements of {@code args}, written as a JSON array by Jackson. */
  public static NewJob of(String jobClass, List<?> args) {
    Objects.requireNonNull(args, "args");
    return ofJson(jobClass, Json.arrayOf(args));
  }

  /**
   * A job whose args are this JSON text, stored exactly as given (a schema-3 {@code json} column keeps
   * key order and spacing). It must be one JSON array.
   */
  public static NewJob ofJson(String jobClass, String argsJson) {
    checkJobClass(jobClass);
    Json.requireArray("args", argsJson);
    return new NewJob(jobClass, argsJson, null, DEFAULT_PRIORITY, null);
  }

  /** The queue to put the job in. Default: the dialect's default queue ({@code ''} on schema 3). */
  public NewJob queue(String queue) {
    if (queue == null) {
      throw new IllegalArgumentException("queue: must not be null (leave it unset for the default queue)");
    }
    checkNoNul("queue", queue);
    return new NewJob(jobClass, argsJson, queue, priority, runAt);
  }

  /** The priority, from -32768 to 32767; lower runs first. Default: {@value #DEFAULT_PRIORITY}. */
  public NewJob priority(int priority) {
    if (priority < Short.MIN_VALUE || priority > Short.MAX_VALUE) {
      throw new IllegalArgumentException(
          "priority: " + priority + " is outside a smallint (-32768 to 32767)");
    }
    return new NewJob(jobClass, argsJson, queue, priority, runAt);
  }

  /**
   * The earliest time to run the job, kept to the microsecond, in the years 1 to 9999. Default:
   * {@code null}, meaning the database's {@code now()} at enqueue, which keeps scheduling free of
   * client clock skew.
   */
  public NewJob runAt(Instant runAt) {
    if (runAt != null && (runAt.isBefore(MIN_RUN_AT) || runAt.isAfter(MAX_RUN_AT))) {
      throw new IllegalArgumentException("runAt: " + runAt + " is outside the years 1 to 9999");
    }
    // PostgreSQL keeps microseconds: truncate here so enqueue and enqueueAll store the same value.
    return new NewJob(jobClass, argsJson, queue, priority,
        runAt == null ? null : runAt.truncatedTo(ChronoUnit.MICROS));
  }

  public String jobClass() {
    return jobClass;
  }

  /** The args as the JSON text that will be stored. */
  public String argsJson() {
    return argsJson;
  }

  /** The queue set on this job, or null when the dialect's default applies. */
  public String queue() {
    return queue;
  }

  /** The queue set on this job, or {@code defaultQueue} when none was set. */
  public String queueOr(String defaultQueue) {
    return queue == null ? defaultQueue : queue;
  }

  public int priority() {
    return priority;
  }

  /** The run time set on this job, or null for the database's now(). */
  public Instant runAt() {
    return runAt;
  }

  @Override
  public String toString() {
    return "NewJob{class=" + jobClass + ", queue=" + queue + ", priority=" + priority + ", runAt=" + runAt + "}";
  }

  private static void checkJobClass(String jobClass) {
    if (jobClass == null || jobClass.isBlank()) {
      throw new IllegalArgumentException("jobClass: must not be blank");
    }
    checkNoNul("jobClass", jobClass);
  }

  private static void checkNoNul(String field, String value) {
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(field + ": contains a NUL character, which PostgreSQL cannot store");
    }
  }
}
