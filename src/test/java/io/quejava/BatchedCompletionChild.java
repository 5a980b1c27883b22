package io.quejava;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The worker process {@link BatchedCompletionTest} kills with SIGKILL: a pool of two workers with
 * batched completion (10 jobs, 10 s) whose handler records each run in {@code job_runs} (autocommit,
 * on the job's connection: committed at once, like any side effect) and, for the job named by {@code QUE_CHILD_HANG_ID},
 * then blocks until the process dies, so the jobs that succeeded before it in its worker's batch
 * are still waiting for their delete when the kill comes.
 */
public final class BatchedCompletionChild {
  private BatchedCompletionChild() {}

  public static void main(String[] args) throws Exception {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(System.getenv("QUE_CHILD_URL"));
    ds.setUser(System.getenv("QUE_CHILD_USER"));
    ds.setPassword(System.getenv("QUE_CHILD_PASSWORD"));
    ds.setCurrentSchema(System.getenv("QUE_CHILD_SCHEMA"));
    long hangId = Long.parseLong(System.getenv("QUE_CHILD_HANG_ID"));
    Client client = Client.create(ds);
    CountDownLatch never = new CountDownLatch(1);
    WorkMap map = WorkMap.of("Rec", job -> {
      // On the job's own connection in autocommit: committed at once, as a side effect is.
      Connection c = job.connection();
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO job_runs (job_id) VALUES (?)")) {
        ps.setLong(1, job.id());
        ps.executeUpdate();
      }
      if (job.id() == hangId) {
        never.await();
      }
    });
    WorkerPool pool = WorkerPool.builder(client, map).workers(2).queue(client.defaultQueue())
        .batchedCompletion(10, Duration.ofSeconds(10)).build();
    pool.start();
    System.out.println("started");
    never.await();
  }
}
