package io.quejava.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.quejava.Client;
import io.quejava.NewJob;
import io.quejava.PgTest;
import io.quejava.Statistics;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.testing.Await;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A Prometheus scrape after real jobs ran: the series names and their labels. */
class PrometheusScrapeTest extends PgTest {
  @Test
  void theScrapeHasEverySeriesWithItsLabels() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    QueMetrics metrics = QueMetrics.create(registry);
    Client c = metrics.bind(Client.builder(ds)).build();
    c.enqueue(NewJob.of("Ok").queue("prom"));
    c.enqueue(NewJob.of("Boom").queue("prom"));
    c.enqueue(NewJob.of("Later").queue("prom").runAt(java.time.Instant.now().plusSeconds(3600)));
    c.enqueue(NewJob.of("Elsewhere")); // the default queue: '' on schema 3, an empty label value
    WorkerPool pool = metrics.bind(WorkerPool.builder(c, WorkMap.builder().put("Ok", j -> { }).put("Boom", j -> {
      throw new IllegalStateException("boom");
    }).build()).workers(2).queue("prom").name("prompool")).build();
    pool.start();
    try (QueueMetrics q = metrics.bindQueues(Statistics.create(c), Duration.ofHours(1))) {
      Await.until(Duration.ofSeconds(30), "both jobs worked", () -> pool.stats().jobsWorked() == 1
          && pool.stats().jobsFailed() == 1);
      q.refresh();
      String scrape = registry.scrape();
      assertSeries(scrape, "que_job_attempts_total", Map.of("queue", "prom", "job_class", "Ok", "outcome", "succeeded"), "1.0");
      assertSeries(scrape, "que_job_attempts_total", Map.of("queue", "prom", "job_class", "Boom", "outcome", "failed"), "1.0");
      assertSeries(scrape, "que_job_duration_seconds_count", Map.of("queue", "prom", "job_class", "Ok", "outcome", "succeeded"), "1");
      assertSeries(scrape, "que_job_duration_seconds_sum", Map.of("queue", "prom", "job_class", "Boom", "outcome", "failed"), null);
      assertSeries(scrape, "que_job_queue_wait_seconds_count", Map.of("queue", "prom", "job_class", "Ok"), "1");
      assertSeries(scrape, "que_job_enqueued_total", Map.of("queue", "prom", "job_class", "Later"), "1.0");
      assertSeries(scrape, "que_job_enqueued_total", Map.of("queue", defaultQueue(), "job_class", "Elsewhere"), "1.0");
      assertSeries(scrape, "que_queue_jobs", Map.of("queue", defaultQueue(), "state", "ready"), "1.0");
      assertSeries(scrape, "que_workers_busy", Map.of("pool", "prompool"), null);
      assertSeries(scrape, "que_workers_idle", Map.of("pool", "prompool"), null);
      // Later, and Boom waiting for its retry.
      assertSeries(scrape, "que_queue_jobs", Map.of("queue", "prom", "state", "scheduled"), "2.0");
      assertSeries(scrape, "que_queue_jobs", Map.of("queue", "prom", "state", "failing"), "1.0");
      assertSeries(scrape, "que_queue_jobs", Map.of("queue", "prom", "state", "ready"), null);
      assertSeries(scrape, "que_queue_oldest_ready_age_seconds", Map.of("queue", "prom"), null);
      assertSeries(scrape, "que_queue_stats_age_seconds", Map.of(), null);
      assertTrue(scrape.contains("# TYPE que_job_duration_seconds summary"), scrape);
      assertTrue(scrape.contains("# TYPE que_queue_jobs gauge"), scrape);
    } finally {
      pool.shutdown(Duration.ofSeconds(30));
    }
  }

  /** One line of the scrape is this series with exactly these labels (and this value when given). */
  private static void assertSeries(String scrape, String name, Map<String, String> labels, String value) {
    List<String> lines = Arrays.stream(scrape.split("\n"))
        .filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
        .filter(l -> labelCount(l) == labels.size())
        .filter(l -> labels.entrySet().stream().allMatch(e -> l.contains(e.getKey() + "=\"" + e.getValue() + "\"")))
        .toList();
    assertEquals(1, lines.size(), () -> name + labels + " in:\n" + scrape);
    if (value != null) {
      assertTrue(lines.get(0).endsWith(" " + value), lines.get(0));
    }
  }

  private static int labelCount(String line) {
    int open = line.indexOf('{');
    return open < 0 ? 0 : (int) line.substring(open, line.indexOf('}')).chars().filter(ch -> ch == '=').count();
  }
}
