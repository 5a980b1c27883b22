package io.quejava;

import io.quejava.internal.Args;
import io.quejava.internal.Json;
import io.quejava.internal.Text;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;

/**
 * A job to enqueue: its class, its args (a JSON array) and the per-call options. Immutable. Every
 * option and JSON text is checked when it is set; args and kwargs given as Java values or records
 * are written by the enqueuing client's Jackson mapper and checked then, before anything reaches the
 * database. Bad input fails with an {@link IllegalArgumentException} whose message starts with the
 * field's name ({@code jobs[i].} first in a batch).
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
  /** The args as JSON text, once known: given by {@link #ofJson} or rendered by a client's mapper. */
  private final String argsJson;
  /** The args as Java values or a record, written by the enqueuing client's mapper; null once JSON. */
  private final Object argsSource;
  private final String queue;
  private final int priority;
  private final Instant runAt;
  private final String kwargsJson;
  private final Object kwargsSource;
  private final List<String> tags;
  /** The uniqueness option, or null (see {@link #unique(UniqueOptions)}). */
  private final UniqueOptions unique;

  /** Most tags a job may carry (Que's limit). */
  public static final int MAX_TAGS = 5;

  private NewJob(String jobClass, String argsJson, Object argsSource, String queue, int priority, Instant runAt,
      String kwargsJson, Object kwargsSource, List<String> tags) {
    this(jobClass, argsJson, argsSource, queue, priority, runAt, kwargsJson, kwargsSource, tags, null);
  }

  private NewJob(String jobClass, String argsJson, Object argsSource, String queue, int priority, Instant runAt,
      String kwargsJson, Object kwargsSource, List<String> tags, UniqueOptions unique) {
    this.unique = unique;
    this.jobClass = jobClass;
    this.argsJson = argsJson;
    this.argsSource = argsSource;
    this.queue = queue;
    this.priority = priority;
    this.runAt = runAt;
    this.kwargsJson = kwargsJson;
    this.kwargsSource = kwargsSource;
    this.tags = tags;
  }

  private NewJob with(String queue, int priority, Instant runAt) {
    return new NewJob(jobClass, argsJson, argsSource, queue, priority, runAt, kwargsJson, kwargsSource, tags, unique);
  }

  /**
   * A job whose positional args are these values, one each, written as a JSON array by the
   * enqueuing client's Jackson mapper: {@code of("Sum", 1, 2)} is {@code [1, 2]} and
   * {@code of("Sum", List.of(1, 2))} is {@code [[1, 2]]} (one arg, a list). A Ruby job is called as
   * {@code run(*args)} with them. To pass a record as the args themselves, see {@link #of(String, Record)}.
   */
  public static NewJob of(String jobClass, Object... args) {
    checkJobClass(jobClass);
    List<Object> values = args == null ? List.of() : java.util.Collections.unmodifiableList(Arrays.asList(args.clone()));
    return new NewJob(jobClass, null, values,
        null, DEFAULT_PRIORITY, null, null, null, List.of());
  }

  /**
   * A job whose args are this record (see {@link JobArgs}): positionally, its components are the
   * args ({@code record ChargeCard(long orderId, String currency)} is {@code [1042, "EUR"]}); with
   * {@code @JobArgs(shape = OBJECT)} it is one hash, {@code [{"order_id": 1042, "currency": "EUR"}]}.
   * A typed handler of the same record reads them back.
   */
  public static NewJob of(String jobClass, Record args) {
    checkJobClass(jobClass);
    if (args == null) {
      throw new IllegalArgumentException("args: must not be null");
    }
    return new NewJob(jobClass, null, args, null, DEFAULT_PRIORITY, null, null, null, List.of());
  }

  /**
   * A job whose args are this JSON text, stored exactly as given (a schema-3 {@code json} column keeps
   * key order and spacing). It must be one JSON array.
   */
  public static NewJob ofJson(String jobClass, String argsJson) {
    checkJobClass(jobClass);
    Json.requireArray("args", argsJson);
    return new NewJob(jobClass, argsJson, null, null, DEFAULT_PRIORITY, null, null, null, List.of());
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
   * Keyword arguments, written as a JSON object by the enqueuing client's Jackson mapper (a Que 2.x
   * job is called as {@code run(*args, **kwargs)}). Schema 6 and 7 only; the default there is
   * {@code {}}. Keys must be strings.
   */
  public NewJob kwargs(java.util.Map<String, ?> kwargs) {
    if (kwargs == null) {
      throw new IllegalArgumentException("kwargs: must not be null");
    }
    return new NewJob(jobClass, argsJson, argsSource, queue, priority, runAt, null, new java.util.LinkedHashMap<>(kwargs), tags, unique);
  }

  /**
   * Keyword arguments from a record: one key per component, in snake_case unless the record's
   * {@link JobArgs#naming()} says otherwise. Schema 6 and 7 only.
   */
  public NewJob kwargs(Record kwargs) {
    if (kwargs == null) {
      throw new IllegalArgumentException("kwargs: must not be null");
    }
    return new NewJob(jobClass, argsJson, argsSource, queue, priority, runAt, null, kwargs, tags, unique);
  }

  /** Keyword arguments as JSON text: exactly one JSON object. Schema 6 and 7 only. */
  public NewJob kwargsJson(String kwargsJson) {
    Json.requireObject("kwargs", kwargsJson);
    return new NewJob(jobClass, argsJson, argsSource, queue, priority, runAt, kwargsJson, null, tags, unique);
  }

  /**
   * This job with its args and kwargs written as JSON by {@code mapper} and checked (one array, one
   * object, no NUL, no unpaired surrogate); the same job when they are JSON already.
   *
   * @throws IllegalArgumentException naming the field, when a value cannot be written or stored
   */
  NewJob render(com.fasterxml.jackson.databind.ObjectMapper mapper) {
    if (argsSource == null && kwargsSource == null) {
      return this;
    }
    String args = argsJson;
    if (argsSource instanceof List<?> l && l.isEmpty() && kwargsSource == null) {
      return new NewJob(jobClass, "[]", null, queue, priority, runAt, kwargsJson, null, tags, unique);
    }
    if (argsSource instanceof Record r) {
      args = io.quejava.internal.RecordArgs.toArgsJson(mapper, r);
    } else if (argsSource != null) {
      args = Json.write(mapper, "args", argsSource);
    }
    if (argsSource != null) {
      Json.requireArray("args", args);
    }
    String kwargs = kwargsJson;
    if (kwargsSource instanceof Record r) {
      kwargs = io.quejava.internal.RecordArgs.toKwargsJson(mapper, r);
    } else if (kwargsSource != null) {
      kwargs = Json.write(mapper, "kwargs", kwargsSource);
    }
    if (kwargsSource != null) {
      Json.requireObject("kwargs", kwargs);
    }
    return new NewJob(jobClass, args, null, queue, priority, runAt, kwargs, null, tags, unique);
  }

  /**
   * Tags, stored as {@code data = {"tags": [...]}} (schema 4 to 7): at most {@value #MAX_TAGS}, each
   * a string whose JSON form (quotes and escapes included, as Que's check measures it) is at most
   * 100 characters, so at most 98 plain characters.
   */
  public NewJob tags(String... tags) {
    Args.notNull(tags, "tags");
    if (tags.length > MAX_TAGS) {
      throw new IllegalArgumentException("tags: at most " + MAX_TAGS + " allowed, got " + tags.length);
    }
    for (int i = 0; i < tags.length; i++) {
      String t = tags[i];
      if (t == null) {
        throw new IllegalArgumentException("tags[" + i + "]: must not be null");
      }
      checkNoNul("tags[" + i + "]", t);
      String json = Json.write(Json.defaultMapper(), "tags", t);
      int length = json.codePointCount(0, json.length());
      if (length > 100) {
        throw new IllegalArgumentException("tags[" + i + "]: too long: its JSON form is " + length
            + " characters, Que allows 100 (98 plain characters plus the quotes)");
      }
    }
    return new NewJob(jobClass, argsJson, argsSource, queue, priority, runAt, kwargsJson, kwargsSource, List.of(tags), unique);
  }

  public String jobClass() {
    return jobClass;
  }

  /**
   * The args as the JSON text that will be stored. For args given as Java values or a record, the
   * text the default mapper writes; the enqueuing client writes them with its own mapper
   * ({@link Client.Builder#objectMapper}).
   */
  public String argsJson() {
    return argsSource == null ? argsJson : render(Json.defaultMapper()).argsJson;
  }

  /** The queue set on this job; empty when the dialect's default applies. */
  public java.util.Optional<String> queue() {
    return java.util.Optional.ofNullable(queue);
  }

  /** The queue set on this job, or {@code defaultQueue} when none was set. */
  public String queueOr(String defaultQueue) {
    return queue == null ? defaultQueue : queue;
  }

  public int priority() {
    return priority;
  }

  /** The kwargs JSON set on this job (written as {@link #argsJson()} is); empty when none was set. */
  public java.util.Optional<String> kwargsJson() {
    return java.util.Optional.ofNullable(kwargsSource == null ? kwargsJson : render(Json.defaultMapper()).kwargsJson);
  }

  /**
   * Makes the job unique (needs the {@code unique} extension, {@code io.quejava.ext.unique.UniqueJobs}):
   * while a job holding the same key counts, enqueueing this one inserts nothing and returns that job
   * with {@link Job#isDuplicate()} true. The database decides, so concurrent enqueues of one key end
   * with one job. See {@link UniqueOptions}.
   */
  public NewJob unique(UniqueOptions options) {
    Args.notNull(options, "options");
    return new NewJob(jobClass, argsJson, argsSource, queue, priority, runAt, kwargsJson, kwargsSource, tags, options);
  }

  /** The uniqueness option; empty for an ordinary job. */
  public java.util.Optional<UniqueOptions> unique() {
    return java.util.Optional.ofNullable(unique);
  }

  /** The tags set on this job; empty when none. */
  public List<String> tags() {
    return tags;
  }

  /** The data column for schema 4+: {@code {}} or {@code {"tags": [...]}}. */
  public String dataJson() {
    return tags.isEmpty() ? "{}" : Json.write(Json.defaultMapper(), "tags", java.util.Map.of("tags", tags));
  }

  /** The run time set on this job; empty for the database's {@code now()} at enqueue. */
  public java.util.Optional<Instant> runAt() {
    return java.util.Optional.ofNullable(runAt);
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
