package io.quejava.metrics;

/** Every test of {@link MetricsTest}, against schema 7. */
class ModernMetricsTest extends MetricsTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
