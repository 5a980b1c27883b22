package io.quejava.cli;

/** {@link CliTest} on schema 7 (Ruby Que 2.x). */
class ModernCliTest extends CliTest {
  @Override
  int schemaVersion() {
    return 7;
  }
}
