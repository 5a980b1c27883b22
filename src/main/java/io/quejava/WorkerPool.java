package io.quejava;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * N {@link Worker}s on one queue, each on a thread and a connection of its own.
 *
 * <pre>{@code
 * WorkerPool pool = WorkerPool.builder(client, workMap).workers(4).queue("billing").build();
 * pool.start();
 * ...
 * pool.shutdown(Duration.ofSeconds(30));
 * }</pre>
 *
 * <p>Size the connection pool behind the client's DataSource for the workers plus whatever else the
 * application needs: each worker keeps one connection.
 */
public final class WorkerPool {
  /** Default number of workers: {@value}, as Ruby Que 0.x. */
  public static final int DEFAULT_WORKERS = 4;

  private final List<Worker> workers;
  private final List<Thread> threads = new ArrayList<>();
  private final String name;
  private boolean started;
  private boolean shutDown;

  private WorkerPool(Builder b) {
    WorkerConfig config = b.config.build();
    List<Worker> list = new ArrayList<>(b.workers);
    for (int i = 0; i < b.workers; i++) {
      list.add(new Worker(b.client, b.workMap, config));
    }
    this.workers = List.copyOf(list);
    this.name = b.name;
  }

  public static Builder builder(Client client, WorkMap workMap) {
    return new Builder(client, workMap);
  }

  /** Starts the workers. A pool starts once. */
  public synchronized void start() {
    if (started) {
      throw new IllegalStateException("the pool was already started");
    }
    started = true;
    for (int i = 0; i < workers.size(); i++) {
      Worker w = workers.get(i);
      Thread t = new Thread(w::work, name + "-" + (i + 1));
      threads.add(t);
      t.start();
    }
  }

  /** Wakes one idle worker, so a job that just became ready is picked up now rather than at the next poll. */
  public void wakeOne() {
    for (Worker w : workers) {
      if (w.isIdle()) {
        w.wake();
        return;
      }
    }
  }

  /** Wakes every worker. */
  public void wakeAll() {
    workers.forEach(Worker::wake);
  }

  public int size() {
    return workers.size();
  }

  /** Jobs whose handler succeeded, over all workers. */
  public long jobsWorked() {
    return workers.stream().mapToLong(Worker::jobsWorked).sum();
  }

  /** Jobs that failed, over all workers. */
  public long jobsFailed() {
    return workers.stream().mapToLong(Worker::jobsFailed).sum();
  }

  /** Stops taking jobs and waits for the running ones, without a deadline. */
  public void shutdown() {
    shutdown(Duration.ofNanos(Long.MAX_VALUE));
  }

  /**
   * Stops taking new jobs at once and gives the running ones until {@code timeout}. Jobs still
   * running then are interrupted and their connections closed, so their locks are released and
   * their rows stay as they were; another worker runs them again. Returns true when every job
   * finished within the timeout. Idempotent.
   */
  public synchronized boolean shutdown(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (shutDown) {
      return true;
    }
    shutDown = true;
    workers.forEach(Worker::beginShutdown);
    if (!started) {
      workers.forEach(Worker::shutdown);
      return true;
    }
    long deadline = System.nanoTime() + Worker.saturatedNanos(timeout);
    boolean clean = true;
    for (Worker w : workers) {
      if (!w.awaitExit(Math.max(0, deadline - System.nanoTime()))) {
        clean = false;
      }
    }
    if (!clean) {
      workers.forEach(Worker::forceStop);
      for (Worker w : workers) {
        w.awaitExit(TimeUnit.SECONDS.toNanos(10));
      }
    }
    for (Thread t : threads) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return clean;
  }

  /** Settings for a {@link WorkerPool}. */
  public static final class Builder {
    private final Client client;
    private final WorkMap workMap;
    private final WorkerConfig.Builder config = WorkerConfig.custom();
    private int workers = DEFAULT_WORKERS;
    private String name = "que-worker";

    private Builder(Client client, WorkMap workMap) {
      this.client = Objects.requireNonNull(client, "client");
      this.workMap = Objects.requireNonNull(workMap, "workMap");
    }

    /** Number of workers (threads, and connections). Default: {@value WorkerPool#DEFAULT_WORKERS}. */
    public Builder workers(int workers) {
      if (workers < 1) {
        throw new IllegalArgumentException("workers: must be at least 1, got " + workers);
      }
      this.workers = workers;
      return this;
    }

    /** The queue to work. Default: the client's default queue ({@code ''} on schema 3). */
    public Builder queue(String queue) {
      config.queue(queue);
      return this;
    }

    /** Idle wait between polls. Default: {@link WorkerConfig#DEFAULT_WAKE_INTERVAL} (5 s). */
    public Builder wakeInterval(Duration wakeInterval) {
      config.wakeInterval(wakeInterval);
      return this;
    }

    /** Delay before a failed job's next attempt. Default: {@link RetryPolicy#DEFAULT}. */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      config.retryPolicy(retryPolicy);
      return this;
    }

    /** Thread name prefix. Default: {@code que-worker}. */
    public Builder name(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("name: must not be blank");
      }
      this.name = name;
      return this;
    }

    public WorkerPool build() {
      return new WorkerPool(this);
    }
  }
}
