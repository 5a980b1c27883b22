package io.quejava;

import io.quejava.internal.Args;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
  private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

  /** Default number of workers: {@value}, as Ruby Que 0.x. */
  public static final int DEFAULT_WORKERS = 4;

  private final List<Worker> workers;
  private final List<Thread> threads = new ArrayList<>();
  private final String name;
  private final Client client;
  private final WorkerConfig config;
  private final List<PoolExtension> extensions;
  private final List<PoolExtension> startedExtensions = new ArrayList<>();
  private boolean started;
  private boolean shutDown;
  private final List<String> queues;

  private WorkerPool(Builder b) {
    this.config = b.config.build();
    this.client = b.client;
    this.name = b.name;
    List<Worker> list = new ArrayList<>(b.workers);
    this.queues = config.queues().isEmpty() ? List.of(b.client.defaultQueue()) : config.queues();
    QueueGate gate = new QueueGate(queues, config);
    for (int i = 0; i < b.workers; i++) {
      list.add(new Worker(b.client, b.workMap, config, b.name + "-" + (i + 1), gate));
    }
    this.workers = List.copyOf(list);
    this.extensions = List.copyOf(b.extensions);
    Worker.Siblings siblings = new Worker.Siblings() {
      @Override
      public boolean claimPolling(Worker w) {
        return poller.compareAndSet(null, w);
      }

      @Override
      public void releasePolling(Worker w) {
        poller.compareAndSet(w, null);
      }

      @Override
      public boolean takePendingWake() {
        return pendingWake.getAndSet(false);
      }

      @Override
      public void idleChanged(Worker w, boolean idle) {
        int n = idle ? idleWorkers.incrementAndGet() : idleWorkers.decrementAndGet();
        if (n == (idle ? 1 : 0)) {
          for (PoolExtension e : liveExtensions) {
            try {
              e.idleWorkersChanged(n);
            } catch (RuntimeException ex) {
              log.warn("pool '{}': extension {} failed on an idle change: {}", name, e, ex.toString());
            }
          }
        }
      }

      @Override
      public java.util.Set<Long> held() {
        return passHeldJobs ? held : null;
      }

      @Override
      public void wakeAnother(Worker w) {
        for (Worker other : workers) {
          if (other != w && other.isIdle()) {
            other.wake();
            return;
          }
        }
      }
    };
    workers.forEach(w -> w.siblings(siblings));
  }

  /**
   * The ids of the jobs this pool's workers hold now: each walk passes over them without a lock call
   * (a hint, not a lock: the lock call still decides every row a walk tries), so at 8-16 workers a
   * walk does not step, one lock call at a time, over every row its siblings hold.
   */
  private final java.util.Set<Long> held = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** The held set's size now (test seam: it must be empty when no worker holds a job). */
  int heldJobs() {
    return held.size();
  }

  /**
   * Whether walks pass over the siblings' held jobs: yes, unless the system property
   * {@code que.worker.passHeldJobs} is {@code false} when the pool is built (a diagnostic switch; the
   * benchmark's A/B runs use it).
   */
  private final boolean passHeldJobs = !"false".equalsIgnoreCase(System.getProperty("que.worker.passHeldJobs"));

  /** Workers in an idle wait now. */
  private final java.util.concurrent.atomic.AtomicInteger idleWorkers = new java.util.concurrent.atomic.AtomicInteger();
  /** The started extensions, for the workers' threads (copied on every change). */
  private volatile List<PoolExtension> liveExtensions = List.of();

  /**
   * Workers waiting now for a wake-up or their next poll: they will not see a new job until woken
   * (by {@link #wakeOne()}, {@link #wakeAll()}) or until the wake interval passes. Workers running
   * a job or looking for one are not counted: they look again as soon as they are done.
   */
  public int idleWorkers() {
    return idleWorkers.get();
  }

  /** The idle worker that polls on the wake interval; the other idle workers sleep until woken. */
  private final java.util.concurrent.atomic.AtomicReference<Worker> poller = new java.util.concurrent.atomic.AtomicReference<>();

  /** Lock walks run by all workers (test seam for the idle cost). */
  long walks() {
    return workers.stream().mapToLong(Worker::walks).sum();
  }

  public static Builder builder(Client client, WorkMap workMap) {
    return new Builder(client, workMap);
  }

  /** Starts the workers, then the extensions. A pool starts once. */
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
    for (PoolExtension e : extensions) {
      try {
        e.start(this);
        startedExtensions.add(e);
        liveExtensions = List.copyOf(startedExtensions);
      } catch (Exception ex) {
        shutdown(Duration.ofSeconds(30));
        throw new QueException("pool '" + name + "': extension " + e + " failed to start: " + ex.getMessage(), ex);
      }
    }
  }

  /** The client the pool's workers lock and enqueue with. */
  public Client client() {
    return client;
  }

  /** The queues the pool works, in the order its workers try them. */
  public List<String> queues() {
    return queues;
  }

  /** The most workers that may work {@code queue} at once; empty when unlimited. */
  public java.util.OptionalInt maxWorkers(String queue) {
    return config.maxWorkers(queue);
  }

  /** The pool's name, the prefix of its threads' names. */
  public String name() {
    return name;
  }

  /** The settings every worker of the pool uses. */
  public WorkerConfig config() {
    return config;
  }

  /** True once {@link #shutdown} has begun. */
  public synchronized boolean isShuttingDown() {
    return shutDown;
  }

  /** Wakes one idle worker, so a job that just became ready is picked up now rather than at the next poll. */
  public void wakeOne() {
    for (Worker w : workers) {
      if (w.isIdle()) {
        w.wake();
        return;
      }
    }
    // Nobody idle: a worker may be mid-walk and miss the new job. The next worker about to sleep
    // looks once more instead.
    pendingWake.set(true);
    // One that turned idle after the scan above either takes the flag itself (it checks once it
    // shows as idle) or is seen idle here; whoever clears the flag first acts, so it wakes once.
    for (Worker w : workers) {
      if (w.isIdle() && pendingWake.compareAndSet(true, false)) {
        w.wake();
        return;
      }
    }
  }

  private final java.util.concurrent.atomic.AtomicBoolean pendingWake = new java.util.concurrent.atomic.AtomicBoolean();

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

  /**
   * What the pool works now: jobs worked and failed, busy workers and the jobs they run with their
   * start times. Cheap (no I/O, no lock): for a CLI's status, a dashboard, gauges.
   */
  public PoolStats stats() {
    List<PoolStats.Running> running = new ArrayList<>();
    for (Worker w : workers) {
      JobContext c = w.running();
      if (c != null) {
        Job j = c.job();
        running.add(new PoolStats.Running(j.id(), j.jobClass(), j.queue(), j.errorCount() + 1, c.startedAt(),
            c.workerName().orElse(name)));
      }
    }
    return new PoolStats(name, workers.size(), running.size(), idleWorkers(), jobsWorked(), jobsFailed(),
        List.copyOf(running));
  }

  /** Stops taking jobs and waits for the running ones, without a deadline. */
  public void shutdown() {
    shutdown(Duration.ofNanos(Long.MAX_VALUE));
  }

  /**
   * Stops taking new jobs at once and gives the running ones until {@code timeout}. Jobs still
   * running then are cancelled ({@link JobContext#cancel}: a flag and an interrupt) while their locks
   * stay held; when a cancelled handler returns (or throws), its row is left exactly as it was and
   * unlocked, so another worker runs it again, and never while this one still runs. A handler that
   * ignores the cancel for 5 more seconds has its connection closed: the server frees its lock while
   * the handler may still be running, so the job can then run twice at once. Returns true when every
   * job finished within the timeout. Idempotent.
   */
  public synchronized boolean shutdown(Duration timeout) {
    return shutdown(timeout, Worker.DEFAULT_ABORT_GRACE);
  }

  /**
   * As {@link #shutdown(Duration)}, with the grace a cancelled job gets before its connection is
   * killed (default 5 s).
   */
  public synchronized boolean shutdown(Duration timeout, Duration abortGrace) {
    Args.notNull(timeout, "timeout");
    Args.notNull(abortGrace, "abortGrace");
    if (shutDown) {
      return true;
    }
    shutDown = true;
    for (int i = startedExtensions.size() - 1; i >= 0; i--) {
      PoolExtension e = startedExtensions.get(i);
      try {
        e.stop();
      } catch (RuntimeException ex) {
        log.warn("pool '{}': extension {} failed to stop: {}", name, e, ex.toString());
      }
    }
    startedExtensions.clear();
    liveExtensions = List.of();
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
      workers.forEach(Worker::cancelForShutdown);
      long graceEnd = System.nanoTime() + Worker.saturatedNanos(abortGrace);
      for (Worker w : workers) {
        if (!w.awaitExit(Math.max(0, graceEnd - System.nanoTime()))) {
          w.abortSession();
        }
      }
      // The bound is the deadline plus the grace: a handler that ignored its cancel keeps its thread
      // (its lock is gone with its connection) and is not waited for.
      return false;
    }
    for (Thread t : threads) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(1)); // the workers have exited: their threads end at once
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return true;
  }

  /** Settings for a {@link WorkerPool}. */
  public static final class Builder {
    private final Client client;
    private final WorkMap workMap;
    private final WorkerConfig.Builder config = WorkerConfig.custom();
    private int workers = DEFAULT_WORKERS;
    private String name = "que-worker";
    private final List<PoolExtension> extensions = new ArrayList<>();

    private Builder(Client client, WorkMap workMap) {
      this.client = Args.notNull(client, "client");
      this.workMap = Args.notNull(workMap, "workMap");
    }

    /** Number of workers (threads, and connections). Default: {@value WorkerPool#DEFAULT_WORKERS}. */
    public Builder workers(int workers) {
      if (workers < 1) {
        throw new IllegalArgumentException("workers: must be at least 1, got " + workers);
      }
      this.workers = workers;
      return this;
    }

    /**
     * Adds a queue for the pool's workers; call it once per queue. Every worker serves every queue:
     * looking for work, it tries them in the order added and takes the first with a ready job, so
     * earlier queues have precedence (Que's {@code -q} order). Each lock walk covers one queue.
     * Default: the client's default queue alone ({@code ''} on schema 3, {@code default} on 4–7).
     */
    public Builder queue(String queue) {
      config.queue(queue);
      return this;
    }

    /**
     * Adds a queue that at most {@code maxWorkers} of the pool's workers work at once: the others
     * stay free for the remaining queues. {@code queue("default").queue("mailers", 2)} with 8 workers
     * gives mailers at most 2 while default may use all 8.
     */
    public Builder queue(String queue, int maxWorkers) {
      config.queue(queue, maxWorkers);
      return this;
    }

    /**
     * How often an idle pool polls. Only one idle worker polls on this timer; when it finds work it
     * wakes another idle worker, which looks at once (and so on), so a burst brings every worker in
     * within a few round trips. Default: {@link WorkerConfig#DEFAULT_WAKE_INTERVAL} (5 s).
     */
    public Builder wakeInterval(Duration wakeInterval) {
      config.wakeInterval(wakeInterval);
      return this;
    }

    /** Delay before a failed job's next attempt. Default: {@link RetryPolicy#DEFAULT}. */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      config.retryPolicy(retryPolicy);
      return this;
    }

    /** Schema 4–7: expire a job whose error count would exceed this. See {@link WorkerConfig.Builder#maxRetryCount}. */
    public Builder maxRetryCount(int count) {
      config.maxRetryCount(count);
      return this;
    }

    /** Jobs a worker locks ahead in one walk. See {@link WorkerConfig.Builder#prefetch}. Default: 8. */
    public Builder prefetch(int jobs) {
      config.prefetch(jobs);
      return this;
    }

    /**
     * Opt-in: each worker deletes its succeeded jobs {@code maxJobs} at a time in one statement and
     * one commit, then unlocks them; a crash may then run again at most {@code maxJobs} succeeded
     * jobs per worker. Off by default. See {@link WorkerConfig.Builder#batchedCompletion} for how,
     * the liveness rule, the events and the re-run window.
     */
    public Builder batchedCompletion(int maxJobs, Duration maxDelay) {
      config.batchedCompletion(maxJobs, maxDelay);
      return this;
    }

    /** Adds a listener that hears every attempt of every worker (see {@link JobListener}). Default: none. */
    public Builder listener(JobListener listener) {
      config.listener(listener);
      return this;
    }

    /** Adds an interceptor around every job (see {@link JobInterceptor}); the first added is outermost. */
    public Builder interceptor(JobInterceptor interceptor) {
      config.interceptor(interceptor);
      return this;
    }

    /** Adds an extension that starts and stops with the pool (see {@link PoolExtension}). */
    public Builder extension(PoolExtension extension) {
      extensions.add(Args.notNull(extension, "extension"));
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
