package io.quejava;

/**
 * Hears every attempt a worker makes: when it starts and how it ended. Called synchronously on the
 * worker's thread, so keep it cheap (count, record, hand off); an exception it throws is logged and
 * changes nothing. Metrics and the dashboard's figures are built on it. Register it with
 * {@link WorkerPool.Builder#listener} or {@link WorkerConfig.Builder#listener}.
 *
 * <pre>{@code
 * WorkerPool.builder(client, work)
 *     .listener(e -> log.info("{} {} in {} ms", e.jobClass(), e.outcome(), e.runTime().toMillis()))
 *     .build();
 * }</pre>
 */
@FunctionalInterface
public interface JobListener {
  /** An attempt is about to run. Default: nothing. */
  default void jobStarted(JobEvent.Start start) {}

  /**
   * An attempt ended and its outcome was written (or, for {@link JobOutcome#CANCELLED}, left). With
   * {@link WorkerPool.Builder#batchedCompletion} a succeeded job is heard once its batched delete
   * has committed, possibly after later jobs of its batch have started.
   */
  void jobEnded(JobEvent event);
}
