package io.quejava.ext.notify;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/**
 * Enqueue-to-start latency with NOTIFY wake-ups against plain polling: a program, not a test.
 * Jobs arrive one at a time at random moments (exponential gaps, mean 50 ms); latency is from the
 * moment {@code enqueue} is called to the moment the handler starts, both read on this JVM's
 * monotonic clock. Prints p50/p95/p99/max per mode.
 *
 * <pre>
 * QUE_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:55432/postgres \
 *   mvn -o -q test-compile exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=io.quejava.ext.notify.NotifyLatencyBench [-Dexec.args="200 4"]
 * </pre>
 */
public final class NotifyLatencyBench {
  private NotifyLatencyBench() {}

  /** Args: jobs per mode (default 200), workers (default 4). */
  public static void main(String[] args) throws Exception {
    int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int workers = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    DataSource ds = TestDatabase.newSchema("notify_bench");
    Migrator.create(ds).migrate();
    NotifyWakeups.install(ds);
    Client client = Client.create(ds);
    System.out.printf("enqueue-to-start latency, %d jobs per mode, %d workers, mean gap 50 ms%n", jobs, workers);
    System.out.printf("%-28s %8s %8s %8s %8s%n", "mode", "p50 ms", "p95 ms", "p99 ms", "max ms");
    run("NOTIFY (wake interval 5 s)", client, ds, jobs, workers, Duration.ofSeconds(5), true);
    run("polling, wake interval 1 s", client, ds, jobs, workers, Duration.ofSeconds(1), false);
    run("polling, wake interval 5 s", client, ds, jobs, workers, Duration.ofSeconds(5), false);
    System.exit(0);
  }

  static void run(String mode, Client client, DataSource ds, int jobs, int workers, Duration wake, boolean notify)
      throws Exception {
    String queue = "bench_" + (notify ? "notify_" : "poll_") + wake.toMillis();
    Map<Long, Long> started = new ConcurrentHashMap<>();
    CountDownLatch all = new CountDownLatch(jobs);
    WorkMap work = WorkMap.of("Bench", job -> {
      started.put(job.job().id(), System.nanoTime());
      all.countDown();
    });
    WorkerPool.Builder b = WorkerPool.builder(client, work).workers(workers).queue(queue).wakeInterval(wake);
    NotifyWakeups ext = null;
    if (notify) {
      ext = NotifyWakeups.create(ds);
      b.extension(ext);
    }
    WorkerPool pool = b.build();
    pool.start();
    Random random = new Random(42);
    // Let the workers make their first walk and fall asleep before measuring.
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
    Map<Long, Long> enqueued = new ConcurrentHashMap<>();
    Map<Long, Long> committed = new ConcurrentHashMap<>();
    for (int i = 0; i < jobs; i++) {
      long gap = (long) (-Math.log(1 - random.nextDouble()) * 50_000_000L);
      LockSupport.parkNanos(gap);
      long t0 = System.nanoTime();
      long id = client.enqueue(NewJob.of("Bench").queue(queue)).id();
      committed.put(id, System.nanoTime());
      enqueued.put(id, t0);
    }
    if (!all.await(wake.toSeconds() * 3 + 30, TimeUnit.SECONDS)) {
      System.out.println(mode + ": not every job ran");
    }
    pool.shutdown(Duration.ofSeconds(10));
    double[] ms = new double[jobs];
    double[] fromCommit = new double[jobs];
    List<Long> ids = new ArrayList<>(enqueued.keySet());
    for (int i = 0; i < ids.size(); i++) {
      Long s = started.get(ids.get(i));
      ms[i] = s == null ? Double.NaN : (s - enqueued.get(ids.get(i))) / 1e6;
      fromCommit[i] = s == null ? Double.NaN : (s - committed.get(ids.get(i))) / 1e6;
    }
    Arrays.sort(ms);
    Arrays.sort(fromCommit);
    System.out.printf("%-28s %8.1f %8.1f %8.1f %8.1f   from commit: p50 %.1f p95 %.1f%s%n", mode, pct(ms, 50), pct(ms, 95),
        pct(ms, 99), ms[ms.length - 1], pct(fromCommit, 50), pct(fromCommit, 95),
        ext != null ? "   (notifications " + ext.notificationsReceived() + ", wake-ups " + ext.wakeups() + ")" : "");
  }

  static double pct(double[] sorted, int p) {
    int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
