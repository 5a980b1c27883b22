package io.quejava;

import io.quejava.internal.Args;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Long-lived settings of a {@link Worker} or {@link WorkerPool}. Immutable:
 * {@code WorkerConfig.custom().queue("billing").wakeInterval(Duration.ofSeconds(1)).build()}.
 */
public final class WorkerConfig {
  /** Default {@link Builder#wakeInterval}: 5 seconds, as Ruby Que and que-go. */
  public static final Duration DEFAULT_WAKE_INTERVAL = Duration.ofSeconds(5);

  private static final WorkerConfig DEFAULTS = custom().build();

  private final String queue;
  private final Duration wakeInterval;
  private final RetryPolicy retryPolicy;
  private final List<JobInterceptor> interceptors;
  private final List<JobListener> listeners;
  private final Integer maxRetryCount;
  private final int prefetch;

  /** Default {@link Builder#prefetch}: {@value}. */
  public static final int DEFAULT_PREFETCH = 8;

  /** Default {@link Builder#maxRetryCount} on schema 4–7: {@value}, as Que 1.x/2.x (16 attempts). */
  public static final int DEFAULT_MAX_RETRY_COUNT = 15;

  private WorkerConfig(Builder b) {
    this.maxRetryCount = b.maxRetryCount;
    this.prefetch = b.prefetch;
    this.queue = b.queue;
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
    b.queue = base.queue;
    b.wakeInterval = base.wakeInterval;
    b.retryPolicy = base.retryPolicy;
    b.interceptors.addAll(base.interceptors);
    b.listeners.addAll(base.listeners);
    b.maxRetryCount = base.maxRetryCount;
    b.prefetch = base.prefetch;
    return b;
  }

  /** The queue to work; empty for the client's default queue. */
  public java.util.Optional<String> queue() {
    return java.util.Optional.ofNullable(queue);
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
    private String queue;
    private Duration wakeInterval = DEFAULT_WAKE_INTERVAL;
    private RetryPolicy retryPolicy = RetryPolicy.DEFAULT;
    private final List<JobInterceptor> interceptors = new ArrayList<>();
    private final List<JobListener> listeners = new ArrayList<>();
    private Integer maxRetryCount;
    private int prefetch = DEFAULT_PREFETCH;

    private Builder() {}

    /**
     * The most jobs a worker in {@link Worker#work()} locks with one walk and one re-check, then runs
     * one after another on its connection, writing each outcome before the next job starts, and
     * unlocks together at the end. This cuts the statements per job from four to little more than
     * one plus the outcome. Jobs locked but not yet started are invisible to other workers, so the
     * worker keeps that set small: it starts at 1 and doubles up to this limit while every job takes
     * less than 20 ms (one slower job brings it back to 1); before it runs a job of a class it has not
     * yet seen run fast, it unlocks the jobs behind it; and jobs still waiting a second after their
     * walk are unlocked unrun. 1 locks one job at a time exactly as Ruby Que 0.x and que-go do.
     * Default: {@value WorkerConfig#DEFAULT_PREFETCH}.
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
     * The one queue this worker polls. Default: the client's default queue ({@code ''} on schema 3).
     * Serve a queue only with workers that know every job class enqueued into it.
     */
    public Builder queue(String queue) {
      this.queue = Args.notNull(queue, "queue");
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
      if (queue != null && queue.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("queue: contains a NUL character");
      }
      return new WorkerConfig(this);
    }
  }
}
