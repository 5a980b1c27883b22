package io.quejava.dashboard;

/** {@link DashboardHttpTest} on a schema 3 que_jobs (job_id, the four-column key, last_error). */
class ClassicDashboardHttpTest extends DashboardHttpTest {
  @Override
  int schemaVersion() {
    return 3;
  }
}
