package io.quejava.bench;

import io.quejava.Client;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * que-java's side of a drain: a {@link WorkerPool} with no-op handlers, timed from the start of the
 * first handler to the return of the handler that completes the count (the same clock the Go peer's
 * bench-work keeps). {@code BenchLatency} jobs also record enqueue-to-start latency from their
 * first arg (microseconds since the epoch, taken just before enqueue).
 */
final class JavaDrain {
  static final String NOOP = "BenchNoop";
  static final String HEAD = "BenchHead";
  static final String LATENCY = "BenchLatency";

  private final long target;
  private final String countedClass;
  private final AtomicLong counted = new AtomicLong();
  private final AtomicLong first = new AtomicLong(Long.MIN_VALUE);
  private volatile long lastDone;
  private final CountDownLatch done = new CountDownLatch(1);
  private final List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
  /** System.nanoTime() at the start of each BenchLatency job's handler, by job id. */
  final java.util.concurrent.ConcurrentHashMap<Long, Long> startNanos = new java.util.concurrent.ConcurrentHashMap<>();

  /** Counts jobs of {@code countedClass} (null: every class) until {@code target}. */
  JavaDrain(long target, String countedClass) {
    this.target = target;
    this.countedClass = countedClass;
  }

  WorkMap workMap() {
    return WorkMap.builder()
        .put(NOOP, job -> handled(NOOP, 0))
        .put(HEAD, job -> handled(HEAD, 0))
        .put(LATENCY, job -> {
          startNanos.put(job.job().id(), System.nanoTime()); // first: the handler's start
          handled(LATENCY, job.job().arg(0, Long.class));
        })
        .build();
  }

  private void handled(String jobClass, long enqueuedMicros) {
    long start = System.nanoTime();
    first.compareAndSet(Long.MIN_VALUE, start);
    if (enqueuedMicros != 0) {
      latencies.add(epochMicros() - enqueuedMicros);
    }
    if (countedClass == null || countedClass.equals(jobClass)) {
      long n = counted.incrementAndGet();
      lastDone = System.nanoTime();
      if (n == target) {
        done.countDown();
      }
    }
  }

  static long epochMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  /** A pool of {@code workers} on {@code client} running these handlers. */
  WorkerPool.Builder builder(Client client, int workers, Duration wakeInterval) {
    return WorkerPool.builder(client, workMap()).workers(workers).wakeInterval(wakeInterval).name("bench-worker");
  }

  /** Starts a pool of {@code workers} on {@code client}. */
  WorkerPool start(Client client, int workers, Duration wakeInterval) {
    WorkerPool pool = builder(client, workers, wakeInterval).build();
    pool.start();
    return pool;
  }

  /** What a drain did: jobs counted, and seconds from the first handler's start to the last counted one's return. */
  record Drained(long jobs, double seconds, boolean complete) {
    double rate() {
      return jobs / seconds;
    }
  }

  /**
   * Waits for the count, at most {@code cap}, then shuts the pool down. A capped drain reports the
   * jobs counted so far; with {@code mustFinish} it fails instead.
   */
  Drained await(WorkerPool pool, Duration cap, boolean mustFinish) throws InterruptedException {
    boolean reached = done.await(cap.toMillis(), TimeUnit.MILLISECONDS);
    long end = lastDone;
    long n = counted.get();
    pool.shutdown(Duration.ofSeconds(30));
    if (n == 0 || (!reached && mustFinish)) {
      throw new IllegalStateException("que-java worked " + n + " of " + target + " jobs within " + cap.toSeconds() + " s");
    }
    return new Drained(n, (end - first.get()) / 1e9, reached);
  }

  long counted() {
    return counted.get();
  }

  /** Latencies in milliseconds, sorted. */
  double[] latenciesMs() {
    synchronized (latencies) {
      return latencies.stream().mapToDouble(us -> us / 1000.0).sorted().toArray();
    }
  }

  /** The nearest-rank percentile of sorted values. */
  static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
