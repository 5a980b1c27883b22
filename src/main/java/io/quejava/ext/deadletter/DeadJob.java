package io.quejava.ext.deadletter;

import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A dead job as read: the que_jobs row it was, and when, why and where it died. Immutable.
 *
 * <p>On schema 3 it is a {@code que_dead_jobs} row; on schemas 4 to 7 an expired {@code que_jobs}
 * row, whose {@link #diedAt()} is {@code expired_at}, whose {@link #reason()} is
 * {@value #REASON_EXPIRED} and which has no {@link #workerName()} (Que's columns have no place for it).
 */
public final class DeadJob {
  /** {@link #reason()} of a job whose last allowed attempt failed. */
  public static final String REASON_MAX_ATTEMPTS = "max_attempts";
  /** {@link #reason()} of a job whose last allowed attempt met an unknown job class. */
  public static final String REASON_UNKNOWN_JOB_CLASS = "unknown_job_class";
  /** {@link #reason()} of an expired job on schemas 4 to 7. */
  public static final String REASON_EXPIRED = "expired";

  /**
   * An exception class name at the start of the first line, followed by {@code ':'} or the end:
   * {@code java.lang.IllegalStateException}, {@code Billing::CardDeclined}, {@code NameError}. The
   * same pattern {@link DeadLetters#countByErrorType} groups by in SQL.
   */
  static final String ERROR_CLASS_REGEX =
      "^([A-Za-z_$][A-Za-z0-9_$]*(?:(?:\\.|::)[A-Za-z_$][A-Za-z0-9_$]*)*)(?::|$)";
  private static final Pattern ERROR_CLASS = Pattern.compile(ERROR_CLASS_REGEX);
  /** Longest error type kept when it is the first line rather than a class name. */
  static final int MAX_ERROR_TYPE = 200;

  private final long id;
  private final String queue;
  private final int priority;
  private final Instant runAt;
  private final String jobClass;
  private final String argsJson;
  private final int errorCount;
  private final String lastError;
  private final String lastErrorBacktrace;
  private final Instant diedAt;
  private final String reason;
  private final String workerName;

  DeadJob(long id, String queue, int priority, Instant runAt, String jobClass, String argsJson, int errorCount,
      String lastError, String lastErrorBacktrace, Instant diedAt, String reason, String workerName) {
    this.id = id;
    this.queue = queue;
    this.priority = priority;
    this.runAt = runAt;
    this.jobClass = jobClass;
    this.argsJson = argsJson;
    this.errorCount = errorCount;
    this.lastError = lastError;
    this.lastErrorBacktrace = lastErrorBacktrace;
    this.diedAt = diedAt;
    this.reason = reason;
    this.workerName = workerName;
  }

  /** The job id it had in que_jobs, which a replay keeps. */
  public long id() {
    return id;
  }

  /** The queue it was in, and goes back to on replay. */
  public String queue() {
    return queue;
  }

  /** Its priority. */
  public int priority() {
    return priority;
  }

  /** Its run_at when it died (the time of its last attempt's schedule). */
  public Instant runAt() {
    return runAt;
  }

  /** Its job class. */
  public String jobClass() {
    return jobClass;
  }

  /** Its args as stored: the verbatim JSON text on schema 3, jsonb's normalised text on 4 to 7. */
  public String argsJson() {
    return argsJson;
  }

  /** How many attempts failed, the last one included. */
  public int errorCount() {
    return errorCount;
  }

  /**
   * The last failure's text: on schema 3 {@code "<exception class>: <message>"}, a newline and the
   * stack trace (or {@code unknown job type: "<class>"}); on 4 to 7 {@code last_error_message}.
   */
  public java.util.Optional<String> lastError() {
    return java.util.Optional.ofNullable(lastError);
  }

  /** Schema 4 to 7: {@code last_error_backtrace}; empty on schema 3, where the trace is in {@link #lastError()}. */
  public java.util.Optional<String> lastErrorBacktrace() {
    return java.util.Optional.ofNullable(lastErrorBacktrace);
  }

  /** When it died: {@code died_at} on schema 3, {@code expired_at} on 4 to 7. */
  public Instant diedAt() {
    return diedAt;
  }

  /** Why it died: {@value #REASON_MAX_ATTEMPTS}, {@value #REASON_UNKNOWN_JOB_CLASS} or {@value #REASON_EXPIRED}. */
  public String reason() {
    return reason;
  }

  /** The name of the worker whose attempt was the last (schema 3); empty when unknown. */
  public java.util.Optional<String> workerName() {
    return java.util.Optional.ofNullable(workerName);
  }

  /**
   * What {@link DeadLetters#countByErrorType} groups this job under: the exception class at the start
   * of the last error's first line, or else that first line (at most 200 characters); {@code ""}
   * when there is no error text.
   */
  public String errorType() {
    return errorType(lastError);
  }

  static String errorType(String lastError) {
    if (lastError == null) {
      return "";
    }
    int nl = lastError.indexOf('\n');
    String first = nl >= 0 ? lastError.substring(0, nl) : lastError;
    Matcher m = ERROR_CLASS.matcher(first);
    if (m.find()) {
      return m.group(1);
    }
    return first.codePointCount(0, first.length()) <= MAX_ERROR_TYPE
        ? first : first.substring(0, first.offsetByCodePoints(0, MAX_ERROR_TYPE));
  }

  @Override
  public String toString() {
    return "DeadJob{id=" + id + ", class=" + jobClass + ", queue='" + queue + "', errorCount=" + errorCount
        + ", diedAt=" + diedAt + ", reason=" + reason + (workerName != null ? ", worker=" + workerName : "")
        + ", error=" + errorType() + "}";
  }
}
