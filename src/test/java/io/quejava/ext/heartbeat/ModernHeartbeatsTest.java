package io.quejava.ext.heartbeat;

/** The heartbeat tests on the modern table (schema 7, Ruby Que 2.x), whose id column is {@code id}. */
class ModernHeartbeatsTest extends HeartbeatsTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
