package io.quejava.internal;

import java.time.OffsetDateTime;

/**
 * A que_jobs row as a dialect read it. {@code runAt} keeps PostgreSQL's microseconds so the classic
 * dialect can address the row by its exact key.
 */
public record JobRow(
    long id,
    String queue,
    int priority,
    OffsetDateTime runAt,
    String jobClass,
    String argsJson,
    int errorCount,
    String lastError) {}
