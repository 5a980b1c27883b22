package io.quejava.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.quejava.QueueStats;
import io.quejava.Statistics;
import io.quejava.StatsReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-queue gauges, read from {@link Statistics#summary()} by one daemon thread on an interval,
 * never by a scrape: a scrape reads the last figures. Each refresh takes one connection from the
 * data source for one read-only transaction. Made by {@link QueMetrics#bindQueues}; bind one per
 * table and process, and {@link #close()} it when the application stops.
 *
 * <ul>
 *   <li>{@code que.queue.jobs} (gauge; tags {@code queue}, {@code state}): jobs per state, one of
 *       {@code ready}, {@code scheduled}, {@code running}, {@code failing} (not running, error_count
 *       above 0), and {@code dead} when the deadletter extension is installed. On large tables some
 *       counts are estimates (see {@link QueueStats#estimated()}).
 *   <li>{@code que.queue.oldest.ready.age} (time gauge; tag {@code queue}): how long the oldest
 *       ready job has been due, the queue's latency; 0 when none is ready.
 *   <li>{@code que.queue.stats.age} (time gauge): time since the figures were last read
 *       successfully (NaN before the first read); it grows while refreshes fail.
 * </ul>
 *
 * <p>A queue that disappears from the table reads 0. Queues beyond {@link QueMetrics.Builder#maxQueues}
 * are summed under the queue {@value QueMetrics#OTHER} (the oldest age: their maximum).
 */
public final class QueueMetrics implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(QueueMetrics.class);

  /** Default refresh interval: 15 s. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(15);

  private static final String[] STATES = {"ready", "scheduled", "running", "failing", "dead"};

  private final QueMetrics metrics;
  private final MeterRegistry registry;
  private final Statistics statistics;
  private final Duration interval;
  private final ScheduledExecutorService scheduler;
  private final List<Meter> meters = new ArrayList<>();
  /** Queue tag to its figures (ready, scheduled, running, failing, dead, oldest age in nanos). */
  private volatile Map<String, long[]> figures = Map.of();
  private final Map<String, Boolean> registered = new HashMap<>();
  private final AtomicLong lastRead = new AtomicLong(-1);
  private boolean closed;

  QueueMetrics(QueMetrics metrics, Statistics statistics, Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval: must be positive, got " + interval);
    }
    this.metrics = metrics;
    this.registry = metrics.registry();
    this.statistics = statistics;
    this.interval = interval;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "que-queue-metrics");
      t.setDaemon(true);
      return t;
    });
    meters.add(TimeGauge.builder("que.queue.stats.age", lastRead, TimeUnit.NANOSECONDS,
            l -> l.get() < 0 ? Double.NaN : System.nanoTime() - l.get())
        .strongReference(true).description("Time since the queue figures were last read").tags(metrics.commonTags()).register(registry));
  }

  void start() {
    scheduler.scheduleWithFixedDelay(this::refreshQuietly, 0, interval.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** The refresh interval. */
  public Duration interval() {
    return interval;
  }

  /**
   * Reads the figures now, on the calling thread, and returns them (the scheduled refreshes go on).
   * Throws {@link io.quejava.QueException} when they cannot be read.
   */
  public synchronized StatsReport refresh() {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    StatsReport report = statistics.summary();
    Map<String, long[]> next = new HashMap<>();
    for (QueueStats q : report.queues()) {
      long[] f = next.computeIfAbsent(metrics.queueTag(q.queue()), k -> new long[6]);
      f[0] += q.ready();
      f[1] += q.scheduled();
      f[2] += q.running();
      f[3] += q.failing();
      f[4] += q.dead().orElse(0);
      f[5] = Math.max(f[5], q.oldestReadyAge().toNanos());
    }
    for (String queue : next.keySet()) {
      if (registered.putIfAbsent(queue, Boolean.TRUE) == null) {
        register(queue, report.deadLetters());
      }
    }
    figures = Map.copyOf(next);
    lastRead.set(System.nanoTime());
    return report;
  }

  private void register(String queue, boolean dead) {
    Tags tags = metrics.commonTags().and("queue", queue);
    for (int i = 0; i < STATES.length; i++) {
      if (i == 4 && !dead) {
        continue;
      }
      int index = i;
      meters.add(Gauge.builder("que.queue.jobs", this, m -> m.figure(queue, index))
          .strongReference(true).description("Jobs of the queue in this state").tags(tags.and("state", STATES[i])).register(registry));
    }
    meters.add(TimeGauge.builder("que.queue.oldest.ready.age", this, TimeUnit.NANOSECONDS, m -> m.figure(queue, 5))
        .strongReference(true).description("How long the queue's oldest ready job has been due (its latency)").tags(tags)
        .register(registry));
  }

  private double figure(String queue, int index) {
    long[] f = figures.get(queue);
    return f == null ? 0 : f[index];
  }

  private void refreshQuietly() {
    try {
      refresh();
    } catch (RuntimeException e) {
      log.warn("queue metrics: cannot read the queue statistics: {}", e.toString());
    }
  }

  /** Stops the refreshes and removes the queue gauges from the registry. Idempotent. */
  @Override
  public void close() {
    scheduler.shutdownNow();
    try {
      scheduler.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      closed = true;
      meters.forEach(registry::remove);
      meters.clear();
    }
  }
}
