package io.quejava.examples;

import io.quejava.Client;
import io.quejava.JobEvent;
import io.quejava.JobListener;
import io.quejava.JobOutcome;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * Batched completion: many small, idempotent jobs (here: counting page views), where one commit
 * per job is the cost that matters. With {@code batchedCompletion(50, 20 ms)} each worker deletes
 * its succeeded jobs up to 50 at a time in one statement and one commit, then unlocks them. The
 * price: a crash re-runs at most the succeeded jobs still waiting for that delete (at most 50 per
 * worker), so the handler must be idempotent. Here it is: it records each page view under the
 * job's id, and a second run of the same job changes nothing.
 */
public final class BatchedCompletionExample {
  static final String QUEUE = "examples-batched";

  record PageView(String page) {}

  public static void main(String[] args) throws Exception {
    Examples.main(BatchedCompletionExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    Examples.emptyQueue(dataSource, QUEUE);
    try (Connection c = dataSource.getConnection(); var st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS example_page_views (job_id bigint PRIMARY KEY, page text NOT NULL)");
      st.execute("TRUNCATE example_page_views");
    }
    Client client = Client.create(dataSource);
    int n = 500;
    List<NewJob> views = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      views.add(NewJob.of("CountView", new PageView("/page/" + (i % 7))).queue(QUEUE));
    }
    client.enqueueAll(views);
    out.println("enqueued " + n + " page views");

    WorkMap work = WorkMap.builder()
        .put("CountView", PageView.class, (view, job) -> {
          // Idempotent: keyed by the job's id, so a re-run after a crash adds nothing.
          try (PreparedStatement ps = job.connection().prepareStatement(
              "INSERT INTO example_page_views (job_id, page) VALUES (?, ?) ON CONFLICT (job_id) DO NOTHING")) {
            ps.setLong(1, job.id());
            ps.setString(2, view.page());
            ps.executeUpdate();
          }
        })
        .build();
    LongAdder succeeded = new LongAdder();
    CountDownLatch allDone = new CountDownLatch(n);
    AtomicInteger rowsLeftAtAnEvent = new AtomicInteger();
    JobListener listener = new JobListener() {
      @Override
      public void jobEnded(JobEvent e) {
        // Heard after the batched delete committed: the job's row is gone already.
        if (e.outcome() == JobOutcome.SUCCEEDED) {
          succeeded.increment();
          if (e.jobId() % 100 == 0 && rowExists(dataSource, e.jobId())) {
            rowsLeftAtAnEvent.incrementAndGet();
          }
        }
        allDone.countDown();
      }
    };
    WorkerPool pool = WorkerPool.builder(client, work).queue(QUEUE).workers(2)
        .batchedCompletion(50, Duration.ofMillis(20))
        .listener(listener)
        .build();
    pool.start();
    boolean ended = allDone.await(60, TimeUnit.SECONDS);
    boolean clean = pool.shutdown(Duration.ofSeconds(10));

    long counted;
    long left;
    try (Connection c = dataSource.getConnection();
        PreparedStatement views2 = c.prepareStatement("SELECT count(*) FROM example_page_views");
        PreparedStatement jobs = c.prepareStatement("SELECT count(*) FROM que_jobs WHERE queue = ?")) {
      counted = single(views2);
      jobs.setString(1, QUEUE);
      left = single(jobs);
    }
    out.println("page views counted: " + counted + "; jobs succeeded: " + succeeded.sum() + "; jobs left: " + left
        + "; a job's row still there when its SUCCEEDED was heard: " + rowsLeftAtAnEvent.get());
    return ended && clean && counted == n && succeeded.sum() == n && left == 0 && rowsLeftAtAnEvent.get() == 0;
  }

  private static boolean rowExists(DataSource ds, long id) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM que_jobs WHERE job_id = ?")) {
      ps.setLong(1, id);
      return single(ps) > 0;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long single(PreparedStatement ps) throws java.sql.SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private BatchedCompletionExample() {}
}
