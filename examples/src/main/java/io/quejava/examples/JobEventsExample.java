package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.JobEvent;
import io.quejava.JobListener;
import io.quejava.JobOutcome;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * A {@link JobListener} hears every attempt: when it starts and how it ended (succeeded, failed,
 * ...), with its run time and how long the job waited in the queue. It runs on the worker's thread,
 * so it only counts and prints; metrics would be built the same way.
 */
public final class JobEventsExample {
  static final String QUEUE = "examples-events";

  record ResizeImage(String path, int width) {}

  public static void main(String[] args) throws Exception {
    Examples.main(JobEventsExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    Examples.emptyQueue(dataSource, QUEUE);
    Client client = Client.create(dataSource);
    List<Job> jobs = client.enqueueAll(List.of(
        NewJob.of("ResizeImage", new ResizeImage("cat.png", 640)).queue(QUEUE),
        NewJob.of("ResizeImage", new ResizeImage("dog.png", 320)).queue(QUEUE),
        NewJob.of("ResizeImage", new ResizeImage("broken.png", 640)).queue(QUEUE),
        NewJob.of("ResizeImage", new ResizeImage("bird.png", 1280)).queue(QUEUE)));
    out.println("enqueued " + jobs.size() + " jobs");

    Map<JobOutcome, LongAdder> outcomes = new EnumMap<>(JobOutcome.class);
    for (JobOutcome o : JobOutcome.values()) {
      outcomes.put(o, new LongAdder());               // filled in now, so worker threads only increment
    }
    LongAdder started = new LongAdder();
    CountDownLatch ended = new CountDownLatch(jobs.size());
    JobListener listener = new JobListener() {
      @Override
      public void jobStarted(JobEvent.Start start) {
        started.increment();
      }

      @Override
      public void jobEnded(JobEvent e) {
        outcomes.get(e.outcome()).increment();
        out.println("  job " + e.jobId() + " " + e.jobClass() + " attempt " + e.attempt() + ": " + e.outcome()
            + ", ran " + e.runTime().toMillis() + " ms after " + e.queueWait().toMillis() + " ms in the queue"
            + e.error().map(t -> " (" + t + ")").orElse("") + " on " + e.workerName());
        ended.countDown();
      }
    };

    WorkMap work = WorkMap.builder()
        .put("ResizeImage", ResizeImage.class, (image, job) -> {
          if (image.path().startsWith("broken")) {
            throw new IOException("not an image: " + image.path());
          }
        })
        .build();
    WorkerPool pool = WorkerPool.builder(client, work).queue(QUEUE).workers(2).listener(listener).build();
    pool.start();
    boolean allEnded = ended.await(30, TimeUnit.SECONDS);
    boolean clean = pool.shutdown(Duration.ofSeconds(10));

    out.println("attempts started: " + started.sum() + "; outcomes: " + outcomes);
    return allEnded && clean && started.sum() == 4 && outcomes.get(JobOutcome.SUCCEEDED).sum() == 3
        && outcomes.get(JobOutcome.FAILED).sum() == 1;
  }

  private JobEventsExample() {}
}
