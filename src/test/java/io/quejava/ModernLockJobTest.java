package io.quejava;

/** Every test of {@link LockJobTest}, against schema 7: the table of Ruby Que 2.1+. */
class ModernLockJobTest extends LockJobTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
