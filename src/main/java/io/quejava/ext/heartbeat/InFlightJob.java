package io.quejava.ext.heartbeat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One job running now, as {@link InFlight#list} found it.
 *
 * <p>A {@link Source#HEARTBEAT} job is run by a que-java worker with {@link Heartbeats}: its row is
 * in {@code que_heartbeats} and the session named by {@code backendPid} still holds its lock. Every
 * field is filled in, and it can be {@link #hung()}. An {@link Source#ADVISORY_LOCK} job is known only
 * from its lock: a Ruby or Go worker, or a Java worker without heartbeats (or one that locked the job
 * ahead in a batch and has not started it: {@link #javaHolder()}). Worker, start, beat, progress and
 * timeout are then empty; on schema 4-7 the host and pid of a Ruby locker come from que_lockers. Such
 * jobs are never hung: nothing tells a long job from a stuck one without a heartbeat.
 *
 * @param source where the job was found
 * @param jobId the job's id
 * @param queue its queue
 * @param jobClass its class
 * @param backendPid the session holding its advisory lock
 * @param workerName the Java worker (thread name); empty when unknown
 * @param host the host of the worker's process (Java), of the Ruby locker (schema 4-7); empty when unknown
 * @param osPid the OS pid of that process; empty when unknown
 * @param startedAt when the attempt started (by the worker's clock); empty without a heartbeat
 * @param lastBeat the last heartbeat (by the database's clock); empty without a heartbeat
 * @param progress the last progress the job reported (0-100); empty when none
 * @param timeout the attempt's timeout (timeout extension); empty when none
 * @param applicationName the session's application_name (pg_stat_activity); empty if not visible
 * @param clientAddress the session's client address; empty (Unix socket, or not visible)
 * @param backendState the session's state ({@code idle}, {@code active}, {@code idle in transaction}, ...)
 * @param javaHolder true when the holding session also runs a job with a heartbeat: a que-java worker
 * @param stale the heartbeat is older than the stale threshold
 * @param overTimeout the job runs more than one beat interval past its timeout
 */
public record InFlightJob(
    Source source,
    long jobId,
    String queue,
    String jobClass,
    int backendPid,
    Optional<String> workerName,
    Optional<String> host,
    OptionalLong osPid,
    Optional<Instant> startedAt,
    Optional<Instant> lastBeat,
    OptionalInt progress,
    Optional<Duration> timeout,
    Optional<String> applicationName,
    Optional<String> clientAddress,
    String backendState,
    boolean javaHolder,
    boolean stale,
    boolean overTimeout) {

  /** Where a running job was found. */
  public enum Source {
    /** A que-java heartbeat whose lock the same session still holds. */
    HEARTBEAT,
    /** Only an advisory lock (Ruby, Go, or Java without heartbeats). */
    ADVISORY_LOCK
  }

  /** True when the lock is held but the heartbeat is stale, or the job runs past its timeout. */
  public boolean hung() {
    return stale || overTimeout;
  }

  /** Why the job counts as hung; empty when it does not. */
  public Optional<String> hungReason() {
    String beat = lastBeat.map(Instant::toString).orElse("?");
    String limit = timeout.map(Duration::toString).orElse("?");
    if (stale && overTimeout) {
      return Optional.of("heartbeat stale since " + beat + " and running past its timeout of " + limit);
    }
    if (stale) {
      return Optional.of("heartbeat stale since " + beat);
    }
    if (overTimeout) {
      return Optional.of("running past its timeout of " + limit + " (started "
          + startedAt.map(Instant::toString).orElse("?") + ")");
    }
    return Optional.empty();
  }
}
