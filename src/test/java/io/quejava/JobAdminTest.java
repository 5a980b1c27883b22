package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Operators' reads and writes on schema 3 (and, through {@link ModernJobAdminTest}, 7). */
class JobAdminTest extends PgTest {

  @Test
  void retryAndDeleteLockEachJobFirstAndSkipOnesASessionHolds() throws Exception {
    long free = insertRaw("queue, job_class, run_at, error_count", "'q', 'A', now() + interval '1 hour', 3");
    long held = insertRaw("queue, job_class, run_at, error_count", "'q', 'A', now() + interval '1 hour', 3");
    JobAdmin admin = JobAdmin.create(client);
    try (Connection worker = ds.getConnection(); PreparedStatement ps = worker.prepareStatement("SELECT pg_advisory_lock(?)")) {
      ps.setLong(1, held);
      ps.execute();
      AdminResult r = admin.retry(List.of(free, held, 42L));
      assertEquals(List.of(free), r.done());
      assertEquals(List.of(held), r.held());
      assertEquals(List.of(42L), r.missing());
      assertEquals(JobSnapshot.State.READY, admin.find(free).orElseThrow().state());
      assertEquals(JobSnapshot.State.RUNNING, admin.find(held).orElseThrow().state());
      assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE run_at > now()"), "the held job is untouched");
      AdminResult d = admin.delete(List.of(free, held));
      assertEquals(List.of(free), d.done());
      assertEquals(List.of(held), d.held());
      assertEquals(1, advisoryLocksOn(List.of(free, held)), "the writes released every lock they took");
    }
    // the worker's session ends a moment after its connection closes
    io.quejava.testing.Await.until(java.time.Duration.ofSeconds(10), "the worker's lock to go", () -> {
      try {
        return advisoryLocksOn(List.of(held)) == 0;
      } catch (java.sql.SQLException e) {
        throw new IllegalStateException(e);
      }
    });
    assertEquals(List.of(held), admin.delete(List.of(held)).done());
    assertEquals(0, jobCount());
  }

  @Test
  void listFiltersAndOrdersInLockOrder() throws Exception {
    long a = insertRaw("queue, job_class, priority", "'q', 'A', 10");
    long b = insertRaw("queue, job_class, priority, error_count, " + lastErrorColumn(), "'q', 'B', 5, 1, 'Net::ReadTimeout'");
    insertRaw("queue, job_class", "'other', 'A'");
    JobAdmin admin = JobAdmin.create(client);
    List<JobSnapshot> q = admin.list(JobQuery.all().queue("q"));
    assertEquals(List.of(b, a), q.stream().map(JobSnapshot::id).toList());
    assertEquals(List.of(b), admin.list(JobQuery.all().state("failing")).stream().map(JobSnapshot::id).toList());
    assertEquals(List.of(b), admin.list(JobQuery.all().errorContains("readtimeout")).stream().map(JobSnapshot::id).toList());
    assertEquals(2, admin.list(JobQuery.all().jobClass("A")).size());
    assertEquals(1, admin.list(JobQuery.all().limit(1)).size());
    assertTrue(admin.find(-1).isEmpty());
    assertThrows(IllegalArgumentException.class, () -> JobQuery.all().state("sleepy"));
    assertThrows(IllegalArgumentException.class, () -> JobQuery.all().limit(0));
  }

  @Test
  void onModernSchemasRetryBringsAnExpiredJobBackAndLeavesAFinishedOne() throws Exception {
    if (!modern()) {
      return;
    }
    long expired = insertRaw("queue, job_class, expired_at, error_count", "'q', 'A', now(), 16");
    long finished = insertRaw("queue, job_class, finished_at", "'q', 'A', now()");
    JobAdmin admin = JobAdmin.create(client);
    assertEquals(List.of(expired), admin.list(JobQuery.all().state("expired")).stream().map(JobSnapshot::id).toList());
    AdminResult r = admin.retry(List.of(expired, finished));
    assertEquals(List.of(expired), r.done());
    assertEquals(List.of(finished), r.missing());
    assertEquals(JobSnapshot.State.READY, admin.find(expired).orElseThrow().state());
    assertEquals(JobSnapshot.State.FINISHED, admin.find(finished).orElseThrow().state());
  }
}
