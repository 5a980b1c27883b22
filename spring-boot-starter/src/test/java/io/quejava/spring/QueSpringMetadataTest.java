package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The jar carries its registration and the generated property metadata (IDE completion). */
class QueSpringMetadataTest {
  private static String resource(String name) throws Exception {
    try (InputStream in = QueSpringMetadataTest.class.getClassLoader().getResourceAsStream(name)) {
      assertNotNull(in, name);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void autoConfigurationIsRegistered() throws Exception {
    String imports = resource("META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports");
    for (Class<?> c : List.of(QueAutoConfiguration.class, QueMetricsAutoConfiguration.class, QueHealthAutoConfiguration.class,
        QueDashboardAutoConfiguration.class)) {
      assertTrue(imports.lines().anyMatch(l -> l.trim().equals(c.getName())), c.getName());
    }
  }

  @Test
  void configurationMetadataNamesEveryProperty() throws Exception {
    String json = resource("META-INF/spring-configuration-metadata.json");
    for (String p : List.of("que.enabled", "que.migrate", "que.worker.enabled", "que.worker.queues",
        "que.worker.workers", "que.worker.wake-interval", "que.worker.shutdown-timeout", "que.worker.name",
        "que.migrate-extensions", "que.worker.extensions.notify", "que.worker.extensions.heartbeats",
        "que.worker.extensions.heartbeat-interval", "que.worker.extensions.timeout",
        "que.worker.extensions.dead-letter-max-attempts", "que.worker.extensions.schedules",
        "que.worker.batched-completion.max-jobs", "que.worker.batched-completion.max-delay",
        "que.metrics.enabled", "que.metrics.queues", "que.metrics.queues-interval", "management.health.que.enabled",
        "que.dashboard.enabled", "que.dashboard.path", "que.dashboard.read-only", "que.dashboard.insecure",
        "que.dashboard.refresh-seconds", "que.dashboard.basic-auth.username", "que.dashboard.basic-auth.password")) {
      assertTrue(json.contains("\"name\": \"" + p + "\""), p);
    }
  }
}
