package io.quejava;

/** How one attempt of a job ended, as a {@link JobListener} hears it. */
public enum JobOutcome {
  /** The handler returned: the job was deleted (or, on schema 4–7, finished). */
  SUCCEEDED,
  /** The attempt failed and the job will run again after its backoff (also an explicit {@code retryIn}). */
  FAILED,
  /** The job was expired by the worker after its last allowed failure (schema 4–7, {@code maxRetryCount}). */
  EXPIRED,
  /**
   * The attempt failed and the handler or an interceptor took the job out of the retry cycle (the
   * dead-letter extension moves it to {@code que_dead_jobs} or expires it).
   */
  DEAD,
  /** Cancelled at the shutdown deadline: the row is left as it was for another worker. */
  CANCELLED,
  /**
   * The job's row changed under its lock ({@link JobChangedException}): the attempt's transaction
   * was rolled back and the job left as it now is.
   */
  CHANGED
}
