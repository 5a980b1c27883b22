package io.quejava.dashboard;

/** {@link JobsSqlTest} on schema 3. */
class ClassicJobsSqlTest extends JobsSqlTest {
  @Override
  int schemaVersion() {
    return 3;
  }
}
