package io.quejava.spring;

import io.quejava.Client;

/**
 * Adjusts the {@link Client.Builder} of the starter's {@link Client} before it is built: an
 * {@link io.quejava.EnqueueListener}, the Jackson {@code ObjectMapper}, the job schema version. Every
 * bean of this type is applied, in {@link org.springframework.core.annotation.Order} order. The
 * metrics auto-configuration uses one to count enqueues.
 *
 * <pre>{@code
 * @Bean
 * QueClientCustomizer queObjectMapper(ObjectMapper mapper) {
 *   return client -> client.objectMapper(mapper);
 * }
 * }</pre>
 */
@FunctionalInterface
public interface QueClientCustomizer {
  void customize(Client.Builder client);
}
