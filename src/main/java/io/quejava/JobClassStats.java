package io.quejava;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The figures of one job class in one queue, as {@link Statistics#byJobClass(String)} reads them;
 * the states mean what they mean in {@link QueueStats}. No index leads with job_class, so on a queue
 * with more rows than the exact limit every figure here, {@code running} and the oldest ready job
 * included, comes from a block sample and {@link #estimated()} is true.
 *
 * @param queue the queue
 * @param jobClass the job class, as stored (untrusted text)
 * @param ready jobs due now that no session holds
 * @param scheduled jobs whose run_at is in the future
 * @param running jobs whose advisory lock some session holds
 * @param failing jobs not running with error_count above 0
 * @param finished schema 4–7: rows with finished_at
 * @param expired schema 4–7: rows with expired_at
 * @param oldestReadyAt run_at of the oldest ready job no session holds
 * @param oldestReadyAge how long that job has been due (zero when there is none)
 * @param estimated whether the figures are estimates
 */
public record JobClassStats(
    String queue,
    String jobClass,
    long ready,
    long scheduled,
    long running,
    long failing,
    long finished,
    long expired,
    Optional<Instant> oldestReadyAt,
    Duration oldestReadyAge,
    boolean estimated) {}
