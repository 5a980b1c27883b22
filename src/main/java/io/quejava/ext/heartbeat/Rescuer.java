package io.quejava.ext.heartbeat;

import io.quejava.PoolExtension;
import io.quejava.QueException;
import io.quejava.WorkerPool;
import io.quejava.internal.Args;
import io.quejava.internal.JobLocks;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opt-in: ends the database session of a <em>hung que-java worker</em>, so that PostgreSQL drops
 * its advisory locks and another worker runs the job again. Nothing else: it never touches a Ruby
 * or Go worker, a row of que_jobs, or a Java job whose heartbeat is fresh.
 *
 * <p>Hung means what {@link InFlight} says: the job has a heartbeat row, the session named in it
 * still holds the job's lock, and the heartbeat is older than {@code staleBeats} beat intervals or
 * the job runs more than one beat interval past its timeout. For each such session the rescuer runs
 * one statement that checks all of that again and calls {@code pg_terminate_backend} only if it
 * still holds, and logs (WARN) what it ended and why. A job is never reclaimed for its age alone
 * (rule R9): only a Java worker that stopped reporting, or that outlived the timeout it was given.
 *
 * <p><b>Be sure you want this.</b> Ending the session does not stop the worker's thread: a handler
 * stuck in code that ignores interrupts keeps running in its JVM while another worker runs the job
 * again, and when it returns, its outcome cannot be written (its connection is gone). A stalled
 * heartbeat writer (its connection blocked, its JVM paused) also looks hung. Jobs must be idempotent.
 * The role needs the right to signal the worker's sessions (the same role, or pg_signal_backend).
 *
 * <pre>{@code
 * Rescuer rescuer = Rescuer.builder(dataSource).staleBeats(3).interval(Duration.ofSeconds(30)).build();
 * List<InFlightJob> ended = rescuer.rescue();              // one pass, or:
 * WorkerPool.builder(client, work).extension(rescuer)...   // a pass every interval beside a pool
 * }</pre>
 */
public final class Rescuer implements PoolExtension {
  private static final Logger log = LoggerFactory.getLogger(Rescuer.class);

  /** Default {@link Builder#interval}: 30 s. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);

  /** Signals the backend only if the heartbeat still says hung and the lock is still held. */
  private static final String TERMINATE = """
      SELECT pg_terminate_backend(h.backend_pid)
      FROM que_heartbeats h
      WHERE h.job_id = ? AND h.backend_pid = ? AND h.backend_pid <> pg_backend_pid()
        AND (%s OR %s)
        AND %s""".formatted(InFlight.STALE, InFlight.OVER_TIMEOUT, JobLocks.heldBy("h.backend_pid", "h.job_id"));

  private final DataSource dataSource;
  private final int staleBeats;
  private final Duration interval;
  private volatile boolean running;
  private Thread thread;

  private Rescuer(Builder b) {
    this.dataSource = b.dataSource;
    this.staleBeats = b.staleBeats;
    this.interval = b.interval;
  }

  /** A rescuer with the defaults (stale after 3 beats, a pass every 30 s when run as an extension). */
  public static Rescuer create(DataSource dataSource) {
    return builder(dataSource).build();
  }

  /** A builder for a rescuer working through {@code dataSource}. */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /**
   * One pass: ends the session of every hung que-java worker (one statement per session, re-checking
   * both the heartbeat and the lock) and returns the hung jobs whose session it ended.
   */
  public List<InFlightJob> rescue() {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      List<InFlightJob> hung = InFlight.list(c, staleBeats, true);
      List<InFlightJob> ended = new ArrayList<>();
      Set<Integer> signalled = new HashSet<>();
      for (InFlightJob j : hung) {
        if (signalled.contains(j.backendPid())) {
          ended.add(j); // a worker's batch: one session, several locked jobs
          continue;
        }
        Boolean done = terminate(c, j);
        if (Boolean.TRUE.equals(done)) {
          signalled.add(j.backendPid());
          ended.add(j);
          log.warn("ended the session (backend {}) of hung que-java worker {} on {} (pid {}) holding job {} ({}, queue '{}'):"
                  + " {}; PostgreSQL drops its locks and the job runs again",
              j.backendPid(), j.workerName().orElse("?"), j.host().orElse("?"),
              j.osPid().isPresent() ? Long.toString(j.osPid().getAsLong()) : "?", j.jobId(), j.jobClass(), j.queue(),
              j.hungReason().orElse(""));
        } else if (Boolean.FALSE.equals(done)) {
          log.warn("could not end the session (backend {}) of hung job {} ({}): pg_terminate_backend refused",
              j.backendPid(), j.jobId(), j.jobClass());
        }
      }
      return ended;
    } catch (SQLException e) {
      throw new QueException("rescuing hung jobs failed: " + e.getMessage(), e);
    }
  }

  /** True when signalled, false when refused, null when the job is no longer hung (nothing done). */
  private Boolean terminate(Connection c, InFlightJob j) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TERMINATE)) {
      ps.setLong(1, j.jobId());
      ps.setInt(2, j.backendPid());
      ps.setInt(3, staleBeats);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getBoolean(1) : null;
      }
    } catch (SQLException e) {
      if ("42501".equals(e.getSQLState())) { // insufficient_privilege
        log.warn("not allowed to end the session (backend {}) of hung job {}: {}", j.backendPid(), j.jobId(), e.getMessage());
        return false;
      }
      throw e;
    }
  }

  /** Runs {@link #rescue()} every {@link Builder#interval interval} on a thread of its own. */
  @Override
  public synchronized void start(WorkerPool pool) {
    if (thread != null) {
      throw new IllegalStateException("this Rescuer was already started");
    }
    running = true;
    thread = new Thread(this::loop, "que-rescuer-" + pool.name());
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops the periodic passes. */
  @Override
  public void stop() {
    Thread t;
    synchronized (this) {
      running = false;
      t = thread;
    }
    if (t != null) {
      LockSupport.unpark(t);
      try {
        t.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void loop() {
    while (running) {
      long end = System.nanoTime() + interval.toNanos();
      while (running && end - System.nanoTime() > 0) {
        LockSupport.parkNanos(end - System.nanoTime());
      }
      if (!running) {
        return;
      }
      try {
        rescue();
      } catch (RuntimeException e) {
        log.warn("rescuer pass failed: {}", e.getMessage());
      }
    }
  }

  @Override
  public String toString() {
    return "Rescuer{staleBeats=" + staleBeats + ", interval=" + interval + "}";
  }

  /** Settings for a {@link Rescuer}. */
  public static final class Builder {
    private final DataSource dataSource;
    private int staleBeats = InFlight.DEFAULT_STALE_BEATS;
    private Duration interval = DEFAULT_INTERVAL;

    private Builder(DataSource dataSource) {
      this.dataSource = Args.notNull(dataSource, "dataSource");
    }

    /** Heartbeats older than this many beat intervals are stale. Default: {@value InFlight#DEFAULT_STALE_BEATS}. 1 to 1000. */
    public Builder staleBeats(int beats) {
      InFlight.checkStaleBeats(beats);
      this.staleBeats = beats;
      return this;
    }

    /** Time between passes when run as a pool extension. Default: 30 s. At least 10 ms. */
    public Builder interval(Duration interval) {
      if (interval == null) {
        throw new IllegalArgumentException("interval: must not be null");
      }
      if (interval.compareTo(Duration.ofMillis(10)) < 0) {
        throw new IllegalArgumentException("interval: must be at least 10 ms, got " + interval);
      }
      this.interval = interval;
      return this;
    }

    /** The rescuer. */
    public Rescuer build() {
      return new Rescuer(this);
    }
  }
}
