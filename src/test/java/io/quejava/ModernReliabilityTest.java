package io.quejava;

/** Every test of {@link ReliabilityTest}, against schema 7: the table of Ruby Que 2.1+. */
class ModernReliabilityTest extends ReliabilityTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
