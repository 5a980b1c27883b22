package io.quejava;

/** Every test of {@link EnqueueTest}, against schema 7: the table of Ruby Que 2.1+. */
class ModernEnqueueTest extends EnqueueTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
