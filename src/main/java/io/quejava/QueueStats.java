package io.quejava;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The figures of one queue at one moment, as {@link Statistics#summary()} reads them. The states do
 * not overlap: a job is {@code running} while some session (of any language) holds its advisory
 * lock; otherwise it is {@code ready} (run_at has come), {@code scheduled} (run_at is in the future,
 * which includes failed jobs waiting for their retry), or on schema 4 to 7 {@code finished} or
 * {@code expired}. {@code failing} cuts across ready and scheduled: jobs not running whose
 * error_count is above 0.
 *
 * <p>When {@link #estimated()} is true, {@code ready}, {@code scheduled}, {@code failing},
 * {@code finished} and {@code expired} are estimates from a block sample of the table (the queue
 * has more rows than the exact limit, or on schema 4 to 7 the table does, for finished and
 * expired); {@code running} and {@link #oldestReadyAt()} are always read exactly.
 *
 * @param queue the queue's name, as stored (untrusted text: strip control characters before
 *     printing it on a terminal)
 * @param ready jobs due now that no session holds
 * @param scheduled jobs whose run_at is in the future
 * @param running jobs whose advisory lock some session holds
 * @param failing jobs not running with error_count above 0 (ready or scheduled)
 * @param finished schema 4–7: rows with finished_at (0 on schema 3)
 * @param expired schema 4–7: rows with expired_at (0 on schema 3)
 * @param dead dead letters of this queue when the deadletter extension is installed: rows of
 *     que_dead_jobs on schema 3, the expired rows on 4–7 (where the extension keeps its dead jobs)
 * @param oldestReadyAt run_at of the oldest ready job no session holds
 * @param oldestReadyAge how long that job has been due (zero when there is none): the queue's latency
 * @param estimated whether the counts above are estimates
 */
public record QueueStats(
    String queue,
    long ready,
    long scheduled,
    long running,
    long failing,
    long finished,
    long expired,
    OptionalLong dead,
    Optional<Instant> oldestReadyAt,
    Duration oldestReadyAge,
    boolean estimated) {}
