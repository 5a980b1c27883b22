package io.quejava;

/** {@link StatisticsTest} on schema 7 (Ruby Que 2.x): finished and expired rows, dead letters as expired. */
class ModernStatisticsTest extends StatisticsTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
