package io.quejava;

import io.quejava.internal.Json;
import io.quejava.internal.Text;
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
  private final String kwargsJson;
  private final List<String> tags;

  /** Most tags a job may carry (Que's limit). */
  public static final int MAX_TAGS = 5;

  private NewJob(String jobClass, String argsJson, String queue, int priority, Instant runAt,
      String kwargsJson, List<String> tags) {
    this.jobClass = jobClass;
    this.argsJson = argsJson;
    this.queue = queue;
    this.priority = priority;
    this.runAt = runAt;
    this.kwargsJson = kwargsJson;
    this.tags = tags;
  }

  private NewJob(String jobClass, String argsJson, String queue, int priority, Instant runAt) {
    this(jobClass, argsJson, queue, priority, runAt, null, List.of());
  }

  private NewJob with(String queue, int priority, Instant runAt) {
    return new NewJob(jobClass, argsJson, queue, priority, runAt, kwargsJson, tags);
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
    return with(queue, priority, runAt);
  }

  /** The priority, from -32768 to 32767; lower runs first. Default: {@value #DEFAULT_PRIORITY}. */
  public NewJob priority(int priority) {
    if (priority < Short.MIN_VALUE || priority > Short.MAX_VALUE) {
      throw new IllegalArgumentException(
          "priority: " + priority + " is outside a smallint (-32768 to 32767)");
    }
    return with(queue, priority, runAt);
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
    return with(queue, priority, runAt == null ? null : runAt.truncatedTo(ChronoUnit.MICROS));
  }

  /**
   * Keyword arguments, written as a JSON object by Jackson (a Que 2.x job is called as
   * {@code run(*args, **kwargs)}). Schema 6 and 7 only; the default there is {@code {}}. Keys must be
   * strings.
   */
  public NewJob kwargs(java.util.Map<String, ?> kwargs) {
    Objects.requireNonNull(kwargs, "kwargs");
    return kwargsJson(Json.write("kwargs", kwargs));
  }

  /** Keyword arguments as JSON text: exactly one JSON object. Schema 6 and 7 only. */
  public NewJob kwargsJson(String kwargsJson) {
    Json.requireObject("kwargs", kwargsJson);
    return new NewJob(jobClass, argsJson, queue, priority, runAt, kwargsJson, tags);
  }

  /**
   * Tags, stored as {@code data = {"tags": [...]}} (schema 4 to 7): at most {@value #MAX_TAGS}, each
   * a string whose JSON form (quotes and escapes included, as Que's check measures it) is at most
   * 100 characters, so at most 98 plain characters.
   */
  public NewJob tags(String... tags) {
    Objects.requireNonNull(tags, "tags");
    if (tags.length > MAX_TAGS) {
      throw new IllegalArgumentException("tags: at most " + MAX_TAGS + " allowed, got " + tags.length);
    }
    for (int i = 0; i < tags.length; i++) {
      String t = tags[i];
      if (t == null) {
        throw new IllegalArgumentException("tags[" + i + "]: must not be null");
      }
      checkNoNul("tags[" + i + "]", t);
      String json = Json.write("tags", t);
      int length = json.codePointCount(0, json.length());
      if (length > 100) {
        throw new IllegalArgumentException("tags[" + i + "]: too long: its JSON form is " + length
            + " characters, Que allows 100 (98 plain characters plus the quotes)");
      }
    }
    return new NewJob(jobClass, argsJson, queue, priority, runAt, kwargsJson, List.of(tags));
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

  /** The kwargs JSON set on this job, or null when none was set. */
  public String kwargsJson() {
    return kwargsJson;
  }

  /** The tags set on this job; empty when none. */
  public List<String> tags() {
    return tags;
  }

  /** The data column for schema 4+: {@code {}} or {@code {"tags": [...]}}. */
  public String dataJson() {
    return tags.isEmpty() ? "{}" : Json.write("tags", java.util.Map.of("tags", tags));
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

  /** Every string field passes here: no NUL, no unpaired surrogate (neither can be stored as given). */
  private static void checkNoNul(String field, String value) {
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(field + ": contains a NUL character, which PostgreSQL cannot store");
    }
    Text.requireWellFormed(field, value);
  }
}
