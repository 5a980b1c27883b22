package io.quejava.internal;

import java.time.OffsetDateTime;

/**
 * A que_jobs row as a dialect read it. {@code runAt} keeps PostgreSQL's microseconds so the classic
 * dialect can address the row by its exact key. On schema 3, {@code lastError} is {@code last_error}
 * and the modern-only fields are null; on 4–7 it is {@code last_error_message}.
 */
public record JobRow(
    long id,
    String queue,
    int priority,
    OffsetDateTime runAt,
    String jobClass,
    String argsJson,
    int errorCount,
    String lastError,
    String lastErrorBacktrace,
    String kwargsJson,
    String dataJson,
    Integer jobSchemaVersion) {

  /** A schema-3 row. */
  public JobRow(long id, String queue, int priority, OffsetDateTime runAt, String jobClass, String argsJson,
      int errorCount, String lastError) {
    this(id, queue, priority, runAt, jobClass, argsJson, errorCount, lastError, null, null, null, null);
  }
}
