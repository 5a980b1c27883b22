package io.quejava;

/** {@link JobAdminTest} on schema 7. */
class ModernJobAdminTest extends JobAdminTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }
}
