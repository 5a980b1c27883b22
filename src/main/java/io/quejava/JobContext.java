package io.quejava;

import io.quejava.internal.Args;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a running job can see of its own run: who runs it, how far it got, and whether it has been
 * asked to stop. One context per attempt, from {@link RunningJob#context()}.
 *
 * <p>Cancellation is cooperative: {@link #cancel(String)} sets a flag the handler can poll with
 * {@link #isCancelled()} and interrupts the thread running the job, so blocking calls end with an
 * {@link InterruptedException}. A worker cancels the job when its pool's shutdown deadline passes;
 * extensions (timeouts) cancel it at their deadline. A graceful shutdown only sets
 * {@link #isStopRequested()}, so long jobs can save their place and return early if they wish.
 */
public final class JobContext {
  private final Job job;
  private final String workerName;
  private final int backendPid;
  private final Instant startedAt;
  private final Logger logger;
  private volatile Thread thread;
  private volatile int progress = -1;
  private volatile String cancelReason;
  private volatile boolean stopRequested;
  private boolean ended;
  /** Created on the first {@link #put}: most attempts carry no values. */
  private volatile java.util.concurrent.ConcurrentHashMap<Key<?>, Object> attributes;

  JobContext(Job job, String workerName, int backendPid, Thread thread) {
    this.job = job;
    this.workerName = workerName;
    this.backendPid = backendPid;
    this.thread = thread;
    this.startedAt = Instant.now();
    this.logger = loggerFor(job.jobClass());
  }

  /** Job class to its logger: the name is built once per class, not once per attempt. Bounded. */
  private static final java.util.concurrent.ConcurrentHashMap<String, Logger> LOGGERS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static Logger loggerFor(String jobClass) {
    Logger l = LOGGERS.get(jobClass);
    if (l == null) {
      l = LoggerFactory.getLogger("io.quejava.job." + loggerSuffix(jobClass));
      if (LOGGERS.size() < 10_000) {
        LOGGERS.put(jobClass, l);
      }
    }
    return l;
  }

  private static String loggerSuffix(String jobClass) {
    String s = jobClass.replace("::", ".").replaceAll("[^A-Za-z0-9_.$-]", "_");
    return s.isEmpty() ? "_" : s;
  }

  public Job job() {
    return job;
  }

  /** The name of the worker running the job (its thread name in a pool); empty outside a worker. */
  public java.util.Optional<String> workerName() {
    return java.util.Optional.ofNullable(workerName);
  }

  /** {@code pg_backend_pid()} of the session that holds the job's advisory lock. */
  public int backendPid() {
    return backendPid;
  }

  /** When this attempt started, by this JVM's clock. */
  public Instant startedAt() {
    return startedAt;
  }

  /**
   * A logger named {@code io.quejava.job.<job class>}. Inside a worker, the MDC carries
   * {@code que.job_id}, {@code que.job_class} and {@code que.queue} while the job runs.
   */
  public Logger logger() {
    return logger;
  }

  /** Reports how far the job got, 0 to 100 (kept in memory; the heartbeat extension stores it). */
  public void progress(int percent) {
    if (percent < 0 || percent > 100) {
      throw new IllegalArgumentException("progress: must be 0 to 100, got " + percent);
    }
    progress = percent;
  }

  /** The last reported progress, or -1 when none was reported. */
  public int progress() {
    return progress;
  }

  /** True once {@link #cancel(String)} ran: the job should stop as soon as it can. */
  public boolean isCancelled() {
    return cancelReason != null;
  }

  /** Why the job was cancelled; empty when it was not. */
  public java.util.Optional<String> cancelReason() {
    return java.util.Optional.ofNullable(cancelReason);
  }

  /** True when the worker is shutting down (or the job was cancelled). */
  public boolean isStopRequested() {
    return stopRequested || cancelReason != null;
  }

  /**
   * Asks the job to stop: sets the cancelled flag with this reason and interrupts the thread running
   * it. The first reason wins. Does nothing once the attempt has ended.
   */
  public void cancel(String reason) {
    Args.notNull(reason, "reason");
    synchronized (this) {
      if (cancelReason != null || ended) {
        return;
      }
      cancelReason = reason;
      Thread t = thread;
      if (t != null) {
        t.interrupt();
      }
    }
  }

  void requestStop() {
    stopRequested = true;
  }

  /**
   * The handler (with its interceptors) returned or threw: later cancels are ignored, so a cancel
   * that arrives after the handler finished cannot turn its success into a cancelled attempt, nor
   * interrupt whatever the thread does next. Returns true when the attempt was cancelled before.
   */
  synchronized boolean end() {
    ended = true;
    thread = null;
    return cancelReason != null;
  }

  /** The attempt ended: later cancels must not interrupt whatever the thread does next. */
  synchronized void detach() {
    ended = true;
    thread = null;
  }

  /**
   * A typed key for a value that an interceptor attaches to one attempt, for other interceptors and
   * extensions to read (the timeout extension attaches the attempt's timeout, the heartbeat extension
   * stores it). Keys compare by identity: keep each in a constant.
   *
   * @param <T> the value's type
   */
  public static final class Key<T> {
    private final String name;
    private final Class<T> type;

    private Key(String name, Class<T> type) {
      this.name = name;
      this.type = type;
    }

    /** A new key; {@code name} is for messages only. */
    public static <T> Key<T> of(String name, Class<T> type) {
      return new Key<>(Args.notNull(name, "name"), Args.notNull(type, "type"));
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * The attempt's timeout, when an interceptor (the timeout extension) enforces one: a key in the
   * core so that extensions read it from the context, never from each other.
   */
  public static final Key<java.time.Duration> TIMEOUT = Key.of("que.timeout", java.time.Duration.class);

  /** Attaches {@code value} to this attempt under {@code key} (null removes it). Any thread. */
  public <T> void put(Key<T> key, T value) {
    Args.notNull(key, "key");
    java.util.concurrent.ConcurrentHashMap<Key<?>, Object> map = attributes;
    if (map == null) {
      if (value == null) {
        return;
      }
      synchronized (this) {
        map = attributes;
        if (map == null) {
          map = new java.util.concurrent.ConcurrentHashMap<>(4);
          attributes = map;
        }
      }
    }
    if (value == null) {
      map.remove(key);
    } else {
      map.put(key, key.type.cast(value));
    }
  }

  /** The value attached under {@code key}; empty when none. Any thread. */
  public <T> java.util.Optional<T> get(Key<T> key) {
    Args.notNull(key, "key");
    java.util.concurrent.ConcurrentHashMap<Key<?>, Object> map = attributes;
    return java.util.Optional.ofNullable(map == null ? null : key.type.cast(map.get(key)));
  }

  @Override
  public String toString() {
    return "JobContext{job=" + job.id() + ", worker=" + workerName + ", backendPid=" + backendPid
        + ", progress=" + progress + (cancelReason != null ? ", cancelled=" + cancelReason : "") + "}";
  }
}
