package io.quejava.ext.timeout;

/** The timeout tests on the modern table (schema 7, Ruby Que 2.x). */
class ModernTimeoutsTest extends TimeoutsTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
