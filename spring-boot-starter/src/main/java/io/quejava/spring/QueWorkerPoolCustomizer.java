package io.quejava.spring;

import io.quejava.WorkerPool;

/**
 * Adjusts the {@link WorkerPool.Builder} of the starter's pool after {@code que.worker.*} is applied
 * and before the pool is built: listeners, interceptors, extensions, a retry policy. Every bean of
 * this type is applied, in {@link org.springframework.core.annotation.Order} order.
 *
 * <pre>{@code
 * @Bean
 * QueWorkerPoolCustomizer deadLetters() {
 *   return pool -> pool.maxRetryCount(5).listener(event -> metrics.record(event));
 * }
 * }</pre>
 */
@FunctionalInterface
public interface QueWorkerPoolCustomizer {
  void customize(WorkerPool.Builder pool);
}
