package io.quejava;

/**
 * Thrown by {@link LockedJob#delete()}, {@link LockedJob#error}, {@link LockedJob#retryIn},
 * {@link LockedJob#finish()} and {@link LockedJob#expire()} when they run inside a transaction open
 * on the job's connection and match no row: the job was changed (an operator moved its
 * {@code run_at}, a script deleted it) between the lock and the outcome.
 *
 * <p>Committing that transaction anyway would commit the handler's effect while the job stays in the
 * table and runs again. Let the exception propagate (or roll back yourself): the transaction rolls
 * back, and the job, as it now is, runs again later with the effect written once. In autocommit the
 * same mismatch is only logged, since there is no transaction of yours to undo.
 */
public final class JobChangedException extends QueException {
  private static final long serialVersionUID = 1L;

  private final long jobId;

  JobChangedException(long jobId, String message) {
    super(message);
    this.jobId = jobId;
  }

  /** The id of the job whose row no longer matched. */
  public long jobId() {
    return jobId;
  }
}
