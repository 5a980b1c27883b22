package io.quejava;

import java.time.Duration;
import java.util.Optional;

/**
 * One ended attempt of a job, as a {@link JobListener} hears it, after its outcome was written.
 *
 * @param jobId the job id
 * @param jobClass the job class
 * @param queue the queue it was locked from
 * @param priority its priority
 * @param attempt which attempt this was: the job's {@code error_count} when it was locked, plus one
 * @param outcome how it ended
 * @param error the failure, for {@link JobOutcome#FAILED}, {@link JobOutcome#EXPIRED},
 *     {@link JobOutcome#DEAD}, {@link JobOutcome#CHANGED} and a cancelled handler that threw
 * @param runTime from the handler's start (interceptors included) to the outcome written
 * @param queueWait from the job's {@code run_at} to the handler's start (zero when the clocks
 *     disagree the other way)
 * @param workerName the worker's name (its thread name in a pool)
 */
public record JobEvent(long jobId, String jobClass, String queue, int priority, int attempt, JobOutcome outcome,
    Optional<Throwable> error, Duration runTime, Duration queueWait, String workerName) {

  /**
   * One attempt about to start, on the worker's thread, before the interceptors and the handler.
   *
   * @param jobId the job id
   * @param jobClass the job class
   * @param queue the queue it was locked from
   * @param priority its priority
   * @param attempt the job's {@code error_count} when it was locked, plus one
   * @param queueWait from the job's {@code run_at} to now (zero when the clocks disagree)
   * @param workerName the worker's name (its thread name in a pool)
   */
  public record Start(long jobId, String jobClass, String queue, int priority, int attempt, Duration queueWait,
      String workerName) {}
}
