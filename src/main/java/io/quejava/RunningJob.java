package io.quejava;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;

/**
 * What a handler (and each {@link JobInterceptor}) sees of the job it runs: the row and its args,
 * the connection that holds the job's lock, the outcomes it may choose, and this attempt's progress,
 * cancellation and logger. The worker owns the lock: it writes the outcome and unlocks after the
 * handler returns, so there is nothing to close here (compare {@link LockedJob}, the lock handle
 * {@link Client#lockJob} returns).
 *
 * <p>Returning normally means success: the job is deleted unless the handler resolved it already.
 * Throwing means failure: the error is recorded and the job retried after the backoff. Not
 * thread-safe: use it from the handler's thread (except {@link #cancel}, which any thread may call).
 */
public final class RunningJob {
  private final LockedJob locked;
  private final JobContext context;

  RunningJob(LockedJob locked, JobContext context) {
    this.locked = locked;
    this.context = context;
  }

  LockedJob locked() {
    return locked;
  }

  /** The row as it was when the job was locked. */
  public Job job() {
    return locked.job();
  }

  /** The job id; also the key of its advisory lock. */
  public long id() {
    return locked.job().id();
  }

  /** The job class, the key the {@link WorkMap} resolved. */
  public String jobClass() {
    return locked.job().jobClass();
  }

  /** The queue the job was locked from. */
  public String queue() {
    return locked.job().queue();
  }

  /** The job's priority; lower runs first. */
  public int priority() {
    return locked.job().priority();
  }

  /** When the job became ready (its {@code run_at} as locked). */
  public Instant runAt() {
    return locked.job().runAt();
  }

  /** How many times the job failed before this attempt; this attempt is number {@code errorCount() + 1}. */
  public int errorCount() {
    return locked.job().errorCount();
  }

  /** The args parsed as a JSON array. */
  public JsonNode args() {
    return locked.job().args();
  }

  /** Argument {@code index} converted to {@code type} by the client's mapper. */
  public <T> T arg(int index, Class<T> type) {
    return locked.job().arg(index, type);
  }

  /**
   * The args bound to a record (see {@link JobArgs}).
   *
   * @throws JobArgsException naming the job class, the record and the field when they do not bind
   */
  public <A extends Record> A args(Class<A> type) {
    return locked.job().args(type);
  }

  /**
   * Schema 6–7: the kwargs bound to a record.
   *
   * @throws JobArgsException naming the job class, the record and the field when they do not bind
   */
  public <A extends Record> A kwargs(Class<A> type) {
    return locked.job().kwargs(type);
  }

  /**
   * The connection that holds the job's lock, for work that must commit together with the job's
   * outcome. Do not close it (closing does nothing), and leave no transaction open when the handler
   * returns: one left open is rolled back and the attempt counts as failed.
   */
  public Connection connection() {
    return locked.connection();
  }

  /**
   * Deletes the job now; inside a transaction on {@link #connection()}, together with it. Idempotent.
   *
   * @throws JobChangedException inside a transaction, when the job's row changed under its lock
   */
  public void delete() {
    locked.delete();
  }

  /**
   * Keeps the row with {@code finished_at = now()} (schema 4–7).
   *
   * @throws UnsupportedOperationException on schema 3
   * @throws JobChangedException inside a transaction, when the job's row changed under its lock
   */
  public void finish() {
    locked.finish();
  }

  /**
   * Keeps the row with {@code expired_at = now()}; it never runs again (schema 4–7).
   *
   * @throws UnsupportedOperationException on schema 3
   * @throws JobChangedException inside a transaction, when the job's row changed under its lock
   */
  public void expire() {
    locked.expire();
  }

  /**
   * Runs the job again after {@code delay} (error_count + 1, as Que's {@code retry_in}).
   *
   * @throws JobChangedException inside a transaction, when the job's row changed under its lock
   */
  public void retryIn(Duration delay) {
    locked.retryIn(delay);
  }

  /**
   * Records this failure now (retried after the backoff) without throwing.
   *
   * @throws JobChangedException inside a transaction, when the job's row changed under its lock
   */
  public void error(Throwable failure) {
    locked.error(failure);
  }

  /**
   * Records a failure with this text now.
   *
   * @throws JobChangedException inside a transaction, when the job's row changed under its lock
   */
  public void error(String message) {
    locked.error(message);
  }

  /** True once the job was deleted, errored, retried, finished or expired in this attempt. */
  public boolean isResolved() {
    return locked.isResolved();
  }

  /** True once the job was deleted in this attempt (and not rolled back). */
  public boolean isDeleted() {
    return locked.isDeleted();
  }

  /** This attempt's context: the same progress, cancellation and logger as the methods below. */
  public JobContext context() {
    return context;
  }

  /** Reports how far the job got, 0 to 100 (the heartbeat extension stores it). */
  public void progress(int percent) {
    context.progress(percent);
  }

  /** True once the attempt was cancelled (shutdown deadline, timeout): return or throw soon. */
  public boolean isCancelled() {
    return context.isCancelled();
  }

  /** Why the attempt was cancelled; empty when it was not. */
  public Optional<String> cancelReason() {
    return context.cancelReason();
  }

  /** True when the worker is shutting down or the attempt was cancelled. */
  public boolean isStopRequested() {
    return context.isStopRequested();
  }

  /** A logger named {@code io.quejava.job.<job class>}; the MDC holds the job id, class and queue. */
  public Logger logger() {
    return context.logger();
  }

  /** When this attempt started, by this JVM's clock. */
  public Instant startedAt() {
    return context.startedAt();
  }

  /** Cancels this attempt: sets the flag and interrupts the handler's thread (first reason wins). */
  public void cancel(String reason) {
    context.cancel(reason);
  }

  @Override
  public String toString() {
    return "RunningJob{" + locked.job() + "}";
  }
}
