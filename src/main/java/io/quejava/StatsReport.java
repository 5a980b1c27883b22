package io.quejava;

import java.time.Instant;
import java.util.List;

/**
 * Every queue's figures at one moment ({@link Statistics#summary()}).
 *
 * @param takenAt the database's clock when the figures were read
 * @param schemaVersion the que_jobs schema version (3 to 7)
 * @param queues one entry per queue that has rows, ordered by name
 * @param runningUnlocated schema 3 on a large table only: locks held on job ids that were not found
 *     where workers take jobs (the first rows of each queue) nor in que-java's heartbeats. They are
 *     running jobs whose queue was not located cheaply, or bigint advisory locks the application
 *     takes for its own purposes; 0 otherwise
 * @param deadLetters whether the deadletter extension is installed (so {@link QueueStats#dead()} is
 *     present)
 * @param exactLimit the row count up to which figures are exact
 */
public record StatsReport(
    Instant takenAt,
    int schemaVersion,
    List<QueueStats> queues,
    long runningUnlocated,
    boolean deadLetters,
    int exactLimit) {

  /** Whether any figure of any queue is an estimate. */
  public boolean estimated() {
    return queues.stream().anyMatch(QueueStats::estimated);
  }
}
