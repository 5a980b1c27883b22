package io.quejava.spring;

import io.micrometer.core.instrument.MeterRegistry;
import io.quejava.Client;
import io.quejava.Statistics;
import io.quejava.metrics.QueMetrics;
import io.quejava.metrics.QueueMetrics;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * que-java's Micrometer meters ({@link QueMetrics}) on the application's {@link MeterRegistry}: the
 * enqueue counters on the starter's {@link Client}, the attempt meters and worker gauges on its
 * pool, and the queue gauges refreshed every {@code que.metrics.queues-interval}. Only when
 * micrometer-core is on the class path, a {@link MeterRegistry} bean exists (Spring Boot Actuator
 * defines one, or the application does) and {@code que.metrics.enabled} is not {@code false}.
 */
@AutoConfiguration(
    after = QueAutoConfiguration.class,
    afterName = {
      "org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration",
      "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration"})
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean({MeterRegistry.class, Client.class})
@ConditionalOnProperty(prefix = "que.metrics", name = "enabled", havingValue = "true", matchIfMissing = true)
public class QueMetricsAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean
  public QueMetrics queMetrics(MeterRegistry registry) {
    return QueMetrics.create(registry);
  }

  /** Counts the starter client's enqueues ({@code que.job.enqueued}, {@code que.job.enqueue.errors}). */
  @Bean
  public QueClientCustomizer queMetricsClientCustomizer(QueMetrics metrics) {
    return metrics::bind;
  }

  /** Attempts, run time, queue wait, busy and idle workers of the starter's pool. */
  @Bean
  public QueWorkerPoolCustomizer queMetricsPoolCustomizer(QueMetrics metrics) {
    return metrics::bind;
  }

  /** The queue gauges; closed (gauges removed, refreshes stopped) with the context. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  @ConditionalOnProperty(prefix = "que.metrics", name = "queues", havingValue = "true", matchIfMissing = true)
  public QueueMetrics queQueueMetrics(QueMetrics metrics, Client client, QueProperties properties) {
    return metrics.bindQueues(Statistics.create(client), properties.getMetrics().getQueuesInterval());
  }
}
