package io.quejava;

import io.quejava.internal.Args;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Long-lived settings of a {@link Worker} or {@link WorkerPool}. Immutable:
 * {@code WorkerConfig.custom().queue("billing").queue("mailers", 2).wakeInterval(Duration.ofSeconds(1)).build()}.
 */
public final class WorkerConfig {
  /** Default {@link Builder#wakeInterval}: 5 seconds, as Ruby Que and que-go. */
  public static final Duration DEFAULT_WAKE_INTERVAL = Duration.ofSeconds(5);

  private static final WorkerConfig DEFAULTS = custom().build();

  private final List<String> queues;
  private final java.util.Map<String, Integer> queueLimits;
  private final Duration wakeInterval;
  private final RetryPolicy retryPolicy;
  private final List<JobInterceptor> interceptors;
  private final List<JobListener> listeners;
  private final Integer maxRetryCount;
  private final int prefetch;
  /** Batched completion: the most succeeded jobs per delete; 0 when off. */
  private final int completionBatch;
  private final Duration completionMaxDelay;

  /** Default {@link Builder#prefetch}: {@value}. */
  public static final int DEFAULT_PREFETCH = 16;

  /** Default {@link Builder#maxRetryCount} on schema 4–7: {@value}, as Que 1.x/2.x (16 attempts). */
  public static final int DEFAULT_MAX_RETRY_COUNT = 15;

  private WorkerConfig(Builder b) {
    this.maxRetryCount = b.maxRetryCount;
    this.prefetch = b.prefetch;
    this.completionBatch = b.completionBatch;
    this.completionMaxDelay = b.completionMaxDelay;
    this.queues = List.copyOf(b.queues.keySet());
    this.queueLimits = java.util.Map.copyOf(b.queues.entrySet().stream().filter(e -> e.getValue() != null)
        .collect(java.util.stream.Collectors.toMap(java.util.Map.Entry::getKey, java.util.Map.Entry::getValue)));
    this.wakeInterval = b.wakeInterval;
    this.retryPolicy = b.retryPolicy;
    this.interceptors = List.copyOf(b.interceptors);
    this.listeners = List.copyOf(b.listeners);
  }

  public static WorkerConfig ofDefaults() {
    return DEFAULTS;
  }

  public static Builder custom() {
    return new Builder();
  }

  /** A builder that starts from {@code base}. */
  public static Builder from(WorkerConfig base) {
    Builder b = new Builder();
    for (String q : base.queues) {
      b.queues.put(q, base.queueLimits.get(q));
    }
    b.wakeInterval = base.wakeInterval;
    b.retryPolicy = base.retryPolicy;
    b.interceptors.addAll(base.interceptors);
    b.listeners.addAll(base.listeners);
    b.maxRetryCount = base.maxRetryCount;
    b.prefetch = base.prefetch;
    b.completionBatch = base.completionBatch;
    b.completionMaxDelay = base.completionMaxDelay;
    return b;
  }

  /**
   * The queues to work, in the order they are tried (the first has precedence); empty for the
   * client's default queue alone.
   */
  public List<String> queues() {
    return queues;
  }

  /** The most workers of a pool that may work {@code queue} at once; empty when unlimited. */
  public java.util.OptionalInt maxWorkers(String queue) {
    Integer n = queueLimits.get(queue);
    return n == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(n);
  }

  public Duration wakeInterval() {
    return wakeInterval;
  }

  public RetryPolicy retryPolicy() {
    return retryPolicy;
  }

  /**
   * The maximum retry count set with {@link Builder#maxRetryCount}; empty for the default
   * ({@value #DEFAULT_MAX_RETRY_COUNT} on schema 4–7, none on schema 3).
   */
  public java.util.OptionalInt maxRetryCount() {
    return maxRetryCount == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(maxRetryCount);
  }

  /** The most jobs a worker locks ahead in one walk. */
  public int prefetch() {
    return prefetch;
  }

  /**
   * The most succeeded jobs a worker deletes with one statement when batched completion is on (see
   * {@link Builder#batchedCompletion}); empty when it is off (the default: each job's outcome commits
   * before the next job starts).
   */
  public java.util.OptionalInt batchedCompletionMaxJobs() {
    return completionBatch == 0 ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(completionBatch);
  }

  /**
   * How long a succeeded job may wait for its batched delete (see {@link Builder#batchedCompletion});
   * empty when batched completion is off.
   */
  public java.util.Optional<Duration> batchedCompletionMaxDelay() {
    return java.util.Optional.ofNullable(completionMaxDelay);
  }

  /** The listeners that hear every attempt, in the order added. */
  public List<JobListener> listeners() {
    return listeners;
  }

  /** The interceptors around each job, outermost first. */
  public List<JobInterceptor> interceptors() {
    return interceptors;
  }

  /** Builder for {@link WorkerConfig}; {@link #build()} checks every value. */
  public static final class Builder {
    /** Queue name to its limit (null: none), in the order added. */
    private final java.util.LinkedHashMap<String, Integer> queues = new java.util.LinkedHashMap<>();
    private Duration wakeInterval = DEFAULT_WAKE_INTERVAL;
    private RetryPolicy retryPolicy = RetryPolicy.DEFAULT;
    private final List<JobInterceptor> interceptors = new ArrayList<>();
    private final List<JobListener> listeners = new ArrayList<>();
    private Integer maxRetryCount;
    private int prefetch = DEFAULT_PREFETCH;
    private int completionBatch;
    private Duration completionMaxDelay;

    private Builder() {}

    /**
     * Opt-in batched completion: a worker deletes the jobs whose handler succeeded in one statement
     * and one commit, instead of one commit per job, then unlocks them. Off by default.
     *
     * <p>How it works. A worker's lock walk takes up to {@code maxJobs} jobs (or {@link #prefetch},
     * if larger) and runs them one after another on its connection, which holds their advisory
     * locks. A job that succeeds without resolving itself is not deleted at once: it waits, still
     * locked, and the worker deletes the waiting jobs together (schema 3 by their full
     * {@code (queue, priority, run_at, job_id)} key, schema 4–7 by id) in one autocommit statement
     * on that same connection, checks that each row was deleted, and only after that commit unlocks
     * them (rule R2 holds: every unlock follows the commit of the job's resolution). The worker
     * flushes when {@code maxJobs} jobs wait, when the oldest has waited {@code maxDelay}, before it
     * starts a job of a class not yet seen to run fast (under 20 ms), at the end of each walk's
     * batch, and at shutdown.
     *
     * <p>A job starts only when a statement on its lock-holding connection succeeded at most 2 ms
     * (or {@code maxDelay}, if shorter) before: the walk, the previous job's outcome, a flush, or
     * else a one-row {@code SELECT 1} the worker sends first (a round trip, no commit). So no job
     * starts on a connection, and so a lock, not proven alive just before, as without this option,
     * where the previous job's outcome statement is that proof.
     *
     * <p>What changes. Failures, retries, expiries, cancels and every job a handler resolves itself
     * (for example {@link LockedJob#delete()} inside its own transaction on
     * {@link RunningJob#connection()}) are written at once, exactly as without this option. A
     * {@link JobListener} hears {@link JobOutcome#SUCCEEDED} only after the batched delete has
     * committed (its duration is the handler's, up to its return); a job whose row changed under its
     * lock (the delete matched no row) is reported as {@link JobOutcome#CHANGED}; a job whose batched
     * delete could not commit (the connection died) as {@link JobOutcome#FAILED}: it runs again.
     *
     * <p>The re-run window. Que is at-least-once: a crash after a handler's effects and before its
     * job's delete commits runs the job again. With batched completion, a crash (kill -9, power
     * loss, a lost connection) or a forced stop of the shutdown deadline re-runs at most the
     * succeeded jobs still waiting for their delete: at most {@code maxJobs} per worker, and only
     * those that finished within the last {@code maxDelay}. Use it for idempotent jobs; jobs that
     * delete themselves in their own transaction are unaffected.
     *
     * @param maxJobs the most succeeded jobs deleted by one statement, 1 to 1000
     * @param maxDelay the longest a succeeded job waits for its delete (checked before each job
     *     starts), 1 ms to 10 s
     */
    public Builder batchedCompletion(int maxJobs, Duration maxDelay) {
      if (maxJobs < 1 || maxJobs > 1000) {
        throw new IllegalArgumentException("batchedCompletion: maxJobs must be 1 to 1000, got " + maxJobs);
      }
      Args.notNull(maxDelay, "maxDelay");
      if (maxDelay.compareTo(Duration.ofMillis(1)) < 0 || maxDelay.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException("batchedCompletion: maxDelay must be 1 ms to 10 s, got " + maxDelay);
      }
      this.completionBatch = maxJobs;
      this.completionMaxDelay = maxDelay;
      return this;
    }

    /**
     * The most jobs a worker in {@link Worker#work()} locks with one walk and one re-check, then runs
     * one after another on its connection, writing each outcome before the next job starts, and
     * unlocks together at the end. This cuts the statements per job from four to little more than
     * one plus the outcome. Jobs locked but not yet started are invisible to other workers, so the
     * worker keeps that set small: it starts at 1 and doubles up to this limit while every job takes
     * less than 20 ms (one slower job brings it back to 1); before it runs a job of a class it has not
     * yet seen run fast, it unlocks the jobs behind it; and jobs still waiting a second after their
     * walk are unlocked unrun. 1 locks one job at a time exactly as Ruby Que 0.x and que-go do.
     * Default: {@value WorkerConfig#DEFAULT_PREFETCH} (8 before 2026-12-01: 16 measured 1.07-1.16x
     * faster at 1 to 16 workers, in interleaved runs of the benchmark; at most 15 fast jobs, each
     * under 20 ms, wait behind the running one, for at most a second).
     */
    public Builder prefetch(int jobs) {
      if (jobs < 1 || jobs > 1000) {
        throw new IllegalArgumentException("prefetch: must be 1 to 1000, got " + jobs);
      }
      this.prefetch = jobs;
      return this;
    }

    /**
     * Schema 4–7: a failure that brings a job's error count above {@code count} expires it
     * ({@code expired_at = now()}) instead of retrying it, as Que 1.x/2.x's
     * {@code maximum_retry_count} does. Default: {@value WorkerConfig#DEFAULT_MAX_RETRY_COUNT}, so the
     * 16th failure expires the job. Schema 3 has no expiry (Ruby 0.x and que-go retry forever); setting
     * this there is refused when the worker is created (see the deadletter extension instead).
     */
    public Builder maxRetryCount(int count) {
      if (count < 0) {
        throw new IllegalArgumentException("maxRetryCount: must be zero or more, got " + count);
      }
      this.maxRetryCount = count;
      return this;
    }

    /**
     * Adds a queue to work; call it once per queue. Each lock walk covers one queue, in its index
     * order; a worker looking for work tries the queues in the order they were added and takes the
     * first that has a ready job, so earlier queues have precedence (as with Que's {@code -q} order).
     * Default: the client's default queue alone ({@code ''} on schema 3, {@code default} on 4–7).
     * Serve a queue only with workers that know every job class enqueued into it.
     */
    public Builder queue(String queue) {
      return addQueue(queue, null);
    }

    /**
     * Adds a queue that at most {@code maxWorkers} of a pool's workers work at once, so it cannot
     * take every worker from the queues after it (nor, being first, starve them).
     */
    public Builder queue(String queue, int maxWorkers) {
      if (maxWorkers < 1) {
        throw new IllegalArgumentException("maxWorkers: must be at least 1, got " + maxWorkers);
      }
      return addQueue(queue, maxWorkers);
    }

    private Builder addQueue(String queue, Integer maxWorkers) {
      Args.notNull(queue, "queue");
      if (queues.containsKey(queue)) {
        throw new IllegalArgumentException("queue: '" + queue + "' is added twice");
      }
      queues.put(queue, maxWorkers);
      return this;
    }

    /**
     * How long an idle worker waits before it looks for a job again (it looks again at once after
     * a job). Default: 5 seconds. At least 1 ms.
     */
    public Builder wakeInterval(Duration wakeInterval) {
      this.wakeInterval = Args.notNull(wakeInterval, "wakeInterval");
      return this;
    }

    /** The delay before a failed job's next attempt. Default: {@link RetryPolicy#DEFAULT} (count^4 + 3 s). */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Args.notNull(retryPolicy, "retryPolicy");
      return this;
    }

    /**
     * Adds a listener that hears every attempt (see {@link JobListener}), synchronously on the
     * worker's thread. Default: none.
     */
    public Builder listener(JobListener listener) {
      listeners.add(Args.notNull(listener, "listener"));
      return this;
    }

    /**
     * Adds an interceptor around every job (see {@link JobInterceptor}); the first added is the
     * outermost. Default: none.
     */
    public Builder interceptor(JobInterceptor interceptor) {
      interceptors.add(Args.notNull(interceptor, "interceptor"));
      return this;
    }

    public WorkerConfig build() {
      if (wakeInterval.compareTo(Duration.ofMillis(1)) < 0) {
        throw new IllegalArgumentException("wakeInterval: must be at least 1 ms, got " + wakeInterval);
      }
      for (String q : queues.keySet()) {
        if (q.indexOf('\0') >= 0) {
          throw new IllegalArgumentException("queue: contains a NUL character");
        }
      }
      return new WorkerConfig(this);
    }
  }
}
