package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** What an enqueue listener hears, without Micrometer: every job inserted, every job that failed. */
class EnqueueListenerTest extends PgTest {
  private final List<String> heard = new CopyOnWriteArrayList<>();

  private Client listened() {
    return Client.builder(ds)
        .enqueueListener(new EnqueueListener() {
          @Override
          public void enqueued(Job job) {
            heard.add("ok " + job.jobClass() + "@" + job.queue() + "#" + job.id());
          }

          @Override
          public void enqueueFailed(String jobClass, String queue, RuntimeException error) {
            heard.add("failed " + jobClass + "@" + queue + " " + error.getClass().getSimpleName());
          }
        })
        .enqueueListener(j -> {
          throw new IllegalStateException("a broken listener changes nothing");
        })
        .build();
  }

  @Test
  void everyInsertAndEveryFailureIsHeardOncePerJob() throws SQLException {
    heard.clear();
    Client c = listened();
    Job a = c.enqueue("A");
    List<Job> batch = c.enqueueAll(List.of(NewJob.of("B").queue("q"), NewJob.of("C")));
    try (Connection conn = ds.getConnection()) {
      conn.setAutoCommit(false);
      try (Statement st = conn.createStatement()) {
        assertThrows(SQLException.class, () -> st.execute("SELECT 1/0"));
      }
      assertThrows(QueException.class, () -> c.enqueueAll(conn, List.of(NewJob.of("D"), NewJob.of("E").queue("q"))));
      conn.rollback();
    }
    assertThrows(IllegalArgumentException.class, () -> c.enqueue(NewJob.of("F").priority(100_000)),
        "bad args are the caller's, not an enqueue failure");
    assertEquals(List.of(
        "ok A@" + defaultQueue() + "#" + a.id(),
        "ok B@q#" + batch.get(0).id(),
        "ok C@" + defaultQueue() + "#" + batch.get(1).id(),
        "failed D@" + defaultQueue() + " QueException",
        "failed E@q QueException"), heard);
    assertEquals(3, jobCount(), "the broken listener stopped nothing");
  }

  /** A batch large enough to be written by COPY is heard job by job too, with the ids stored. */
  @Test
  void aCopiedBatchIsHeardOncePerJobWithItsId() throws SQLException {
    heard.clear();
    Client c = listened();
    List<NewJob> jobs = new java.util.ArrayList<>();
    for (int i = 0; i < 150; i++) {
      jobs.add(NewJob.of("Copied" + i));
    }
    List<Job> batch = c.enqueueAll(jobs);
    List<String> expected = new java.util.ArrayList<>();
    for (int i = 0; i < 150; i++) {
      expected.add("ok Copied" + i + "@" + defaultQueue() + "#" + batch.get(i).id());
      assertEquals("Copied" + i, one("SELECT job_class FROM que_jobs WHERE " + idColumn() + " = ?", batch.get(i).id()));
    }
    assertEquals(expected, heard);
  }
}
