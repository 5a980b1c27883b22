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
    assertTrue(imports.lines().anyMatch(l -> l.trim().equals(QueAutoConfiguration.class.getName())));
  }

  @Test
  void configurationMetadataNamesEveryProperty() throws Exception {
    String json = resource("META-INF/spring-configuration-metadata.json");
    for (String p : List.of("que.enabled", "que.migrate", "que.worker.enabled", "que.worker.queues",
        "que.worker.workers", "que.worker.wake-interval", "que.worker.shutdown-timeout", "que.worker.name")) {
      assertTrue(json.contains("\"name\": \"" + p + "\""), p);
    }
  }
}
