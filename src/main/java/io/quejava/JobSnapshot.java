package io.quejava;

import java.time.Instant;
import java.util.Optional;

/**
 * A que_jobs row as an operator sees it ({@link JobAdmin}): every column, and its state at the
 * moment it was read. Text fields come from any language and any team: strip control characters
 * before printing them on a terminal.
 *
 * @param id job_id on schema 3, id on 4 to 7
 * @param queue the queue
 * @param priority lower runs first
 * @param runAt when it may run
 * @param jobClass the job class
 * @param argsJson the args, a JSON array as stored
 * @param errorCount failed attempts so far
 * @param lastError the last failure's text (schema 3: last_error; 4–7: last_error_message)
 * @param lastErrorBacktrace schema 4–7: last_error_backtrace
 * @param finishedAt schema 4–7: finished_at
 * @param expiredAt schema 4–7: expired_at
 * @param kwargsJson schema 6–7: kwargs
 * @param state the job's state when read
 */
public record JobSnapshot(
    long id,
    String queue,
    int priority,
    Instant runAt,
    String jobClass,
    String argsJson,
    int errorCount,
    Optional<String> lastError,
    Optional<String> lastErrorBacktrace,
    Optional<Instant> finishedAt,
    Optional<Instant> expiredAt,
    Optional<String> kwargsJson,
    State state) {

  /** Where a job stands: the same states as {@link QueueStats}. */
  public enum State {
    /** Due, and no session holds it. */
    READY,
    /** run_at is in the future (failed jobs waiting for their retry included). */
    SCHEDULED,
    /** Some session holds its advisory lock. */
    RUNNING,
    /** Schema 4–7: finished_at is set. */
    FINISHED,
    /** Schema 4–7: expired_at is set. */
    EXPIRED
  }

  /** Whether it failed before and is not running now. */
  public boolean failing() {
    return errorCount > 0 && (state == State.READY || state == State.SCHEDULED);
  }
}
