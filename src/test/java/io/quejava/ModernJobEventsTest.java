package io.quejava;

/** Every test of {@link JobEventsTest}, against schema 7. */
class ModernJobEventsTest extends JobEventsTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
