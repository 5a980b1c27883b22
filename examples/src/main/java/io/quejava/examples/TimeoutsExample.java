package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.ext.timeout.Timeouts;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * A time limit for a job class: the {@link Timeouts} interceptor cancels an attempt that runs past
 * it (a flag and an interrupt) and, when the handler has returned or thrown, fails the attempt with
 * a {@code JobTimeoutException}, recorded and retried like any failure. Cancellation is cooperative:
 * the slow handler here stops because its blocking call answers the interrupt.
 */
public final class TimeoutsExample {
  static final String QUEUE = "examples-timeouts";

  record ExportReport(String name, int pages) {}

  public static void main(String[] args) throws Exception {
    Examples.main(TimeoutsExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    Examples.emptyQueue(dataSource, QUEUE);
    Client client = Client.create(dataSource);

    WorkMap work = WorkMap.builder()
        .put("Reports::Export", ExportReport.class, (report, job) -> {
          for (int page = 1; page <= report.pages(); page++) {
            Thread.sleep(100);                               // stands for 100 ms of real work per page
          }
          out.println("  exported " + report.name() + ": " + report.pages() + " pages");
        })
        .build();
    Timeouts timeouts = Timeouts.builder()
        .forClass("Reports::Export", Duration.ofSeconds(1))
        .perJob(false)                                       // no per-job timeouts: no table to install
        .build();
    CountDownLatch ended = new CountDownLatch(2);
    WorkerPool pool = WorkerPool.builder(client, work).queue(QUEUE).workers(2)
        .interceptor(timeouts)
        .listener(e -> {
          out.println("  job " + e.jobId() + " " + e.outcome() + " after " + e.runTime().toMillis() + " ms");
          ended.countDown();
        })
        .build();

    Job weekly = client.enqueue(NewJob.of("Reports::Export", new ExportReport("weekly", 3)).queue(QUEUE));
    Job allTime = client.enqueue(NewJob.of("Reports::Export", new ExportReport("all-time", 600)).queue(QUEUE));
    out.println("enqueued job " + weekly.id() + " (3 pages, 0.3 s) and job " + allTime.id()
        + " (600 pages, 60 s); Reports::Export may run for 1 s");
    pool.start();
    boolean bothEnded = ended.await(30, TimeUnit.SECONDS);
    boolean clean = pool.shutdown(Duration.ofSeconds(10));

    boolean weeklyGone = Examples.jobRow(client, weekly.id()).isEmpty();
    Examples.JobRow row = Examples.jobRow(client, allTime.id()).orElseThrow();
    out.println("job " + weekly.id() + " deleted: " + weeklyGone);
    out.println("job " + allTime.id() + ": " + row.errorCount() + " error(s), runs again in " + row.runsInSeconds()
        + " s; last error: " + row.lastError());
    return bothEnded && clean && weeklyGone && row.errorCount() == 1
        && row.lastError().startsWith("io.quejava.ext.timeout.JobTimeoutException");
  }

  private TimeoutsExample() {}
}
