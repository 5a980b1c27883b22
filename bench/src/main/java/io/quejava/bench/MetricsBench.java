package io.quejava.bench;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.quejava.Statistics;
import io.quejava.WorkerPool;
import io.quejava.bench.Bench.Ctx;
import io.quejava.bench.Report.Cell;
import io.quejava.metrics.QueMetrics;
import io.quejava.metrics.QueueMetrics;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Scenario 7: what the Micrometer meters cost a drain at 8 workers (the work scenario's setup, schema
 * 3). Metrics on: the pool bound with {@link QueMetrics#bind} on a Prometheus registry (attempt
 * counter, run-time and queue-wait timers, busy/idle gauges), the queue gauges refreshed every 5 s
 * ({@link QueueMetrics}), and a scrape every 5 s. Metrics off: the same pool with nothing bound. After
 * one short unreported drain of each, eight drains alternate off, on, on, off, on, off, off, on (so
 * drift of a shared machine falls on both sides); the rows show the median of each, jobs/s and the
 * JVM's CPU time per job, and the meters' own work per attempt measured in process.
 */
final class MetricsBench {
  static final int WORKERS = 8;
  static final Duration REFRESH = Duration.ofSeconds(5);

  private MetricsBench() {}

  /** Off/on order of the measured drains (ABBA BAAB): drift of a shared machine falls on both sides. */
  private static final boolean[] ORDER = {false, true, true, false, true, false, false, true};

  static void run(Ctx ctx) throws Exception {
    int jobs = ctx.options.workJobs();
    ctx.report.section(String.format(Locale.ROOT,
        "7. Metrics: drain %,d no-op jobs with %d workers, Micrometer meters on vs off (median of 4 each, interleaved)",
        jobs, WORKERS));
    Bench.progress("metrics: warming up both paths");
    drain(ctx, 10_000, false, Duration.ofSeconds(3));
    drain(ctx, 10_000, true, Duration.ofSeconds(3));
    double[][] on = new double[2][ORDER.length / 2];
    double[][] off = new double[2][ORDER.length / 2];
    int nOn = 0;
    int nOff = 0;
    for (boolean metrics : ORDER) {
      double[] r = drain(ctx, jobs, metrics, ctx.options.cap());
      Bench.progress(String.format(Locale.ROOT, "metrics %s: %.0f jobs/s, %.0f us JVM CPU per job", metrics ? "on" : "off",
          r[0], r[1]));
      double[][] into = metrics ? on : off;
      int i = metrics ? nOn++ : nOff++;
      into[0][i] = r[0];
      into[1][i] = r[1];
    }
    double rateOn = median(on[0]);
    double rateOff = median(off[0]);
    ctx.report.row(WORKERS + " workers, meters on (que-java) vs off (floor)", "jobs/s", Cell.of(rateOn), Cell.NONE,
        Cell.of(rateOff));
    ctx.report.row(WORKERS + " workers, JVM CPU per job, meters on vs off", "us/job", Cell.of(median(on[1])), Cell.NONE,
        Cell.of(median(off[1])));
    double ns = listenerNanos();
    ctx.report.row("the meters' work per attempt (start and end events), one thread, in process", "ns", Cell.of(ns),
        Cell.NONE, Cell.NONE);
    ctx.report.note(String.format(Locale.ROOT,
        "Metrics runs: jobs/s on %s, off %s; on/off = %.3f (cost %.1f %%). JVM CPU us/job on %s, off %s."
            + " The meters' own work is %.0f ns per attempt, %.2f %% of the %.0f us a job takes at the off rate.",
        Arrays.toString(round(on[0])), Arrays.toString(round(off[0])), rateOn / rateOff, 100 * (1 - rateOn / rateOff),
        Arrays.toString(round(on[1])), Arrays.toString(round(off[1])), ns, 100 * ns / (1e9 / rateOff), 1e6 / rateOff));
  }

  /**
   * What the job listener costs per attempt on a Prometheus registry: jobStarted and jobEnded for
   * 4 classes in 2 queues, after a warm-up, on one thread (no contention).
   */
  private static double listenerNanos() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    io.quejava.JobListener l = QueMetrics.create(registry).jobListener();
    io.quejava.JobEvent.Start[] starts = new io.quejava.JobEvent.Start[8];
    io.quejava.JobEvent[] ends = new io.quejava.JobEvent[8];
    for (int i = 0; i < 8; i++) {
      String cls = "Bench" + (i % 4);
      String queue = i < 4 ? "default" : "mailers";
      starts[i] = new io.quejava.JobEvent.Start(i, cls, queue, 100, 1, Duration.ofMillis(3), "w");
      ends[i] = new io.quejava.JobEvent(i, cls, queue, 100, 1, io.quejava.JobOutcome.SUCCEEDED,
          java.util.Optional.empty(), Duration.ofMillis(1), Duration.ofMillis(3), "w");
    }
    for (int round = 0; ; round++) {
      int n = 2_000_000;
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        l.jobStarted(starts[i & 7]);
        l.jobEnded(ends[i & 7]);
      }
      double ns = (System.nanoTime() - t0) / (double) n;
      if (round == 2) { // the first two rounds warm the JIT
        registry.close();
        return ns;
      }
    }
  }

  /** One drain: jobs/s, and the JVM's CPU time per job (every thread: workers, GC, the meters). */
  private static double[] drain(Ctx ctx, int jobs, boolean metrics, Duration cap) throws Exception {
    String label = "metrics, " + WORKERS + " workers: meters " + (metrics ? "on" : "off");
    Bench.progress(label);
    WorkBench.refill(ctx.env, jobs);
    JavaDrain drain = new JavaDrain(jobs, null);
    WorkerPool.Builder builder = drain.builder(ctx.client, WORKERS, WorkBench.DRAIN_WAKE);
    if (!metrics) {
      long cpu0 = cpuNanos();
      WorkerPool pool = builder.build();
      pool.start();
      JavaDrain.Drained d = drain.await(pool, cap, false);
      return new double[] {d.rate(), (cpuNanos() - cpu0) / 1e3 / d.jobs()};
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    QueMetrics meters = QueMetrics.create(registry);
    ScheduledExecutorService scraper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-scraper");
      t.setDaemon(true);
      return t;
    });
    try (QueueMetrics queues = meters.bindQueues(Statistics.create(ctx.client), REFRESH)) {
      scraper.scheduleAtFixedRate(registry::scrape, REFRESH.toMillis(), REFRESH.toMillis(), TimeUnit.MILLISECONDS);
      long cpu0 = cpuNanos();
      WorkerPool pool = meters.bind(builder).build();
      pool.start();
      JavaDrain.Drained d = drain.await(pool, cap, false);
      long cpu = cpuNanos() - cpu0;
      double attempts = registry.get("que.job.attempts").counter().count();
      if (attempts < d.jobs()) {
        throw new IllegalStateException("the meters counted " + attempts + " attempts of " + d.jobs() + " jobs");
      }
      return new double[] {d.rate(), cpu / 1e3 / d.jobs()};
    } finally {
      scraper.shutdownNow();
      registry.close();
    }
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static long[] round(double[] v) {
    return Arrays.stream(v).mapToLong(Math::round).toArray();
  }
}
