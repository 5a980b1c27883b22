package io.quejava;

/** Every test of {@link WorkerTest}, against schema 7: the table of Ruby Que 2.1+. */
class ModernWorkerTest extends WorkerTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
