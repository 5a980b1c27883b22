package io.quejava;

import io.quejava.internal.Session;
import io.quejava.internal.Text;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One job's way through a worker, once its lock is held: the interceptors and the handler, then
 * exactly one outcome written on the job's session (success, failure with backoff, expiry, a
 * cancel that leaves the row as it was), the events for listeners, and, when the session died under
 * the job, its failure recorded on a fresh one. The {@link Worker} owns the session, the lock walk
 * and the unlock; this class never unlocks.
 */
final class JobPipeline {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);

  private final Worker worker;
  private final Client client;
  private final WorkMap workMap;
  private final WorkerConfig config;
  private final Integer maxRetryCount;

  JobPipeline(Worker worker, Client client, WorkMap workMap, WorkerConfig config, Integer maxRetryCount) {
    this.worker = worker;
    this.client = client;
    this.workMap = workMap;
    this.config = config;
    this.maxRetryCount = maxRetryCount;
  }

  /**
   * Runs one locked job through the interceptors and its handler and writes its outcome. Returns
   * false, touching nothing, when an attempt of the same job still runs in this process (its session
   * died under it, so the lock we hold does not prove it is not running).
   */
  boolean perform(LockedJob locked, Session s) {
    return perform(locked, s, null);
  }

  /**
   * The same, for batched completion when {@code pending} is not null: a job whose handler succeeded
   * without resolving it is not deleted but added to {@code pending}, still locked, for the worker's
   * batched delete; its events and counts follow in {@link #completed}.
   */
  boolean perform(LockedJob locked, Session s, java.util.List<Deferred> pending) {
    Job job = locked.job();
    if (!client.startRunning(job.id())) {
      log.debug("job {} ({}) is still running here on a session that ended; left alone until that attempt settles",
          job.id(), job.jobClass());
      return false;
    }
    try {
      performLocked(locked, s, pending);
    } finally {
      client.stopRunning(job.id());
    }
    return true;
  }

  private void performLocked(LockedJob locked, Session s, java.util.List<Deferred> pending) {
    Job job = locked.job();
    long start = System.nanoTime();
    Thread thread = Thread.currentThread();
    String workerName = worker.name() != null ? worker.name() : thread.getName();
    JobContext ctx = new JobContext(job, workerName, s.backendPid(), thread);
    if (worker.isStopping()) {
      ctx.requestStop();
    }
    locked.attach(ctx);
    worker.running(ctx);
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
        if (!config.listeners().isEmpty()) {
          started(new JobEvent.Start(job.id(), job.jobClass(), job.queue(), job.priority(), job.errorCount() + 1,
              queueWait, workerName));
        }
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
        writeOutcome(locked, s, failure, cancelled, start, attempt, pending != null);
      } catch (SQLException | RuntimeException e) {
        outcomeFailed(locked, s, failure, e, start, attempt);
      }
    } finally {
      ctx.detach();
      worker.running(null);
      if (!s.isAborted()) {
        Thread.interrupted(); // a handler's leftover interrupt must not break the next wait
      }
      MDC.remove("que.job_id");
      MDC.remove("que.job_class");
      MDC.remove("que.queue");
    }
    if (attempt.deferred) {
      pending.add(new Deferred(locked, start, System.nanoTime(), queueWait, workerName));
      return;
    }
    if (attempt.outcome != null && !config.listeners().isEmpty()) {
      ended(new JobEvent(job.id(), job.jobClass(), job.queue(), job.priority(), job.errorCount() + 1, attempt.outcome,
          java.util.Optional.ofNullable(attempt.error), Duration.ofNanos(System.nanoTime() - start), queueWait, workerName));
    }
  }

  /** How one attempt ended, filled in as its outcome is written. */
  private static final class Attempt {
    JobOutcome outcome;
    Throwable error;
    /** Succeeded; its delete waits for the worker's batched completion. */
    boolean deferred;
  }

  /** A succeeded job, still locked, whose delete waits for the worker's batched completion. */
  record Deferred(LockedJob locked, long startNanos, long handlerEndedNanos, Duration queueWait, String workerName) {}

  /**
   * The worker's batched delete of {@code d} ended: {@code deleted} when its row was deleted and the
   * statement committed; false with {@code error} null when the delete matched no row (the job changed
   * under its lock: rule R7); false with {@code error} set when the statement failed or never ran
   * (the session died): the job runs again. Counts, logs and tells the listeners.
   */
  void completed(Deferred d, boolean deleted, Throwable error) {
    LockedJob locked = d.locked();
    Job job = locked.job();
    JobOutcome outcome;
    if (deleted) {
      locked.deletedInBatch();
      worker.countWorked();
      outcome = JobOutcome.SUCCEEDED;
      log.debug("job worked id={} class={} queue='{}' priority={} ms={} (batched delete)",
          job.id(), job.jobClass(), job.queue(), job.priority(),
          TimeUnit.NANOSECONDS.toMillis(d.handlerEndedNanos() - d.startNanos()));
    } else if (error == null) {
      worker.countWorked();
      outcome = JobOutcome.CHANGED;
      log.warn("job changed under its lock: its batched delete matched no row (id={} class={} queue='{}');"
          + " the job is left as it now is", job.id(), job.jobClass(), job.queue());
    } else {
      worker.countFailed();
      outcome = JobOutcome.FAILED;
      log.warn("job succeeded but its batched delete did not commit ({}); it runs again id={} class={} queue='{}'",
          error.getMessage(), job.id(), job.jobClass(), job.queue());
    }
    if (!config.listeners().isEmpty()) {
      ended(new JobEvent(job.id(), job.jobClass(), job.queue(), job.priority(), job.errorCount() + 1, outcome,
          java.util.Optional.ofNullable(error), Duration.ofNanos(d.handlerEndedNanos() - d.startNanos()),
          d.queueWait(), d.workerName()));
    }
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
  private void writeOutcome(LockedJob locked, Session s, Throwable failure, boolean cancelled, long start, Attempt attempt,
      boolean mayDefer) throws SQLException {
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
      if (ctx.cancelReason().filter(Worker.SHUTDOWN_REASON::equals).isPresent()) {
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
      if (mayDefer) {
        // Batched completion: the worker deletes it with others, then unlocks; events follow then.
        attempt.deferred = true;
        return;
      }
      locked.delete();
    }
    attempt.outcome = resolvedAs(locked, false, false);
    worker.countWorked();
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
    boolean closedAtDeadline = s.isAborted() && worker.isStopping();
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
    worker.countFailed();
    logFailure("job failed and its database session ended; recording the failure on a fresh session", job, start, cause);
    client.rememberOrphan(job, cause);
    LockedJob again;
    try {
      again = client.locker().relock(job, config.retryPolicy(), maxRetryCount);
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
      worker.wakeSibling(); // one that left the job alone while this attempt settled may look again
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
    worker.countFailed();
    JobContext ctx = locked.context();
    if (worker.isStopping() && ctx.cancelReason().filter(Worker.SHUTDOWN_REASON::equals).isPresent() && !locked.isResolved()) {
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
    if (attempt.outcome == JobOutcome.DEAD) {
      // The interceptor (dead letters) that took it out of the retries has logged it already.
      log.debug("job failed and was taken out of the retries id={} class={} queue='{}'", job.id(), job.jobClass(), job.queue());
      return;
    }
    logFailure(attempt.outcome == JobOutcome.EXPIRED ? "job errored for the last time and expired" : "job errored",
        job, start, failure);
  }


  private static long elapsedMs(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }
}
