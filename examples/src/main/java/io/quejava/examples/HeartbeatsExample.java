package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.LockedJob;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.ext.heartbeat.Heartbeats;
import io.quejava.ext.heartbeat.InFlight;
import io.quejava.ext.heartbeat.InFlightJob;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * What is running right now, and is any of it stuck? {@link Heartbeats} keeps one row per running
 * que-java job in {@code que_heartbeats} (worker, host, the session holding the lock, progress, last
 * beat); {@link InFlight#list} finds every job whose lock some session holds: que-java jobs from
 * their heartbeats, Ruby and Go jobs (and a job locked by hand, as here) from {@code pg_locks}.
 */
public final class HeartbeatsExample {
  static final String QUEUE = "examples-heartbeats";
  static final String BY_HAND = "examples-heartbeats-by-hand";

  record MonthlyReport(int year, int month) {}

  public static void main(String[] args) throws Exception {
    Examples.main(HeartbeatsExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    Heartbeats.install(dataSource);                          // que_heartbeats
    Examples.emptyQueue(dataSource, QUEUE);
    Examples.emptyQueue(dataSource, BY_HAND);
    Client client = Client.create(dataSource);

    CountDownLatch halfway = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    WorkMap work = WorkMap.builder()
        .put("Reports::Monthly", MonthlyReport.class, (report, job) -> {
          job.progress(40);                                  // written with the next beat
          halfway.countDown();
          if (!finish.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("never told to finish");
          }
          job.progress(100);
        })
        .build();
    Heartbeats beats = Heartbeats.builder(dataSource).interval(Duration.ofMillis(200)).build();   // default 5 s
    WorkerPool pool = WorkerPool.builder(client, work).queue(QUEUE).workers(1)
        .interceptor(beats).extension(beats)                // the same instance, both
        .build();

    Job report = client.enqueue(NewJob.of("Reports::Monthly", new MonthlyReport(2026, 11)).queue(QUEUE));
    Job other = client.enqueue(NewJob.of("Reports::Monthly", new MonthlyReport(2026, 10)).queue(BY_HAND));
    pool.start();
    boolean running = halfway.await(30, TimeUnit.SECONDS);

    Set<Long> ours = Set.of(report.id(), other.id());
    List<InFlightJob> seen;
    try (LockedJob byHand = client.lockJob(BY_HAND).orElseThrow()) {   // as a Ruby or Go worker holds a job: no heartbeat
      seen = Examples.poll(() -> inFlight(dataSource, ours),
          jobs -> jobs.size() == 2 && jobs.stream().anyMatch(j -> j.progress().equals(java.util.OptionalInt.of(40))),
          Duration.ofSeconds(10));
      for (InFlightJob j : seen) {
        out.println("in flight: job " + j.jobId() + " " + j.jobClass() + " from " + j.source() + ", lock held by backend "
            + j.backendPid() + (j.source() == InFlightJob.Source.HEARTBEAT
                ? ", worker " + j.workerName().orElse("?") + " on " + j.host().orElse("?") + " (pid "
                    + j.osPid().orElse(0) + "), progress " + j.progress().orElse(-1) + "%, last beat "
                    + j.lastBeat().map(Object::toString).orElse("?")
                : ", no heartbeat")
            + ", hung: " + j.hung());
      }
      byHand.delete();
    }
    finish.countDown();
    boolean clean = pool.shutdown(Duration.ofSeconds(10));
    List<InFlightJob> after = inFlight(dataSource, ours);
    out.println("after the jobs ended, in flight: " + after.size());

    return running && clean && pool.jobsWorked() == 1 && after.isEmpty() && seen.size() == 2
        && seen.stream().anyMatch(j -> j.jobId() == report.id() && j.source() == InFlightJob.Source.HEARTBEAT
            && j.progress().equals(java.util.OptionalInt.of(40)) && !j.hung())
        && seen.stream().anyMatch(j -> j.jobId() == other.id() && j.source() == InFlightJob.Source.ADVISORY_LOCK);
  }

  /** This example's jobs among those in flight (the list covers the whole database). */
  private static List<InFlightJob> inFlight(DataSource dataSource, Set<Long> ids) {
    return InFlight.list(dataSource).stream().filter(j -> ids.contains(j.jobId())).toList();
  }

  private HeartbeatsExample() {}
}
