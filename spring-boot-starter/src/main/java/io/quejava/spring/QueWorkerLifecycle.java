package io.quejava.spring;

import io.quejava.Client;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.ext.deadletter.DeadLetterInterceptor;
import io.quejava.ext.heartbeat.Heartbeats;
import io.quejava.ext.notify.NotifyWakeups;
import io.quejava.ext.schedule.Scheduler;
import io.quejava.ext.timeout.Timeouts;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Runs one {@link WorkerPool} with the application context: built from {@code que.worker.*} and the
 * handler beans and started when the context has refreshed; stopped in the shutdown phase, waiting
 * up to {@code que.worker.shutdown-timeout} for running jobs (then cancelling those still running,
 * see {@link WorkerPool#shutdown(Duration)}). With no handler beans no pool starts.
 *
 * <p>Its phase is {@link SmartLifecycle#DEFAULT_PHASE}: it starts after, and stops before, the web
 * server and other lifecycle beans of lower phases; data sources close after it.
 */
public class QueWorkerLifecycle implements SmartLifecycle {
  private static final Logger LOG = LoggerFactory.getLogger(QueWorkerLifecycle.class);

  private final Client client;
  private final QueJobHandlers handlers;
  private final QueProperties.Worker settings;
  private final List<QueWorkerPoolCustomizer> customizers;
  private volatile WorkerPool pool;
  private volatile boolean stopping;

  public QueWorkerLifecycle(Client client, QueJobHandlers handlers, QueProperties.Worker settings) {
    this(client, handlers, settings, List.of());
  }

  /** As above, with customizers applied to the pool's builder after the settings, in list order. */
  public QueWorkerLifecycle(
      Client client, QueJobHandlers handlers, QueProperties.Worker settings, List<QueWorkerPoolCustomizer> customizers) {
    this.client = client;
    this.handlers = handlers;
    this.settings = settings;
    this.customizers = List.copyOf(customizers);
  }

  @Override
  public synchronized void start() {
    if (pool != null) {
      return;
    }
    if (handlers.isEmpty()) {
      LOG.info("que-java: no job handler beans, so no worker pool (enqueue only)");
      return;
    }
    WorkMap work = handlers.workMap();
    WorkerPool.Builder builder = WorkerPool.builder(client, work)
        .workers(settings.getWorkers())
        .wakeInterval(settings.getWakeInterval())
        .name(settings.getName());
    for (String q : settings.getQueues()) {
      addQueue(builder, q);
    }
    QueProperties.BatchedCompletion batched = settings.getBatchedCompletion();
    if (batched.getMaxJobs() != null) {
      builder.batchedCompletion(batched.getMaxJobs(), batched.getMaxDelay());
    }
    addExtensions(builder);
    customizers.forEach(c -> c.customize(builder));
    WorkerPool p = builder.build();
    p.start();
    pool = p;
    stopping = false;
    // Quoted: the default queue of schema 3 is the empty string.
    LOG.info("que-java: {} workers on queues {} for {}{}", p.size(),
        p.queues().stream().map(q -> "'" + q + "'").toList(), work.jobClasses(),
        batched.getMaxJobs() == null ? ""
            : "; batched completion: up to " + batched.getMaxJobs() + " jobs or " + batched.getMaxDelay().toMillis() + " ms");
  }

  /**
   * The extensions of {@code que.worker.extensions.*}, wired as {@code que work} wires them from its
   * flags. Their SQL is not installed here ({@code que.migrate-extensions=true} does it at start-up).
   */
  private void addExtensions(WorkerPool.Builder builder) {
    QueProperties.Extensions ext = settings.getExtensions();
    if (ext.getDeadLetterMaxAttempts() != null) {
      builder.interceptor(DeadLetterInterceptor.builder(client).maxAttempts(ext.getDeadLetterMaxAttempts()).build());
    }
    if (ext.isHeartbeats()) {
      Heartbeats beats = Heartbeats.builder(client.dataSource()).interval(ext.getHeartbeatInterval()).build();
      builder.interceptor(beats).extension(beats);
    }
    if (ext.getTimeout() != null) {
      builder.interceptor(Timeouts.builder().defaultTimeout(ext.getTimeout()).build());
    }
    if (ext.isNotify()) {
      builder.extension(NotifyWakeups.create(client.dataSource()));
    }
    if (ext.isSchedules()) {
      builder.extension(Scheduler.builder(client).build());
    }
  }

  /** {@code name} or {@code name=max}. */
  static void addQueue(WorkerPool.Builder builder, String spec) {
    String s = spec.trim();
    int eq = s.lastIndexOf('=');
    if (eq < 0) {
      builder.queue(s);
      return;
    }
    String name = s.substring(0, eq).trim();
    String max = s.substring(eq + 1).trim();
    try {
      builder.queue(name, Integer.parseInt(max));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("que.worker.queues: '" + spec + "' is not name or name=max-workers", e);
    }
  }

  @Override
  public void stop() {
    WorkerPool p;
    synchronized (this) {
      if (pool == null || stopping) {
        return; // never started, or another stop() is draining it
      }
      p = pool;
      stopping = true;
    }
    boolean clean = p.shutdown(settings.getShutdownTimeout());
    if (!clean) {
      LOG.warn("que-java: jobs still running after {}; cancelled, they run again later", settings.getShutdownTimeout());
    }
    synchronized (this) {
      if (pool == p) {
        pool = null;
      }
    }
  }

  /**
   * True from the moment {@link #stop()} begins on a started pool until the next {@link #start()}:
   * the pool takes no new jobs (the health indicator then says OUT_OF_SERVICE).
   */
  public boolean isStopping() {
    return stopping;
  }

  @Override
  public boolean isRunning() {
    return pool != null && !stopping;
  }

  @Override
  public int getPhase() {
    return DEFAULT_PHASE;
  }

  /** The running pool, if any (empty before start, after stop, and with no handlers). */
  public Optional<WorkerPool> pool() {
    return Optional.ofNullable(pool);
  }
}
