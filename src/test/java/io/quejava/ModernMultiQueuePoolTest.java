package io.quejava;

/** Every test of {@link MultiQueuePoolTest}, against schema 7. */
class ModernMultiQueuePoolTest extends MultiQueuePoolTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
