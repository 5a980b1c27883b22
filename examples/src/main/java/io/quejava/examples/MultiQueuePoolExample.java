package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.ext.notify.NotifyWakeups;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * One pool serves two queues, as {@code que -q default -q mailers} does in Ruby: every worker
 * serves both, trying the first queue first, and the mailers queue never gets more than one of
 * the three workers. The notify extension wakes the idle pool the moment a job arrives in either
 * queue (one listening connection for both), instead of at its next poll a minute later.
 */
public final class MultiQueuePoolExample {
  static final String REPORTS = "examples-reports";
  static final String MAILERS = "examples-mailers";

  record BuildReport(String name) {}

  record SendMail(String to) {}

  public static void main(String[] args) throws Exception {
    Examples.main(MultiQueuePoolExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    Examples.emptyQueue(dataSource, REPORTS);
    Examples.emptyQueue(dataSource, MAILERS);
    NotifyWakeups.install(dataSource);                       // the trigger; idempotent
    Client client = Client.create(dataSource);

    AtomicInteger mailersNow = new AtomicInteger();
    AtomicInteger mailersMax = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(8);
    List<String> log = new ArrayList<>();
    WorkMap work = WorkMap.builder()
        .put("BuildReport", BuildReport.class, (report, job) -> {
          synchronized (log) {
            log.add("report " + report.name());
          }
          done.countDown();
        })
        .put("SendMail", SendMail.class, (mail, job) -> {
          mailersMax.accumulateAndGet(mailersNow.incrementAndGet(), Math::max);
          try {
            synchronized (log) {
              log.add("mail to " + mail.to());
            }
          } finally {
            mailersNow.decrementAndGet();
            done.countDown();
          }
        })
        .build();

    NotifyWakeups wakeups = NotifyWakeups.create(dataSource);
    WorkerPool pool = WorkerPool.builder(client, work)
        .workers(3)
        .queue(REPORTS)                                        // tried first
        .queue(MAILERS, 1)                                     // at most 1 worker at a time
        .wakeInterval(Duration.ofMinutes(1))                   // polling is only the fallback here
        .extension(wakeups)
        .build();
    pool.start();
    Examples.poll(() -> wakeups.isListening() && wakeups.isAsking(), ok -> ok, Duration.ofSeconds(10));
    out.println("pool on " + pool.queues() + " (mailers at most " + pool.maxWorkers(MAILERS).getAsInt()
        + " worker), listening and idle");

    long t0 = System.nanoTime();
    for (int i = 1; i <= 4; i++) {
      client.enqueue(NewJob.of("SendMail", new SendMail("user" + i + "@example.com")).queue(MAILERS));
      client.enqueue(NewJob.of("BuildReport", new BuildReport("weekly-" + i)).queue(REPORTS));
    }
    boolean finished = done.await(30, TimeUnit.SECONDS);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    boolean clean = pool.shutdown(Duration.ofSeconds(10));
    synchronized (log) {
      log.forEach(line -> out.println("  " + line));
    }
    out.println("8 jobs in two queues done in " + ms + " ms (the pool polls only once a minute);"
        + " most mailers at once: " + mailersMax.get());
    return finished && clean && ms < 30_000 && mailersMax.get() == 1 && pool.jobsWorked() == 8;
  }

  private MultiQueuePoolExample() {}
}
