package io.quejava.ext.schedule;

/** The schedule extension over schema 3 (Ruby Que 0.x, que-go). */
class ScheduleTest extends ScheduleTestBase {
  @Override
  int schemaVersion() {
    return 3;
  }
}
