package io.quejava.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Micrometer is optional: no class of the core outside io.quejava.metrics names it, so the JVM
 * never needs it unless the application binds the meters.
 */
class OptionalMicrometerTest {
  @Test
  void onlyTheMetricsPackageReferencesMicrometer() throws Exception {
    Path classes = Path.of(Client.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    assertTrue(Files.isDirectory(classes.resolve("io/quejava/metrics")), classes.toString());
    List<String> offenders;
    int checked;
    try (Stream<Path> all = Files.walk(classes)) {
      List<Path> files = all.filter(p -> p.toString().endsWith(".class")).toList();
      checked = files.size();
      offenders = files.stream()
          .filter(p -> !classes.relativize(p).toString().replace('\\', '/').startsWith("io/quejava/metrics/"))
          .filter(p -> !p.getFileName().toString().equals("module-info.class"))
          .filter(OptionalMicrometerTest::namesMicrometer)
          .map(p -> classes.relativize(p).toString())
          .toList();
    }
    assertTrue(checked > 50, "only " + checked + " classes");
    assertEquals(List.of(), offenders);
    assertTrue(namesMicrometer(classes.resolve("io/quejava/metrics/QueMetrics.class")), "the check sees references");
  }

  private static boolean namesMicrometer(Path classFile) {
    try {
      return new String(Files.readAllBytes(classFile), StandardCharsets.ISO_8859_1).contains("io/micrometer/");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
