package io.quejava.spring;

import io.quejava.Client;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The {@code que} health indicator ({@link QueHealthIndicator}), when Spring Boot Actuator is on the
 * class path and {@code management.health.que.enabled} is not {@code false}.
 */
@AutoConfiguration(after = QueAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(Client.class)
@ConditionalOnEnabledHealthIndicator("que")
public class QueHealthAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(name = "queHealthIndicator")
  public QueHealthIndicator queHealthIndicator(Client client, QueProperties properties,
      ObjectProvider<QueWorkerLifecycle> lifecycle) {
    return new QueHealthIndicator(client, lifecycle.getIfAvailable(),
        properties.getWorker().getExtensions().isHeartbeats());
  }
}
