package io.quejava;

import io.quejava.internal.Session;
import io.quejava.internal.Text;
import java.sql.SQLException;
import java.time.Duration;
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
 * Works the jobs of one queue, one at a time, on one pinned connection (the Ruby 0.x and que-go
 * model): lock, re-check, run the handler, delete or record the error, and only then unlock on the
 * same session. The connection is opened on first use and kept while the worker lives, so its
 * prepared statements are reused; after a database error it is dropped (which releases any lock it
 * held) and opened again.
 *
 * <p>{@link #work()} loops on the calling thread until {@link #shutdown()}; {@link #workOne()} works
 * at most one job. A {@link WorkerPool} runs several workers on threads of its own.
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
        try {
          didWork = workOne();
        } catch (RuntimeException e) {
          if (stopping) {
            break;
          }
          log.warn("worker on queue '{}': {}; retrying after {}", queue, e.getMessage(), config.wakeInterval());
          didWork = false;
        }
        if (!didWork && !stopping) {
          awaitWake();
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
   * Stops taking jobs and gives the running job until {@code timeout}; then interrupts it and kills
   * its connection, so its lock is released and its row stays as it was (another worker runs it
   * again). Returns true when the worker finished within the timeout.
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
    forceStop();
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

  /** Past the deadline: kill the connection (the server drops the lock), then interrupt the handler. */
  void forceStop() {
    Session s = session;
    if (s != null) {
      log.warn("worker on queue '{}': shutdown deadline passed; closing its connection and interrupting the job", queue);
      s.abort();
    }
    JobContext c = current;
    if (c != null) {
      c.cancel("the worker's shutdown deadline passed");
    }
    Thread t = runner;
    if (t != null) {
      t.interrupt();
    }
  }

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
    if (s.resetTransaction()) {
      locked.transactionRolledBack();
    }
    if (locked.isDeleted()) {
      log.warn("job failed after deleting itself id={} class={} queue='{}' ms={}",
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
    log.warn("job errored id={} class={} queue='{}' error_count={} ms={}",
        job.id(), job.jobClass(), job.queue(), job.errorCount() + 1, elapsedMs(start), failure);
  }

  private void awaitWake() {
    idle = true;
    try {
      wakeSignal.tryAcquire(config.wakeInterval().toNanos(), TimeUnit.NANOSECONDS);
      wakeSignal.drainPermits();
    } catch (InterruptedException e) {
      if (!stopping) {
        Thread.currentThread().interrupt();
        stopping = true;
      }
    } finally {
      idle = false;
    }
  }

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
