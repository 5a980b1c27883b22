package io.quejava;

import io.quejava.internal.Session;
import io.quejava.internal.Text;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Works the jobs of one queue on one pinned connection (the Ruby 0.x and que-go model, where the
 * connection that runs a job holds its lock): lock, re-check, run the handler, delete or record the
 * error, and only then unlock on the same session. The connection is opened on first use and kept
 * while the worker lives, so its prepared statements are reused; after a database error it is dropped
 * (which releases any lock it held) and opened again.
 *
 * <p>{@link #workOne()} locks and works exactly one job. {@link #work()} loops on the calling thread
 * until {@link #shutdown()} and locks jobs in small batches (see {@link WorkerConfig.Builder#prefetch}):
 * one walk locks several ready jobs, one statement re-checks them, the worker runs them one after
 * another, deletes the succeeded ones together and then unlocks them all; every outcome has
 * committed before the unlock. A {@link WorkerPool} runs several workers on threads of its own.
 */
public final class Worker {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);

  private final Client client;
  private final WorkMap workMap;
  private final WorkerConfig config;
  private final String queue;
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

  public Worker(Client client, WorkMap workMap) {
    this(client, workMap, WorkerConfig.ofDefaults());
  }

  public Worker(Client client, WorkMap workMap, WorkerConfig config) {
    this(client, workMap, config, null);
  }

  Worker(Client client, WorkMap workMap, WorkerConfig config, String name) {
    this.client = Objects.requireNonNull(client, "client");
    this.workMap = Objects.requireNonNull(workMap, "workMap");
    this.config = Objects.requireNonNull(config, "config");
    this.queue = config.queue() != null ? config.queue() : client.defaultQueue();
    this.name = name;
    if (config.maxRetryCount() != null && !client.hasOutcomeColumns()) {
      throw new IllegalArgumentException("maxRetryCount: que_jobs is at schema " + client.schemaVersion()
          + ", which has no expired_at (Ruby 0.x and que-go retry forever); use the deadletter extension instead");
    }
    this.maxRetryCount = client.hasOutcomeColumns()
        ? (config.maxRetryCount() != null ? config.maxRetryCount() : WorkerConfig.DEFAULT_MAX_RETRY_COUNT)
        : null;
  }

  /** The queue this worker polls. */
  public String queue() {
    return queue;
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
    if (stopping) {
      return false;
    }
    Session s = session();
    LockedJob locked;
    try {
      locked = client.lock(s, queue, config.retryPolicy(), maxRetryCount, false);
    } catch (RuntimeException e) {
      dropSession();
      throw e;
    }
    if (locked == null) {
      return false;
    }
    try {
      perform(locked, s);
    } finally {
      locked.release();
      if (s.isAborted()) {
        dropSession();
      }
    }
    return true;
  }

  /** A job slower than this ends prefetching until jobs are fast again. */
  private static final long FAST_JOB_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  /** Prefetched jobs not started this long after their walk are unlocked unrun. */
  private static final long MAX_HOLD_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** The batch size the next walk asks for: grows to the configured prefetch while jobs are fast. */
  private int batchSize = 1;
  /** Job classes whose last run here was fast: only they may run with other jobs locked behind them. */
  private final java.util.Set<String> fastClasses = new java.util.HashSet<>();

  /** Unlocks prefetched jobs that will not run in this batch. */
  private void releaseUnrun(Session s, List<LockedJob> unrun) throws SQLException {
    long[] ids = new long[unrun.size()];
    for (int i = 0; i < ids.length; i++) {
      unrun.get(i).settleForBatchUnlock();
      ids[i] = unrun.get(i).job().id();
    }
    int held = client.unlockAll(s, ids);
    if (held != ids.length) {
      log.warn("worker on queue '{}': {} of {} prefetched job locks were not held at release", queue, ids.length - held, ids.length);
    }
  }

  /**
   * Locks up to {@link #batchSize} jobs with one walk and one re-check, runs them one after another on
   * this worker's session, and then unlocks them all in one statement. Each job's outcome is written
   * (and committed) before the next starts, so the unlock always follows the commit (rule R2); the
   * rows of jobs left unrun (shutdown, hold time exceeded) were never touched.
   */
  private int workBatch() {
    if (!busy.compareAndSet(false, true)) {
      throw new IllegalStateException("this worker is already working a job; use one Worker per thread");
    }
    try {
      if (stopping) {
        return 0;
      }
      Session s = session();
      List<LockedJob> batch;
      try {
        walks.incrementAndGet();
        batch = client.lockBatch(s, queue, batchSize, config.retryPolicy(), maxRetryCount, false);
      } catch (RuntimeException e) {
        batchSize = 1;
        dropSession();
        throw e;
      }
      if (batch.isEmpty()) {
        return 0;
      }
      Siblings sib = siblings;
      if (wokeFromIdle && sib != null) {
        // Work appeared while we slept: there may be more, so a sleeping sibling looks too, now,
        // before our jobs run. Each worker that finds work this way wakes the next.
        wokeFromIdle = false;
        sib.wakeAnother(this);
      }
      long walked = System.nanoTime();
      int done = 0;
      boolean allFast = true;
      int end = batch.size(); // jobs at end and after were unlocked early, unrun
      try {
        for (int i = 0; i < end; i++) {
          LockedJob locked = batch.get(i);
          // Each job's outcome (delete or error) is written, in autocommit, before the next job
          // starts: nothing waits behind a later job, and the statement that succeeded just before
          // a job starts proves the session, and so the job's lock, is still alive.
          if (stopping || s.isAborted() || (done > 0 && System.nanoTime() - walked > MAX_HOLD_NANOS)) {
            break;
          }
          if (i + 1 < end && !fastClasses.contains(locked.job().jobClass())) {
            // This job may be slow: free the jobs locked behind it now, so other workers can take
            // them instead of waiting for it. Their rows were never touched.
            releaseUnrun(s, batch.subList(i + 1, end));
            end = i + 1;
          }
          long start = System.nanoTime();
          perform(locked, s);
          done++;
          if (System.nanoTime() - start > FAST_JOB_NANOS) {
            allFast = false;
            fastClasses.remove(locked.job().jobClass());
          } else if (fastClasses.size() < 10_000) {
            fastClasses.add(locked.job().jobClass());
          }
        }
      } catch (RuntimeException e) {
        s.abort(); // drops every lock of the batch; the unrun rows are untouched
        throw e;
      } catch (SQLException e) {
        s.abort();
        throw new QueException("worker on queue '" + queue + "': releasing prefetched jobs failed: " + e.getMessage(), e);
      } finally {
        long[] ids = new long[end];
        for (int i = 0; i < end; i++) {
          LockedJob locked = batch.get(i);
          locked.settleForBatchUnlock();
          ids[i] = locked.job().id();
        }
        if (!s.isAborted()) {
          try {
            int held = client.unlockAll(s, ids);
            if (held != ids.length) {
              log.warn("worker on queue '{}': {} of {} job locks were not held at unlock", queue, ids.length - held, ids.length);
            }
          } catch (SQLException e) {
            log.warn("worker on queue '{}': unlock failed ({}); closing the connection so the server drops the locks",
                queue, e.getMessage());
            s.abort();
          }
        }
        if (s.isAborted()) {
          dropSession();
        }
      }
      batchSize = allFast && done == end ? Math.min(config.prefetch(), batchSize * 2) : 1;
      return done;
    } finally {
      busy.set(false);
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
          log.warn("worker on queue '{}': {}; retrying after {}", queue, e.getMessage(), config.wakeInterval());
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
    forceStop(DEFAULT_ABORT_GRACE);
    awaitExit(TimeUnit.SECONDS.toNanos(10));
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
      log.warn("worker on queue '{}': the job {} ignored its cancel past the shutdown deadline; closing its connection,"
          + " which frees its lock while the handler may still run", queue, c == null ? "?" : c.job().id());
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

  /** Runs one locked job through the interceptors and its handler and writes its outcome. */
  private void perform(LockedJob locked, Session s) {
    Job job = locked.job();
    long start = System.nanoTime();
    Thread thread = Thread.currentThread();
    JobContext ctx = new JobContext(job, name != null ? name : thread.getName(), s.backendPid(), thread);
    if (stopping) {
      ctx.requestStop();
    }
    locked.attach(ctx);
    current = ctx;
    MDC.put("que.job_id", Long.toString(job.id()));
    MDC.put("que.job_class", job.jobClass());
    MDC.put("que.queue", job.queue());
    try {
      try {
        chain(locked).proceed();
      } catch (Throwable t) {
        recordFailure(locked, s, t, start);
        return;
      }
      if (s.resetTransaction()) {
        locked.transactionRolledBack();
        recordFailure(locked, s,
            new IllegalStateException("the handler returned with a transaction open on the job's connection; it was rolled back"),
            start);
        return;
      }
      if (!locked.isResolved()) {
        locked.delete();
      }
      worked.incrementAndGet();
      log.debug("job worked id={} class={} queue='{}' priority={} ms={}",
          job.id(), job.jobClass(), job.queue(), job.priority(), elapsedMs(start));
    } catch (SQLException e) {
      throw new QueException("job " + job.id() + ": resetting its connection failed: " + e.getMessage(), e);
    } finally {
      ctx.detach();
      current = null;
      if (!s.isAborted()) {
        Thread.interrupted(); // a handler's leftover interrupt must not break the next wait
      }
      MDC.remove("que.job_id");
      MDC.remove("que.job_class");
      MDC.remove("que.queue");
    }
  }

  /** The handler (or the unknown-class failure) wrapped in the interceptors, the first outermost. */
  private JobInterceptor.Chain chain(LockedJob locked) {
    JobHandler handler = workMap.get(locked.job().jobClass());
    JobInterceptor.Chain next = () -> {
      if (handler == null) {
        String jobClass = locked.job().jobClass();
        throw new UnknownJobClassException(jobClass, "unknown job type: " + Text.goQuote(jobClass));
      }
      handler.run(locked);
    };
    var interceptors = config.interceptors();
    for (int i = interceptors.size() - 1; i >= 0; i--) {
      JobInterceptor interceptor = interceptors.get(i);
      JobInterceptor.Chain inner = next;
      next = () -> interceptor.intercept(locked, inner);
    }
    return next;
  }

  private void recordFailure(LockedJob locked, Session s, Throwable failure, long start) throws SQLException {
    Job job = locked.job();
    failed.incrementAndGet();
    if (s.isAborted()) {
      log.warn("job interrupted at the shutdown deadline id={} class={} queue='{}' ms={}; its row is left for another worker",
          job.id(), job.jobClass(), job.queue(), elapsedMs(start));
      return;
    }
    JobContext ctx = locked.context();
    if (stopping && SHUTDOWN_REASON.equals(ctx.cancelReason()) && !locked.isResolved()) {
      // Cancelled by the deadline, not failed: leave the row exactly as it was; the unlock that
      // follows (after the handler has returned) lets another worker run it again.
      if (s.resetTransaction()) {
        locked.transactionRolledBack();
      }
      log.warn("job cancelled at the shutdown deadline id={} class={} queue='{}' ms={}; its row is left unchanged for another worker",
          job.id(), job.jobClass(), job.queue(), elapsedMs(start));
      return;
    }
    if (s.resetTransaction()) {
      locked.transactionRolledBack();
    }
    if (locked.isDeleted()) {
      log.warn("job failed after it was deleted (by its handler or an interceptor, e.g. moved to dead letters) id={} class={} queue='{}' ms={}",
          job.id(), job.jobClass(), job.queue(), elapsedMs(start), failure);
      return;
    }
    if (failure instanceof UnknownJobClassException) {
      if (!locked.isResolved()) {
        locked.error(failure.getMessage());
      }
      log.warn("job errored: unknown job type id={} class={} queue='{}' error_count={}",
          job.id(), job.jobClass(), job.queue(), job.errorCount() + 1);
      return;
    }
    if (!locked.isResolved()) {
      locked.error(failure);
    }
    try {
      log.warn("job errored id={} class={} queue='{}' error_count={} ms={}",
          job.id(), job.jobClass(), job.queue(), job.errorCount() + 1, elapsedMs(start), failure);
    } catch (RuntimeException e) {
      // The failure's own toString() failed inside the logger; the error is recorded already.
      log.warn("job errored id={} class={} queue='{}' error_count={} ms={} ({} could not be printed)",
          job.id(), job.jobClass(), job.queue(), job.errorCount() + 1, elapsedMs(start), failure.getClass().getName());
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

  private static long elapsedMs(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }
}
