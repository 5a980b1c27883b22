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
 * ({@link QueueMetrics}), and a scrape every 5 s. Metrics off: the same pool with nothing bound. The
 * runs alternate off, on, on, off, off, on (so drift of a shared machine falls on both sides);
 * the row shows the median of each and on/off.
 */
final class MetricsBench {
  static final int WORKERS = 8;
  static final Duration REFRESH = Duration.ofSeconds(5);

  private MetricsBench() {}

  static void run(Ctx ctx) throws Exception {
    int jobs = ctx.options.workJobs();
    ctx.report.section(String.format(Locale.ROOT,
        "7. Metrics: drain %,d no-op jobs with %d workers, Micrometer meters on vs off (median of 3 each, interleaved)",
        jobs, WORKERS));
    boolean[] order = {false, true, true, false, false, true};
    double[] on = new double[3];
    double[] off = new double[3];
    int nOn = 0;
    int nOff = 0;
    for (boolean metrics : order) {
      double rate = drain(ctx, jobs, metrics);
      Bench.progress(String.format(Locale.ROOT, "metrics %s: %.0f jobs/s", metrics ? "on" : "off", rate));
      if (metrics) {
        on[nOn++] = rate;
      } else {
        off[nOff++] = rate;
      }
    }
    double medianOn = median(on);
    double medianOff = median(off);
    ctx.report.row(WORKERS + " workers, meters on (que-java) vs off (floor)", "jobs/s", Cell.of(medianOn), Cell.NONE,
        Cell.of(medianOff));
    ctx.report.note(String.format(Locale.ROOT, "Metrics runs (jobs/s): on %s, off %s; on/off = %.3f (cost %.1f %%).",
        Arrays.toString(round(on)), Arrays.toString(round(off)), medianOn / medianOff,
        100 * (1 - medianOn / medianOff)));
  }

  private static double drain(Ctx ctx, int jobs, boolean metrics) throws Exception {
    String label = "metrics, " + WORKERS + " workers: meters " + (metrics ? "on" : "off");
    Bench.progress(label);
    WorkBench.refill(ctx.env, jobs);
    JavaDrain drain = new JavaDrain(jobs, null);
    WorkerPool.Builder builder = drain.builder(ctx.client, WORKERS, WorkBench.DRAIN_WAKE);
    if (!metrics) {
      WorkerPool pool = builder.build();
      pool.start();
      return drain.await(pool, ctx.options.cap(), false).rate();
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
      WorkerPool pool = meters.bind(builder).build();
      pool.start();
      JavaDrain.Drained d = drain.await(pool, ctx.options.cap(), false);
      double attempts = registry.get("que.job.attempts").counter().count();
      if (attempts < d.jobs()) {
        throw new IllegalStateException("the meters counted " + attempts + " attempts of " + d.jobs() + " jobs");
      }
      return d.rate();
    } finally {
      scraper.shutdownNow();
      registry.close();
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static long[] round(double[] v) {
    return Arrays.stream(v).mapToLong(Math::round).toArray();
  }
}
