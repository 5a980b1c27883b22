package io.quejava;

import io.quejava.internal.Args;
import io.quejava.internal.Session;
import io.quejava.internal.Text;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

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
 * another, deletes the succeeded ones together and then unlocks them all; every outcome has
 * committed before the unlock. A {@link WorkerPool} runs several workers on threads of its own.
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
  }

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
          locked = client.lock(s, queue, config.retryPolicy(), maxRetryCount, false);
        } catch (RuntimeException e) {
          dropSession();
          throw e;
        }
        if (locked == null) {
          continue;
        }
        try {
          return perform(locked, s);
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

  /** A job slower than this ends prefetching until jobs are fast again. */
  private static final long FAST_JOB_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  /** Prefetched jobs not started this long after their walk are unlocked unrun. */
  private static final long MAX_HOLD_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** The batch size the next walk asks for: grows to the configured prefetch while jobs are fast. */
  private int batchSize = 1;
  /** Job classes whose last run here was fast: only they may run with other jobs locked behind them. */
  private final java.util.Set<String> fastClasses = new java.util.HashSet<>();

  /** Unlocks prefetched jobs that will not run in this batch. */
  private void releaseUnrun(Session s, String queue, List<LockedJob> unrun) throws SQLException {
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
      boolean skippedRunning = false;
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
            releaseUnrun(s, queue, batch.subList(i + 1, end));
            end = i + 1;
          }
          long start = System.nanoTime();
          if (!perform(locked, s)) {
            skippedRunning = true;
            continue;
          }
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
      if (skippedRunning && done == 0) {
        // Only a job still running here was found: walk further next time, after a wait, rather
        // than lock it again and again while its first attempt settles.
        batchSize = Math.min(Math.max(2, config.prefetch()), batchSize * 2);
        return 0;
      }
      batchSize = allFast && done == end ? Math.min(config.prefetch(), batchSize * 2) : 1;
      return done;
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
   * Runs one locked job through the interceptors and its handler and writes its outcome. Returns
   * false, touching nothing, when an attempt of the same job still runs in this process (its session
   * died under it, so the lock we hold does not prove it is not running).
   */
  private boolean perform(LockedJob locked, Session s) {
    Job job = locked.job();
    if (!client.startRunning(job.id())) {
      log.debug("job {} ({}) is still running here on a session that ended; left alone until that attempt settles",
          job.id(), job.jobClass());
      return false;
    }
    try {
      performLocked(locked, s);
    } finally {
      client.stopRunning(job.id());
    }
    return true;
  }

  private void performLocked(LockedJob locked, Session s) {
    Job job = locked.job();
    long start = System.nanoTime();
    Thread thread = Thread.currentThread();
    String workerName = name != null ? name : thread.getName();
    JobContext ctx = new JobContext(job, workerName, s.backendPid(), thread);
    if (stopping) {
      ctx.requestStop();
    }
    locked.attach(ctx);
    current = ctx;
    MDC.put("que.job_id", Long.toString(job.id()));
    MDC.put("que.job_class", job.jobClass());
    MDC.put("que.queue", job.queue());
    Duration queueWait = Duration.between(job.runAt(), ctx.startedAt());
    if (queueWait.isNegative()) {
      queueWait = Duration.ZERO;
    }
    Attempt attempt = new Attempt();
    try {
      Throwable failure = client.takeOrphan(job);
      if (failure != null) {
        // Its previous attempt here ended its own session before the failure could be written (and
        // the relock lost to this worker): record that failure now instead of running it again.
        log.warn("job not run: its previous attempt ended its database session; recording that failure id={} class={} queue='{}'",
            job.id(), job.jobClass(), job.queue());
      } else {
        started(new JobEvent.Start(job.id(), job.jobClass(), job.queue(), job.priority(), job.errorCount() + 1,
            queueWait, workerName));
        try {
          chain(locked, ctx).proceed();
        } catch (Throwable t) {
          failure = t;
        }
      }
      // From here on a cancel changes nothing: the handler has finished.
      boolean cancelled = ctx.end();
      attempt.error = failure;
      try {
        writeOutcome(locked, s, failure, cancelled, start, attempt);
      } catch (SQLException | RuntimeException e) {
        outcomeFailed(locked, s, failure, e, start, attempt);
      }
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
    if (attempt.outcome != null) {
      ended(new JobEvent(job.id(), job.jobClass(), job.queue(), job.priority(), job.errorCount() + 1, attempt.outcome,
          java.util.Optional.ofNullable(attempt.error), Duration.ofNanos(System.nanoTime() - start), queueWait, workerName));
    }
  }

  /** How one attempt ended, filled in as its outcome is written. */
  private static final class Attempt {
    JobOutcome outcome;
    Throwable error;
  }

  private void started(JobEvent.Start start) {
    for (JobListener l : config.listeners()) {
      try {
        l.jobStarted(start);
      } catch (RuntimeException e) {
        log.warn("job listener {} failed on a start: {}", l, e.toString());
      }
    }
  }

  private void ended(JobEvent event) {
    for (JobListener l : config.listeners()) {
      try {
        l.jobEnded(event);
      } catch (RuntimeException e) {
        log.warn("job listener {} failed on an end: {}", l, e.toString());
      }
    }
  }

  /** The outcome of an attempt whose job is resolved now: what its resolution means. */
  private static JobOutcome resolvedAs(LockedJob locked, boolean failed, boolean resolvedByOthers) {
    LockedJob.Outcome o = locked.outcome();
    if (o == null) {
      return failed ? JobOutcome.FAILED : JobOutcome.SUCCEEDED;
    }
    if (failed && resolvedByOthers && (o == LockedJob.Outcome.DELETED || o == LockedJob.Outcome.EXPIRED)) {
      return JobOutcome.DEAD; // a failed attempt whose job the handler or an interceptor took out of the retries
    }
    return switch (o) {
      case DELETED, FINISHED -> JobOutcome.SUCCEEDED;
      case ERRORED, RETRIED -> JobOutcome.FAILED;
      case EXPIRED -> JobOutcome.EXPIRED;
    };
  }

  /**
   * Writes how the attempt ended: the handler's failure, a rolled-back transaction (a failure), a
   * cancel (shutdown: the row is left as it was; any other reason: a failure), or success (delete,
   * unless the handler resolved the job itself).
   */
  private void writeOutcome(LockedJob locked, Session s, Throwable failure, boolean cancelled, long start, Attempt attempt)
      throws SQLException {
    Job job = locked.job();
    if (s.isAborted()) {
      throw new QueException("job " + job.id() + ": its connection was closed while it ran");
    }
    if (failure != null) {
      recordFailure(locked, s, failure, start, attempt);
      return;
    }
    if (s.resetTransaction()) {
      locked.transactionRolledBack();
      attempt.error = new IllegalStateException("the handler returned with a transaction open on the job's connection; it was rolled back");
      recordFailure(locked, s, attempt.error, start, attempt);
      return;
    }
    if (cancelled && !locked.isResolved()) {
      JobContext ctx = locked.context();
      if (ctx.cancelReason().filter(SHUTDOWN_REASON::equals).isPresent()) {
        // A handler that returns after the deadline's cancel did not finish its work: the row stays
        // exactly as it was and the unlock that follows lets another worker run it again.
        log.warn("job cancelled at the shutdown deadline returned without resolving it id={} class={} queue='{}' ms={};"
            + " its row is left unchanged for another worker", job.id(), job.jobClass(), job.queue(), elapsedMs(start));
        attempt.outcome = JobOutcome.CANCELLED;
        return;
      }
      attempt.error = new java.util.concurrent.CancellationException("job " + job.id() + " (" + job.jobClass()
          + ") was cancelled (" + ctx.cancelReason().orElse("") + ") and returned without resolving it");
      recordFailure(locked, s, attempt.error, start, attempt);
      return;
    }
    if (!locked.isResolved()) {
      locked.delete();
    }
    attempt.outcome = resolvedAs(locked, false, false);
    worked.incrementAndGet();
    log.debug("job worked id={} class={} queue='{}' priority={} ms={}",
        job.id(), job.jobClass(), job.queue(), job.priority(), elapsedMs(start));
  }

  /**
   * Writing the outcome failed, nearly always because the job's session is gone: its handler ended
   * it ({@code pg_terminate_backend}, an idle-in-transaction timeout), the server restarted, or the
   * shutdown deadline closed it. The server has dropped the job's lock with the session, so another
   * worker may lock it at once. Unless the shutdown deadline closed it (the row is then left for
   * another worker), the failure (the handler's own exception when it threw) is recorded with its
   * backoff on a fresh session, after locking the job again and re-checking that its row is
   * unchanged; a job another session holds by then is left to it. Until it is recorded, every worker
   * of this client that locks the job records the failure instead of running it again.
   */
  private void outcomeFailed(LockedJob locked, Session s, Throwable failure, Exception e, long start, Attempt attempt) {
    Job job = locked.job();
    boolean closedAtDeadline = s.isAborted() && stopping;
    s.abort(); // whatever its state, this session no longer proves the job's lock
    if (closedAtDeadline) {
      log.warn("job interrupted at the shutdown deadline id={} class={} queue='{}' ms={}; its row is left for another worker",
          job.id(), job.jobClass(), job.queue(), elapsedMs(start));
      attempt.outcome = JobOutcome.CANCELLED;
      return;
    }
    if (locked.outcomeCommitted()) {
      log.warn("job {} ({}): its outcome had committed when its session failed ({})", job.id(), job.jobClass(), e.getMessage());
      attempt.outcome = resolvedAs(locked, failure != null, true);
      return;
    }
    Throwable cause = failure != null ? failure
        : new IllegalStateException("the job's database session failed before its outcome was written: " + e.getMessage(), e);
    attempt.error = cause;
    attempt.outcome = JobOutcome.FAILED;
    failed.incrementAndGet();
    logFailure("job failed and its database session ended; recording the failure on a fresh session", job, start, cause);
    client.rememberOrphan(job, cause);
    LockedJob again;
    try {
      again = client.relock(job, config.retryPolicy(), maxRetryCount);
    } catch (RuntimeException re) {
      log.warn("job {}: its failure could not be recorded ({}); a worker of this process records it when it locks the job",
          job.id(), re.getMessage());
      return;
    }
    if (again == null) {
      log.warn("job {}: another session holds it or its row changed; its failure is left to that session", job.id());
      return;
    }
    try {
      again.error(cause);
      attempt.outcome = resolvedAs(again, true, false);
      client.forgetOrphan(job.id());
    } catch (RuntimeException re) {
      log.warn("job {}: recording its failure on a fresh session failed: {}", job.id(), re.getMessage());
    } finally {
      again.release();
      Siblings sib = siblings;
      if (sib != null) {
        sib.wakeAnother(this); // one that left the job alone while this attempt settled may look again
      }
    }
  }

  private static boolean causedByJobChange(Throwable t) {
    for (int depth = 0; t != null && depth < 20; depth++, t = t.getCause()) {
      if (t instanceof JobChangedException) {
        return true;
      }
    }
    return false;
  }

  private void logFailure(String what, Job job, long start, Throwable failure) {
    try {
      log.warn("{} id={} class={} queue='{}' error_count={} ms={}",
          what, job.id(), job.jobClass(), job.queue(), job.errorCount() + 1, elapsedMs(start), failure);
    } catch (RuntimeException e) {
      // The failure's own toString() failed inside the logger.
      log.warn("{} id={} class={} queue='{}' error_count={} ms={} ({} could not be printed)",
          what, job.id(), job.jobClass(), job.queue(), job.errorCount() + 1, elapsedMs(start), failure.getClass().getName());
    }
  }

  /** The handler (or the unknown-class failure) wrapped in the interceptors, the first outermost. */
  private JobInterceptor.Chain chain(LockedJob locked, JobContext ctx) {
    RunningJob running = new RunningJob(locked, ctx);
    JobHandler handler = workMap.get(locked.job().jobClass()).orElse(null);
    JobInterceptor.Chain next = () -> {
      if (handler == null) {
        String jobClass = locked.job().jobClass();
        throw new UnknownJobClassException(jobClass, "unknown job type: " + Text.goQuote(jobClass));
      }
      handler.run(running);
    };
    var interceptors = config.interceptors();
    for (int i = interceptors.size() - 1; i >= 0; i--) {
      JobInterceptor interceptor = interceptors.get(i);
      JobInterceptor.Chain inner = next;
      next = () -> interceptor.intercept(running, inner);
    }
    return next;
  }

  private void recordFailure(LockedJob locked, Session s, Throwable failure, long start, Attempt attempt)
      throws SQLException {
    Job job = locked.job();
    failed.incrementAndGet();
    JobContext ctx = locked.context();
    if (stopping && ctx.cancelReason().filter(SHUTDOWN_REASON::equals).isPresent() && !locked.isResolved()) {
      // Cancelled by the deadline, not failed: leave the row exactly as it was; the unlock that
      // follows (after the handler has returned) lets another worker run it again.
      if (s.resetTransaction()) {
        locked.transactionRolledBack();
      }
      log.warn("job cancelled at the shutdown deadline id={} class={} queue='{}' ms={}; its row is left unchanged for another worker",
          job.id(), job.jobClass(), job.queue(), elapsedMs(start));
      attempt.outcome = JobOutcome.CANCELLED;
      return;
    }
    if (s.resetTransaction()) {
      locked.transactionRolledBack();
    }
    boolean resolvedByOthers = locked.isResolved();
    if (locked.isDeleted()) {
      log.warn("job failed after it was deleted (by its handler or an interceptor, e.g. moved to dead letters) id={} class={} queue='{}' ms={}",
          job.id(), job.jobClass(), job.queue(), elapsedMs(start), failure);
      attempt.outcome = JobOutcome.DEAD;
      return;
    }
    if (failure instanceof UnknownJobClassException) {
      if (!locked.isResolved()) {
        locked.error(failure.getMessage());
      }
      log.warn("job errored: unknown job type id={} class={} queue='{}' error_count={}",
          job.id(), job.jobClass(), job.queue(), job.errorCount() + 1);
      attempt.outcome = resolvedAs(locked, true, resolvedByOthers);
      return;
    }
    if (causedByJobChange(failure)) {
      // Its transaction was rolled back above; the row, as someone changed it, decides what runs next.
      log.warn("job changed under its lock id={} class={} queue='{}' ms={}: its transaction was rolled back and the job left as it now is",
          job.id(), job.jobClass(), job.queue(), elapsedMs(start));
      attempt.outcome = JobOutcome.CHANGED;
      return;
    }
    if (!locked.isResolved()) {
      locked.error(failure);
    }
    attempt.outcome = resolvedAs(locked, true, resolvedByOthers);
    logFailure("job errored", job, start, failure);
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
