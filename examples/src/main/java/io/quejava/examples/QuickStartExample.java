package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * Migrate, enqueue three jobs (one fails once and is retried after Que's backoff), work them with a
 * WorkerPool, print what happened, exit 0.
 *
 * <p>Uses {@code DATABASE_URL} ({@code postgres://user:pw@host:port/db}) when set, else starts an
 * embedded PostgreSQL. Run it with {@code mvn -q test-compile exec:java@example}.
 */
public final class QuickStartExample {
  /** A job's args as a record: its components are the positional args Ruby and Go read. */
  record ChargeCard(long orderId, String currency) {}

  record WelcomeEmail(String address) {}

  public static void main(String[] args) throws Exception {
    Examples.main(QuickStartExample::run);
  }

  /** The whole example on any database; returns true when every job ended as expected. */
  public static boolean run(DataSource dataSource, PrintStream out) throws InterruptedException {
    int version = Migrator.create(dataSource).migrate();
    out.println("que_jobs is at schema version " + version);

    Client client = Client.create(dataSource);
    CountDownLatch done = new CountDownLatch(3);
    WorkMap workMap = WorkMap.builder()
        .put("SendWelcomeEmail", WelcomeEmail.class, (email, job) -> {
          out.println("  sending a welcome email to " + email.address() + " (job " + job.id() + ")");
          done.countDown();
        })
        .put("Billing::ChargeCard", ChargeCard.class, (charge, job) -> {
          if (job.errorCount() == 0) {
            out.println("  charging " + charge.currency() + " for order " + charge.orderId() + ": the gateway times out, will retry");
            throw new IllegalStateException("payment gateway timed out");
          }
          out.println("  charging " + charge.currency() + " for order " + charge.orderId() + ": ok on attempt "
              + (job.errorCount() + 1));
          done.countDown();
        })
        .build();

    List<Job> jobs = client.enqueueAll(List.of(
        NewJob.of("SendWelcomeEmail", new WelcomeEmail("ada@example.com")),
        NewJob.of("SendWelcomeEmail", new WelcomeEmail("grace@example.com")).priority(10),
        NewJob.of("Billing::ChargeCard", new ChargeCard(1042, "EUR"))));   // stored as [1042, "EUR"]
    for (Job j : jobs) {
      out.println("enqueued " + j.jobClass() + " " + j.argsJson() + " as job " + j.id() + " (queue '" + j.queue()
          + "', priority " + j.priority() + ")");
    }

    WorkerPool pool = WorkerPool.builder(client, workMap)
        .workers(2)
        .wakeInterval(Duration.ofMillis(250))
        .build();
    pool.start();
    out.println("worker pool started; the failed charge is retried after 1^4 + 3 = 4 seconds");
    boolean finished = done.await(60, TimeUnit.SECONDS);
    boolean clean = pool.shutdown(Duration.ofSeconds(10));
    out.println("done: " + pool.jobsWorked() + " jobs worked, " + pool.jobsFailed() + " failure(s) retried"
        + (finished && clean ? "" : " -- NOT everything finished"));
    return finished && clean && pool.jobsWorked() == 3 && pool.jobsFailed() == 1;
  }

  private QuickStartExample() {}
}
