package io.quejava;

/** The retry policy tests on the modern table (schema 7, Ruby Que 2.x). */
class ModernRetryPolicyWorkerTest extends RetryPolicyWorkerTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
