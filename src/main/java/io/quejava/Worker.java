package io.quejava;

import io.quejava.internal.Args;
import io.quejava.internal.Session;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Works the jobs of one or more queues on one pinned connection (the Ruby 0.x and que-go model, where the
 * connection that runs a job holds its lock): lock, re-check, run the handler, delete or record the
 * error, and only then unlock on the same session. The connection is opened on first use and kept
 * while the worker lives, so its prepared statements are reused; after a database error it is dropped
 * (which releases any lock it held) and opened again.
 *
 * <p>{@link #workOne()} locks and works exactly one job. {@link #work()} loops on the calling thread
 * until {@link #shutdown()} and locks jobs in small batches (see {@link WorkerConfig.Builder#prefetch}):
 * one walk locks several ready jobs, one statement re-checks them, the worker runs them one after
 * another, writing each outcome before the next starts (or, with
 * {@link WorkerConfig.Builder#batchedCompletion}, deleting the succeeded ones together in one
 * statement), and then unlocks them all; every outcome has committed before the unlock. A
 * {@link WorkerPool} runs several workers on threads of its own.
 */
public final class Worker {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);

  private final Client client;
  private final WorkMap workMap;
  private final WorkerConfig config;
  private final List<String> queues;
  private final QueueGate gate;
  private final Semaphore wakeSignal = new Semaphore(0);
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean busy = new AtomicBoolean();
  private final CountDownLatch exited = new CountDownLatch(1);
  private final AtomicLong worked = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private volatile boolean stopping;
  private volatile boolean idle;
  private volatile Thread runner;
  private volatile Session session;
  private volatile JobContext current;
  private final String name;
  private final Integer maxRetryCount;
  private final JobPipeline pipeline;

  public Worker(Client client, WorkMap workMap) {
    this(client, workMap, WorkerConfig.ofDefaults());
  }

  public Worker(Client client, WorkMap workMap, WorkerConfig config) {
    this(client, workMap, config, null);
  }

  Worker(Client client, WorkMap workMap, WorkerConfig config, String name) {
    this(client, workMap, config, name, null);
  }

  Worker(Client client, WorkMap workMap, WorkerConfig config, String name, QueueGate sharedGate) {
    this.client = Args.notNull(client, "client");
    this.workMap = Args.notNull(workMap, "workMap");
    this.config = Args.notNull(config, "config");
    this.queues = config.queues().isEmpty() ? List.of(client.defaultQueue()) : config.queues();
    this.gate = sharedGate != null ? sharedGate : new QueueGate(queues, config);
    this.name = name;
    if (config.maxRetryCount().isPresent() && !client.hasOutcomeColumns()) {
      throw new IllegalArgumentException("maxRetryCount: que_jobs is at schema " + client.schemaVersion()
          + ", which has no expired_at (Ruby 0.x and que-go retry forever); use the deadletter extension instead");
    }
    this.maxRetryCount = client.hasOutcomeColumns()
        ? (Integer) config.maxRetryCount().orElse(WorkerConfig.DEFAULT_MAX_RETRY_COUNT)
        : null;
    this.pipeline = new JobPipeline(this, client, workMap, config, maxRetryCount);
    this.completionBatch = config.batchedCompletionMaxJobs().orElse(0);
    this.completionDelayNanos = config.batchedCompletionMaxDelay().map(Duration::toNanos).orElse(0L);
    this.livenessNanos = Math.min(LIVENESS_BOUND.toNanos(), completionDelayNanos);
    // With batched completion a walk's batch is also the completion batch: the walk takes up to maxJobs.
    this.prefetch = new Prefetch(Math.max(config.prefetch(), completionBatch));
  }

  /**
   * Batched completion: a job starts only when a statement succeeded on its lock-holding session at
   * most this long before (or maxDelay, if shorter); otherwise a {@code SELECT 1} proves it first.
   */
  static final Duration LIVENESS_BOUND = Duration.ofMillis(2);
  /** Batched completion: min(LIVENESS_BOUND, maxDelay) in nanoseconds. */
  private final long livenessNanos;

  /** Batched completion: the most succeeded jobs per delete, 0 when off (see WorkerConfig). */
  private final int completionBatch;
  /** Batched completion: the longest a succeeded job waits for its delete (checked before each job starts). */
  private final long completionDelayNanos;

  /** The queues this worker polls, in the order it tries them. */
  public List<String> queues() {
    return queues;
  }

  /** For log lines: the queue, or the list of them. */
  private String queueNames() {
    return queues.size() == 1 ? "'" + queues.get(0) + "'" : queues.toString();
  }

  /** Jobs whose handler succeeded. */
  public long jobsWorked() {
    return worked.get();
  }

  /** Jobs that failed (handler error, unknown class, open transaction left behind). */
  public long jobsFailed() {
    return failed.get();
  }

  /**
   * Locks and works one job. Returns false when no job was ready (or shutdown has begun), true when
   * one was worked, whether it succeeded or failed.
   *
   * @throws QueException when the database fails outside the handler; the connection is then dropped
   */
  public boolean workOne() {
    // One session, one job at a time: advisory locks are re-entrant within a session, so a second
    // thread on this session would lock the job the first one holds (rule R4).
    if (!busy.compareAndSet(false, true)) {
      throw new IllegalStateException("this worker is already working a job; use one Worker per thread");
    }
    try {
      return workOneGuarded();
    } finally {
      busy.set(false);
    }
  }

  private boolean workOneGuarded() {
    for (String queue : queues) {
      if (stopping) {
        return false;
      }
      if (!gate.tryEnter(queue)) {
        continue;
      }
      try {
        Session s = session();
        LockedJob locked;
        try {
          locked = client.locker().lock(s, queue, config.retryPolicy(), maxRetryCount, false);
        } catch (RuntimeException e) {
          dropSession();
          throw e;
        }
        if (locked == null) {
          continue;
        }
        try {
          return pipeline.perform(locked, s);
        } finally {
          locked.release();
          if (s.isAborted()) {
            dropSession();
          }
        }
      } finally {
        gate.leave(queue);
      }
    }
    return false;
  }

  /** How many jobs the next walk locks, and which may run with others locked behind them. */
  private final Prefetch prefetch;

  /**
   * Locks up to {@link Prefetch#batchSize()} jobs with one walk and one re-check, runs them one after another on
   * this worker's session, and then unlocks them all in one statement. Each job's outcome is written
   * (and committed) before the next starts, so the unlock always follows the commit (rule R2); the
   * rows of jobs left unrun (shutdown, hold time exceeded) were never touched.
   */
  private int workBatch() {
    if (!busy.compareAndSet(false, true)) {
      throw new IllegalStateException("this worker is already working a job; use one Worker per thread");
    }
    try {
      // The queues in their order: the first with a ready job (and a free place under its limit) wins.
      for (String queue : queues) {
        if (stopping) {
          return 0;
        }
        if (!gate.tryEnter(queue)) {
          continue;
        }
        try {
          int done = workBatch(queue);
          if (done > 0) {
            return done;
          }
        } finally {
          gate.leave(queue);
        }
      }
      return 0;
    } finally {
      busy.set(false);
    }
  }

  /** One walk of {@code queue} and the jobs it locked; the caller holds the worker's busy flag. */
  private int workBatch(String queue) {
    {
      if (stopping) {
        return 0;
      }
      Session s = session();
      List<LockedJob> batch;
      Siblings sib = siblings;
      java.util.Set<Long> held = sib == null ? null : sib.held();
      try {
        walks.incrementAndGet();
        batch = held == null
            ? client.locker().lockBatch(s, queue, prefetch.batchSize(), config.retryPolicy(), maxRetryCount, false)
            : client.locker().lockBatch(s, queue, prefetch.batchSize(), config.retryPolicy(), maxRetryCount, false,
                () -> held.stream().mapToLong(Long::longValue).toArray());
      } catch (RuntimeException e) {
        prefetch.reset();
        dropSession();
        throw e;
      }
      if (batch.isEmpty()) {
        return 0;
      }
      if (wokeFromIdle && sib != null) {
        // Work appeared while we slept: there may be more, so a sleeping sibling looks too, now,
        // before our jobs run. Each worker that finds work this way wakes the next.
        wokeFromIdle = false;
        sib.wakeAnother(this);
      }
      long walked = System.nanoTime();
      // Batched completion: succeeded jobs, still locked, waiting for their delete (null when off).
      List<JobPipeline.Deferred> pending = completionBatch > 0 ? new ArrayList<>() : null;
      int done = 0;
      boolean skippedRunning = false;
      boolean allFast = true;
      int end = batch.size(); // jobs at end and after were unlocked early, unrun
      if (held != null) {
        for (LockedJob j : batch) {
          held.add(j.job().id()); // removed by forget() after their unlock, in the finally below
        }
      }
      try {
        for (int i = 0; i < end; i++) {
          LockedJob locked = batch.get(i);
          // Each job's outcome (delete or error) is written, in autocommit, before the next job
          // starts: nothing waits behind a later job, and the statement that succeeded just before
          // a job starts proves the session, and so the job's lock, is still alive.
          if (stopping || s.isAborted() || (done > 0 && prefetch.holdExpired(walked))) {
            break;
          }
          boolean knownFast = prefetch.mayHoldOthersBehind(locked.job().jobClass());
          if (i + 1 < end && !knownFast) {
            // This job may be slow: free the jobs locked behind it now, so other workers can take
            // them instead of waiting for it. Their rows were never touched.
            client.locker().releaseUnrun(s, queue, batch.subList(i + 1, end));
            forget(held, batch.subList(i + 1, end));
            end = i + 1;
          }
          if (pending != null && !beforeStart(s, queue, pending, knownFast)) {
            break; // the session failed: this job does not start (its lock is gone with it)
          }
          long start = System.nanoTime();
          if (!pipeline.perform(locked, s, pending)) {
            skippedRunning = true;
            continue;
          }
          done++;
          allFast &= prefetch.ran(locked.job().jobClass(), System.nanoTime() - start);
        }
      } catch (RuntimeException e) {
        s.abort(); // drops every lock of the batch; the unrun rows are untouched
        throw e;
      } catch (SQLException e) {
        s.abort();
        throw new QueException("worker on queue '" + queue + "': releasing prefetched jobs failed: " + e.getMessage(), e);
      } finally {
        if (pending != null) {
          flush(s, queue, pending); // before the unlock: every unlock follows its job's committed delete
        }
        client.locker().unlockBatch(s, queue, batch, end);
        forget(held, batch.subList(0, end));
        if (s.isAborted()) {
          dropSession();
        }
      }
      if (skippedRunning && done == 0) {
        // Only a job still running here was found: walk further next time, after a wait, rather
        // than lock it again and again while its first attempt settles.
        prefetch.walkPast();
        return 0;
      }
      prefetch.afterBatch(allFast && done == end);
      return done;
    }
  }

  /** After their unlock: the pool's walks stop passing over these jobs. */
  private static void forget(java.util.Set<Long> held, List<LockedJob> jobs) {
    if (held != null) {
      for (LockedJob j : jobs) {
        held.remove(j.job().id());
      }
    }
  }

  /**
   * Batched completion, before a job starts: flushes the waiting deletes when {@code maxJobs} wait,
   * when the oldest has waited maxDelay, or when the job may be slow (its class not yet seen fast
   * here); otherwise, when the session's last successful statement is older than
   * {@link #LIVENESS_BOUND} (or maxDelay, if shorter), runs {@code SELECT 1} (a round trip, no
   * commit). So a job starts only on a session proven alive that recently. Returns false when the
   * session failed (the job must not start).
   */
  private boolean beforeStart(Session s, String queue, List<JobPipeline.Deferred> pending, boolean knownFast) {
    if (!pending.isEmpty() && (!knownFast || pending.size() >= completionBatch
        || System.nanoTime() - pending.get(0).handlerEndedNanos() >= completionDelayNanos)) {
      flush(s, queue, pending);
    } else if (s.nanosSinceAlive() > livenessNanos && !s.isAborted()) {
      try {
        s.ping();
      } catch (SQLException e) {
        log.warn("worker on queue '{}': the liveness check before a job failed ({}); its batch is left to the server",
            queue, e.getMessage());
        s.abort();
      }
    }
    return !s.isAborted();
  }

  /**
   * Batched completion: deletes the waiting jobs in one autocommit statement on the session that
   * holds their locks and reports each (deleted, changed under its lock, or not committed). The
   * caller unlocks them afterwards. A failure aborts the session, which drops their locks: they
   * run again (the documented re-run window).
   */
  private void flush(Session s, String queue, List<JobPipeline.Deferred> pending) {
    if (pending.isEmpty()) {
      return;
    }
    List<JobPipeline.Deferred> jobs = new ArrayList<>(pending);
    pending.clear();
    boolean[] deleted = null;
    Throwable error = null;
    if (s.isAborted()) {
      error = new QueException("the worker's connection closed before the batched delete");
    } else {
      try {
        if (s.resetTransaction()) {
          log.warn("worker on queue '{}': a transaction was open before the batched delete; rolled back", queue);
        }
        deleted = client.locker().deleteAll(s, jobs.stream().map(JobPipeline.Deferred::locked).toList());
      } catch (SQLException | RuntimeException e) {
        log.warn("worker on queue '{}': the batched delete of {} jobs failed ({}); closing the connection, the jobs run again",
            queue, jobs.size(), e.getMessage());
        s.abort();
        error = e;
      }
    }
    for (int i = 0; i < jobs.size(); i++) {
      pipeline.completed(jobs.get(i), deleted != null && deleted[i], deleted == null ? error : null);
    }
  }

  /**
   * Works jobs until {@link #shutdown()}: at once again after a job, after the wake interval (or a
   * {@link #wake()}) when there was none, and after the wake interval when the database failed.
   */
  public void work() {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("work() is already running or has run on this worker");
    }
    runner = Thread.currentThread();
    try {
      while (!stopping) {
        boolean didWork;
        boolean failed = false;
        try {
          didWork = workBatch() > 0;
        } catch (RuntimeException e) {
          if (stopping) {
            break;
          }
          log.warn("worker on queue {}: {}; retrying after {}", queueNames(), e.getMessage(), config.wakeInterval());
          didWork = false;
          failed = true;
        }
        wokeFromIdle = false;
        if (!didWork && !stopping) {
          awaitWake(failed);
          wokeFromIdle = true;
        }
      }
    } finally {
      dropSession();
      runner = null;
      exited.countDown();
    }
  }

  /** Ends an idle wait early, so the worker looks for a job now. */
  public void wake() {
    wakeSignal.release();
  }

  boolean isIdle() {
    return idle;
  }

  /**
   * Stops taking jobs and waits, without a deadline, for the running job to finish and
   * {@link #work()} to return. Safe to call when work() never ran or already returned.
   */
  public void shutdown() {
    beginShutdown();
    if (started.get()) {
      awaitExit(Long.MAX_VALUE);
    } else {
      dropIdleSession();
    }
  }

  /**
   * Stops taking jobs and gives the running job until {@code timeout}. Then the job is cancelled
   * ({@link JobContext#cancel}: flag and interrupt) and, when its handler returns, its row is left
   * exactly as it was and unlocked, so another worker runs it again. A handler that ignores the
   * cancel for 5 more seconds has its connection killed, which frees the lock while the handler may
   * still run. Returns true when the worker finished within the timeout.
   */
  public boolean shutdown(Duration timeout) {
    beginShutdown();
    if (!started.get()) {
      dropIdleSession();
      return true;
    }
    if (awaitExit(saturatedNanos(timeout))) {
      return true;
    }
    // Returns by the deadline plus the grace at the latest: a handler deaf to the cancel keeps
    // its thread, but no longer its lock, and is not waited for.
    forceStop(DEFAULT_ABORT_GRACE);
    return false;
  }

  void beginShutdown() {
    stopping = true;
    JobContext c = current;
    if (c != null) {
      c.requestStop();
    }
    wake();
  }

  boolean awaitExit(long nanos) {
    try {
      return exited.await(nanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return exited.getCount() == 0;
    }
  }

  /** The cancel reason a job gets at the shutdown deadline. */
  static final String SHUTDOWN_REASON = "the worker's shutdown deadline passed";

  /** Default time a job gets, after being cancelled at the shutdown deadline, before its connection is killed. */
  static final Duration DEFAULT_ABORT_GRACE = Duration.ofSeconds(5);

  /** Past the deadline, step 1: cancel the running job (flag and interrupt); its lock stays held. */
  void cancelForShutdown() {
    JobContext c = current;
    if (c != null) {
      c.cancel(SHUTDOWN_REASON);
    }
    Thread t = runner;
    if (t != null) {
      t.interrupt();
    }
  }

  /**
   * Past the deadline and the grace, step 2: kill the connection, so the server drops the job's lock
   * while its handler, which ignored the cancel, may still be running.
   */
  void abortSession() {
    Session s = session;
    if (s != null) {
      JobContext c = current;
      log.warn("worker on queue {}: the job {} ignored its cancel past the shutdown deadline; closing its connection,"
          + " which frees its lock while the handler may still run", queueNames(), c == null ? "?" : c.job().id());
      s.abort();
    }
  }

  /** Both steps at once, for {@link #shutdown(Duration)}'s callers that already waited. */
  void forceStop(Duration grace) {
    cancelForShutdown();
    if (!awaitExit(saturatedNanos(grace))) {
      abortSession();
    }
  }

  /**
   * Waits for a wake-up. Alone, a worker polls again after the wake interval. In a pool only one
   * idle worker at a time polls on a timer; the others sleep until woken (by the poller finding
   * work, by {@link WorkerPool#wakeOne()}, or by shutdown), so an idle pool costs one query per wake
   * interval, not one per worker. A worker whose last attempt failed always retries on the timer.
   */
  private void awaitWake(boolean failed) {
    Siblings sib = siblings;
    if (!failed && sib != null && sib.takePendingWake()) {
      return;
    }
    boolean timed = sib == null || failed || sib.claimPolling(this);
    idle = true;
    if (sib != null) {
      sib.idleChanged(this, true);
    }
    try {
      if (stopping) {
        return;
      }
      // Again, now that this worker shows as idle: a WorkerPool.wakeOne() that scanned the workers
      // between the check above and `idle = true` found none idle and left the flag, and nobody
      // else may come to take it. Either it sees this worker idle, or this check sees its flag.
      if (!failed && sib != null && sib.takePendingWake()) {
        return;
      }
      if (timed) {
        wakeSignal.tryAcquire(config.wakeInterval().toNanos(), TimeUnit.NANOSECONDS);
      } else {
        wakeSignal.acquire();
      }
      wakeSignal.drainPermits();
    } catch (InterruptedException e) {
      if (!stopping) {
        Thread.currentThread().interrupt();
        stopping = true;
      }
    } finally {
      idle = false;
      if (sib != null) {
        sib.idleChanged(this, false);
      }
      if (timed && sib != null) {
        sib.releasePolling(this);
      }
    }
  }

  // What the job pipeline reads and reports back.

  String name() {
    return name;
  }

  boolean isStopping() {
    return stopping;
  }

  /** The attempt running now (null when none), for the shutdown deadline's cancel. */
  void running(JobContext ctx) {
    current = ctx;
  }

  /** The attempt running now, or null (for {@link WorkerPool#stats()}). */
  JobContext running() {
    return current;
  }

  void countWorked() {
    worked.incrementAndGet();
  }

  void countFailed() {
    failed.incrementAndGet();
  }

  void wakeSibling() {
    Siblings sib = siblings;
    if (sib != null) {
      sib.wakeAnother(this);
    }
  }

  /** How the workers of a pool share polling; set by {@link WorkerPool}. */
  interface Siblings {
    /** True when this worker becomes the pool's one timed poller (no other holds the role). */
    boolean claimPolling(Worker w);

    /** Gives the role up if this worker holds it. */
    void releasePolling(Worker w);

    /** Wakes one idle worker other than this one, if any. */
    void wakeAnother(Worker w);

    /** True (once) when a wake-up found no idle worker: the caller should look again, not sleep. */
    boolean takePendingWake();

    /** This worker starts ({@code true}) or ends ({@code false}) an idle wait. Must return at once. */
    default void idleChanged(Worker w, boolean idle) {}

    /**
     * The ids of the jobs the pool's workers hold now (each worker adds its batch after its walk and
     * removes it after its unlock), which a walk passes over without a lock call; null for none.
     */
    default java.util.Set<Long> held() {
      return null;
    }
  }

  private volatile Siblings siblings;
  /** The last wait ended and no walk has found work since (only the work() thread uses it). */
  private boolean wokeFromIdle;

  void siblings(Siblings s) {
    this.siblings = s;
  }

  /** Lock walks run (test seam for the idle cost). */
  long walks() {
    return walks.get();
  }

  private final AtomicLong walks = new AtomicLong();

  private Session session() {
    Session s = session;
    if (s == null) {
      try {
        s = new Session(client.dataSource().getConnection());
      } catch (SQLException e) {
        throw new QueException("cannot get a connection: " + e.getMessage(), e);
      }
      session = s;
    }
    return s;
  }

  /** Closes the session unless a workOne() on another thread is using it. */
  private void dropIdleSession() {
    if (busy.compareAndSet(false, true)) {
      try {
        dropSession();
      } finally {
        busy.set(false);
      }
    }
  }

  static long saturatedNanos(Duration d) {
    return d.compareTo(Duration.ofDays(365L * 100)) > 0 ? Long.MAX_VALUE / 4 : Math.max(0, d.toNanos());
  }

  private void dropSession() {
    Session s = session;
    session = null;
    if (s != null) {
      s.close();
    }
  }

}
