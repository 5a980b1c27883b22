package io.quejava;

import java.time.Instant;
import java.util.List;

/**
 * A {@link WorkerPool}'s own figures at one moment ({@link WorkerPool#stats()}): what this process
 * works, where {@link Statistics} reads what the table holds. Read without a lock, worker by
 * worker, so the figures may be a few microseconds apart from each other.
 *
 * @param pool the pool's name
 * @param workers the pool's size
 * @param busyWorkers workers running a job now ({@code running().size()})
 * @param idleWorkers workers in an idle wait now (see {@link WorkerPool#idleWorkers()}); the rest
 *     of the workers not busy are between jobs, looking for the next one
 * @param jobsWorked attempts whose handler succeeded since the pool was built
 * @param jobsFailed attempts that failed since the pool was built
 * @param running the jobs running now, ordered by worker
 */
public record PoolStats(
    String pool, int workers, int busyWorkers, int idleWorkers, long jobsWorked, long jobsFailed,
    List<Running> running) {

  /**
   * One job a worker of the pool runs now.
   *
   * @param jobId the job id
   * @param jobClass the job class (untrusted text)
   * @param queue the queue it was locked from (untrusted text)
   * @param attempt the job's error_count when locked, plus one
   * @param startedAt when its attempt started here
   * @param workerName the worker's name (its thread name)
   */
  public record Running(long jobId, String jobClass, String queue, int attempt, Instant startedAt,
      String workerName) {}
}
