package io.quejava.ext.deadletter;

/** The deadletter extension on schema 3 (Ruby Que 0.x, que-go): dead jobs move to que_dead_jobs. */
class DeadLetterTest extends DeadLetterTestBase {
  @Override
  int schemaVersion() {
    return 3;
  }
}
