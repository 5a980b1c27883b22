package io.quejava.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.quejava.Client;
import io.quejava.EnqueueListener;
import io.quejava.Job;
import io.quejava.JobEvent;
import io.quejava.JobListener;
import io.quejava.JobOutcome;
import io.quejava.PoolExtension;
import io.quejava.Statistics;
import io.quejava.WorkerPool;
import io.quejava.internal.Args;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * que-java's Micrometer meters on one {@link MeterRegistry}. One instance per registry and process:
 * it keeps the meters and the bounded sets of tag values that every pool and client bound to it
 * share.
 *
 * <pre>{@code
 * QueMetrics metrics = QueMetrics.create(registry);
 * Client client = metrics.bind(Client.builder(dataSource)).build();          // enqueue counters
 * WorkerPool pool = metrics.bind(WorkerPool.builder(client, work)).build();  // attempts, workers
 * QueueMetrics queues = metrics.bindQueues(client);                          // queue gauges
 * ...
 * queues.close();
 * }</pre>
 *
 * <p>The meters (Prometheus renders the names in snake_case with {@code _total} and
 * {@code _seconds}):
 *
 * <table>
 * <caption>Meters</caption>
 * <tr><th>name</th><th>type</th><th>tags</th></tr>
 * <tr><td>{@code que.job.attempts}</td><td>counter</td><td>queue, job_class, outcome</td></tr>
 * <tr><td>{@code que.job.duration}</td><td>timer</td><td>queue, job_class, outcome</td></tr>
 * <tr><td>{@code que.job.queue.wait}</td><td>timer</td><td>queue, job_class</td></tr>
 * <tr><td>{@code que.job.enqueued}</td><td>counter</td><td>queue, job_class</td></tr>
 * <tr><td>{@code que.job.enqueue.errors}</td><td>counter</td><td>queue, job_class</td></tr>
 * <tr><td>{@code que.workers.busy}, {@code que.workers.idle}</td><td>gauge</td><td>pool</td></tr>
 * <tr><td>{@code que.queue.jobs}</td><td>gauge</td><td>queue, state</td></tr>
 * <tr><td>{@code que.queue.oldest.ready.age}</td><td>time gauge</td><td>queue</td></tr>
 * <tr><td>{@code que.queue.stats.age}</td><td>time gauge</td><td></td></tr>
 * </table>
 *
 * <p>{@code outcome} is the lower-case {@link JobOutcome}: {@code succeeded}, {@code failed},
 * {@code expired}, {@code dead}, {@code cancelled}, and {@code changed} for an attempt whose row
 * changed under its lock and was rolled back (neither a success nor a failure of the job: the
 * job is left as another session made it).
 *
 * <p><b>Cardinality.</b> Job ids and args never become tags. Job classes and queue names are
 * untrusted text from every language on the table: the first {@link Builder#maxJobClasses}
 * classes and {@link Builder#maxQueues} queues seen keep their names, later ones are all
 * tagged {@value #OTHER}.
 */
public final class QueMetrics {
  /** Default for {@link Builder#maxJobClasses}: {@value}. */
  public static final int DEFAULT_MAX_JOB_CLASSES = 100;

  /** Default for {@link Builder#maxQueues}: {@value}. */
  public static final int DEFAULT_MAX_QUEUES = 100;

  /** The tag value for job classes and queues beyond the limits: {@value}. */
  public static final String OTHER = "other";

  private final MeterRegistry registry;
  private final Tags commonTags;
  private final Bounded jobClasses;
  private final Bounded queues;
  private final boolean histograms;
  private final ConcurrentMap<AttemptKey, AttemptMeters> attempts = new ConcurrentHashMap<>();
  private final ConcurrentMap<ClassKey, Timer> waits = new ConcurrentHashMap<>();
  private final ConcurrentMap<ClassKey, Counter> enqueued = new ConcurrentHashMap<>();
  private final ConcurrentMap<ClassKey, Counter> enqueueErrors = new ConcurrentHashMap<>();
  private final JobListener jobListener = new Listener();
  private final EnqueueListener enqueueListener = new Enqueues();

  private QueMetrics(Builder b) {
    this.registry = b.registry;
    this.commonTags = b.tags;
    this.jobClasses = new Bounded(b.maxJobClasses);
    this.queues = new Bounded(b.maxQueues);
    this.histograms = b.histograms;
  }

  /** Meters on {@code registry} with the default limits. */
  public static QueMetrics create(MeterRegistry registry) {
    return builder(registry).build();
  }

  public static Builder builder(MeterRegistry registry) {
    return new Builder(registry);
  }

  /** The registry the meters are on. */
  public MeterRegistry registry() {
    return registry;
  }

  /**
   * Instruments a pool: adds the {@link #jobListener()} (attempts, run time, queue wait) and the
   * {@link #poolExtension()} (busy and idle workers while the pool runs). Returns {@code pool}.
   */
  public WorkerPool.Builder bind(WorkerPool.Builder pool) {
    Args.notNull(pool, "pool");
    return pool.listener(jobListener).extension(poolExtension());
  }

  /** Instruments a client's enqueues: adds the {@link #enqueueListener()}. Returns {@code client}. */
  public Client.Builder bind(Client.Builder client) {
    Args.notNull(client, "client");
    return client.enqueueListener(enqueueListener);
  }

  /**
   * Starts the queue gauges for {@code client}'s table, refreshed every
   * {@link QueueMetrics#DEFAULT_INTERVAL}. Bind one per table and process: each refresh is one
   * {@link Statistics#summary()} on one connection.
   */
  public QueueMetrics bindQueues(Client client) {
    return bindQueues(Statistics.create(Args.notNull(client, "client")), QueueMetrics.DEFAULT_INTERVAL);
  }

  /** As {@link #bindQueues(Client)}, with these statistics (their limits) and refresh interval. */
  public QueueMetrics bindQueues(Statistics statistics, Duration interval) {
    QueueMetrics q = new QueueMetrics(this, Args.notNull(statistics, "statistics"), Args.notNull(interval, "interval"));
    q.start();
    return q;
  }

  /** The listener behind the attempt meters, for a {@link io.quejava.WorkerConfig} or a pool builder. */
  public JobListener jobListener() {
    return jobListener;
  }

  /** The listener behind the enqueue counters, for {@link Client.Builder#enqueueListener}. */
  public EnqueueListener enqueueListener() {
    return enqueueListener;
  }

  /**
   * A pool extension that registers {@code que.workers.busy} and {@code que.workers.idle} tagged
   * with the pool's name when the pool starts, and removes them when it stops. A new one per pool.
   * Pools of the same name share the two gauges, which sum over them.
   */
  public PoolExtension poolExtension() {
    return new PoolMeters();
  }

  // ---------------------------------------------------------------------------------------------

  Tags commonTags() {
    return commonTags;
  }

  String queueTag(String queue) {
    return queues.of(queue);
  }

  private static String outcomeTag(JobOutcome outcome) {
    return outcome.name().toLowerCase(Locale.ROOT);
  }

  private record AttemptKey(String queue, String jobClass, JobOutcome outcome) {}

  private record ClassKey(String queue, String jobClass) {}

  private record AttemptMeters(Counter count, Timer duration) {}

  private AttemptMeters attemptMeters(AttemptKey k) {
    Tags tags = commonTags.and("queue", k.queue, "job_class", k.jobClass, "outcome", outcomeTag(k.outcome));
    return new AttemptMeters(
        Counter.builder("que.job.attempts").description("Attempts of jobs that ended, by outcome")
            .tags(tags).register(registry),
        Timer.builder("que.job.duration").description("Run time of attempts: handler start to outcome written")
            .tags(tags).publishPercentileHistogram(histograms).register(registry));
  }

  private Timer waitTimer(ClassKey k) {
    return Timer.builder("que.job.queue.wait").description("Queue wait: a handler's start minus the job's run_at")
        .tags(commonTags.and("queue", k.queue, "job_class", k.jobClass))
        .publishPercentileHistogram(histograms).register(registry);
  }

  private Counter counter(String name, String description, ClassKey k) {
    return Counter.builder(name).description(description)
        .tags(commonTags.and("queue", k.queue, "job_class", k.jobClass)).register(registry);
  }

  private ClassKey classKey(String queue, String jobClass) {
    return new ClassKey(queues.of(queue), jobClasses.of(jobClass));
  }

  private final class Listener implements JobListener {
    @Override
    public void jobStarted(JobEvent.Start start) {
      waits.computeIfAbsent(classKey(start.queue(), start.jobClass()), QueMetrics.this::waitTimer)
          .record(start.queueWait().toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void jobEnded(JobEvent e) {
      AttemptKey k = new AttemptKey(queues.of(e.queue()), jobClasses.of(e.jobClass()), e.outcome());
      AttemptMeters m = attempts.computeIfAbsent(k, QueMetrics.this::attemptMeters);
      m.count.increment();
      m.duration.record(e.runTime().toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public String toString() {
      return "QueMetrics job listener";
    }
  }

  private final class Enqueues implements EnqueueListener {
    @Override
    public void enqueued(Job job) {
      if (!job.isDuplicate()) {
        enqueued.computeIfAbsent(classKey(job.queue(), job.jobClass()),
            k -> counter("que.job.enqueued", "Jobs enqueued (duplicates of unique jobs not counted)", k)).increment();
      }
    }

    @Override
    public void enqueueFailed(String jobClass, String queue, RuntimeException error) {
      enqueueErrors.computeIfAbsent(classKey(queue, jobClass),
          k -> counter("que.job.enqueue.errors", "Jobs whose enqueue failed", k)).increment();
    }

    @Override
    public String toString() {
      return "QueMetrics enqueue listener";
    }
  }

  /**
   * Pools started with the meters, by name: pools that share a name (two pools left at the default
   * name, say) share one pair of gauges, which sum over them.
   */
  private final java.util.Map<String, PoolGroup> pools = new java.util.HashMap<>();

  private static final class PoolGroup {
    final Set<WorkerPool> members = ConcurrentHashMap.newKeySet();
    final List<Meter> gauges = new ArrayList<>();

    double busy() {
      return members.stream().mapToInt(p -> p.stats().busyWorkers()).sum();
    }

    double idle() {
      return members.stream().mapToInt(p -> p.size() - p.stats().busyWorkers()).sum();
    }
  }

  private final class PoolMeters implements PoolExtension {
    private WorkerPool pool;

    @Override
    public void start(WorkerPool pool) {
      synchronized (pools) {
        this.pool = pool;
        PoolGroup g = pools.computeIfAbsent(pool.name(), n -> new PoolGroup());
        if (g.members.isEmpty()) {
          Tags tags = commonTags.and("pool", pool.name());
          g.gauges.add(Gauge.builder("que.workers.busy", g, PoolGroup::busy).strongReference(true)
              .description("Workers of the pool running a job now").tags(tags).register(registry));
          g.gauges.add(Gauge.builder("que.workers.idle", g, PoolGroup::idle).strongReference(true)
              .description("Workers of the pool not running a job now (waiting or looking for one)").tags(tags)
              .register(registry));
        }
        g.members.add(pool);
      }
    }

    @Override
    public void stop() {
      synchronized (pools) {
        if (pool == null) {
          return;
        }
        PoolGroup g = pools.get(pool.name());
        if (g != null && g.members.remove(pool) && g.members.isEmpty()) {
          g.gauges.forEach(registry::remove);
          pools.remove(pool.name());
        }
        pool = null;
      }
    }

    @Override
    public String toString() {
      return "QueMetrics pool meters";
    }
  }

  /** The first {@code limit} values seen keep their names; later ones are {@link #OTHER}. */
  static final class Bounded {
    private final int limit;
    private final Set<String> admitted = ConcurrentHashMap.newKeySet();

    Bounded(int limit) {
      this.limit = limit;
    }

    String of(String value) {
      if (admitted.contains(value)) {
        return value;
      }
      synchronized (this) {
        if (admitted.contains(value)) {
          return value;
        }
        if (admitted.size() < limit) {
          admitted.add(value);
          return value;
        }
      }
      return OTHER;
    }
  }

  /** Settings for {@link QueMetrics}. */
  public static final class Builder {
    private final MeterRegistry registry;
    private Tags tags = Tags.empty();
    private int maxJobClasses = DEFAULT_MAX_JOB_CLASSES;
    private int maxQueues = DEFAULT_MAX_QUEUES;
    private boolean histograms;

    private Builder(MeterRegistry registry) {
      this.registry = Args.notNull(registry, "registry");
    }

    /** Tags added to every meter (an application name, say). Default: none. */
    public Builder tags(Iterable<Tag> tags) {
      this.tags = this.tags.and(Args.notNull(tags, "tags"));
      return this;
    }

    /**
     * How many job classes keep their own {@code job_class} tag value; the ones seen after them are
     * all tagged {@value QueMetrics#OTHER}. Default: {@value QueMetrics#DEFAULT_MAX_JOB_CLASSES}.
     */
    public Builder maxJobClasses(int limit) {
      if (limit < 0) {
        throw new IllegalArgumentException("maxJobClasses: must not be negative, got " + limit);
      }
      this.maxJobClasses = limit;
      return this;
    }

    /**
     * How many queues keep their own {@code queue} tag value in the job meters; the ones seen after
     * them are all tagged {@value QueMetrics#OTHER} (the queue gauges sum them). Default:
     * {@value QueMetrics#DEFAULT_MAX_QUEUES}.
     */
    public Builder maxQueues(int limit) {
      if (limit < 0) {
        throw new IllegalArgumentException("maxQueues: must not be negative, got " + limit);
      }
      this.maxQueues = limit;
      return this;
    }

    /**
     * Whether the timers publish percentile histograms (Prometheus {@code _bucket} series, for
     * {@code histogram_quantile}). Default: false, count, sum and max only; a
     * {@code MeterFilter} of the application can switch them on too.
     */
    public Builder histograms(boolean publish) {
      this.histograms = publish;
      return this;
    }

    public QueMetrics build() {
      return new QueMetrics(this);
    }
  }
}
