package io.quejava.ext.schedule;

import io.quejava.Client;
import io.quejava.PoolExtension;
import io.quejava.QueException;
import io.quejava.WorkerPool;
import io.quejava.internal.Args;
import io.quejava.internal.Tx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns due schedules into jobs: each pass claims the due rows of {@code que_schedules} with
 * {@code FOR UPDATE SKIP LOCKED}, enqueues each one's job through
 * {@link Client#enqueue(Connection, io.quejava.NewJob)} with run_at = the tick, and advances its
 * next_run_at, all in one transaction. Any number of schedulers, in any number of processes, may
 * run over one table: a tick is enqueued by the transaction that moves next_run_at past it, and
 * only one transaction can hold the row, so each tick is enqueued exactly once. The jobs are
 * ordinary que_jobs rows that any language's worker runs.
 *
 * <pre>{@code
 * Scheduler scheduler = Scheduler.builder(client).build();
 * WorkerPool pool = WorkerPool.builder(client, work).extension(scheduler).build();
 * pool.start();     // the scheduler polls every second on a thread of its own, until the pool stops
 * }</pre>
 *
 * <p>A scheduler that was down (or a schedule whose ticks all schedulers missed) follows the
 * schedule's {@link Misfire} policy: one job for all missed ticks, or none. Time comes from an
 * injectable {@link Clock} (the run_at of each job is the tick itself, not the time it was
 * enqueued), and {@link #tick()} runs one pass on the caller's thread, for tests and for
 * applications with their own timer. Cron schedules need cron-utils on the class path; a
 * scheduler without it leaves them to schedulers that have it.
 */
public final class Scheduler implements PoolExtension {
  private static final Logger log = LoggerFactory.getLogger(Scheduler.class);

  /** Default {@link Builder#pollInterval}: one second. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
  /** Default {@link Builder#misfireThreshold}: one minute. */
  public static final Duration DEFAULT_MISFIRE_THRESHOLD = Duration.ofMinutes(1);
  /** Default {@link Builder#batchSize}: {@value}. */
  public static final int DEFAULT_BATCH_SIZE = 100;

  private final Client client;
  private final Clock clock;
  private final Duration pollInterval;
  private final Duration misfireThreshold;
  private final int batchSize;
  private final boolean cron = CronSupport.available();
  private final Object lifecycle = new Object();
  private Thread thread;
  private CountDownLatch stopSignal;
  private volatile WorkerPool pool;

  private Scheduler(Builder b) {
    this.client = b.client;
    this.clock = b.clock;
    this.pollInterval = b.pollInterval;
    this.misfireThreshold = b.misfireThreshold;
    this.batchSize = b.batchSize;
  }

  /** Settings for a scheduler that enqueues with {@code client}. */
  public static Builder builder(Client client) {
    return new Builder(client);
  }

  /**
   * Runs one pass now, on this thread: enqueues the due ticks of every enabled schedule, in
   * transactions of up to {@link Builder#batchSize} schedules. Rows another scheduler holds at that
   * moment are skipped (it is enqueueing them). Returns how many jobs were enqueued.
   *
   * @throws QueException when the database fails; the pass's transaction is rolled back
   */
  public int tick() {
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    int enqueued = 0;
    while (true) {
      int[] result = Tx.run(client.dataSource(), "schedule tick", c -> pass(c, now));
      enqueued += result[1];
      if (result[0] < batchSize) {
        break;
      }
    }
    if (enqueued > 0) {
      WorkerPool p = pool;
      if (p != null) {
        p.wakeOne();
      }
    }
    return enqueued;
  }

  /** One transaction: claim up to batchSize due schedules, enqueue, advance. Returns {claimed, enqueued}. */
  private int[] pass(Connection c, Instant now) throws SQLException {
    List<ScheduleStatus> due = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(ScheduleSql.CLAIM)) {
      ps.setObject(1, now.atOffset(ZoneOffset.UTC));
      ps.setBoolean(2, cron);
      ps.setInt(3, batchSize);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          try {
            due.add(Schedules.status(rs));
          } catch (RuntimeException e) {
            unreadable.add(rs.getString(1));
            log.error("schedule {}: its row cannot be read ({}); disabling it", rs.getString(1), e.getMessage());
          }
        }
      }
    }
    for (String name : unreadable) {
      stop(c, name, "unreadable row: disabled by the scheduler");
    }
    int enqueued = 0;
    for (ScheduleStatus s : due) {
      enqueued += fire(c, s, now) ? 1 : 0;
    }
    return new int[] {due.size() + unreadable.size(), enqueued};
  }

  /** Enqueues (or skips) the due tick of one claimed schedule and advances it. */
  private boolean fire(Connection c, ScheduleStatus s, Instant now) throws SQLException {
    Schedule schedule = s.schedule();
    Instant latest;
    Instant next;
    try {
      latest = schedule.timing().latestAtOrBefore(now, s.nextRunAt());
      next = schedule.timing().nextAfter(now);
    } catch (RuntimeException e) {
      log.error("schedule {}: cannot compute its ticks ({}); disabling it", schedule.name(), e.getMessage());
      stop(c, schedule.name(), "cannot compute ticks: " + e.getMessage());
      return false;
    }
    boolean missed = latest.isAfter(s.nextRunAt());
    boolean late = Duration.between(latest, now).compareTo(misfireThreshold) > 0;
    boolean run = schedule.misfire() == Misfire.RUN_ONCE || !late;
    String error = null;
    boolean enqueued = false;
    if (run) {
      Savepoint sp = c.setSavepoint();
      try {
        client.enqueue(c, schedule.job(latest));
        c.releaseSavepoint(sp);
        enqueued = true;
        if (missed || late) {
          log.info("schedule {}: enqueued one job for missed ticks {} to {} (misfire {})", schedule.name(),
              s.nextRunAt(), latest, schedule.misfire());
        }
      } catch (QueException | IllegalArgumentException e) {
        c.rollback(sp);
        error = e.getMessage();
        log.error("schedule {}: enqueueing the tick {} failed: {}", schedule.name(), latest, e.getMessage());
      }
    } else {
      log.info("schedule {}: skipped missed ticks {} to {} (misfire SKIP)", schedule.name(), s.nextRunAt(), latest);
    }
    if (next == null) {
      stop(c, schedule.name(), "its cron never matches again after " + now);
      return enqueued;
    }
    try (PreparedStatement ps = c.prepareStatement(ScheduleSql.ADVANCE)) {
      ps.setObject(1, next.atOffset(ZoneOffset.UTC));
      ps.setObject(2, enqueued ? latest.atOffset(ZoneOffset.UTC) : null);
      ps.setBoolean(3, run);
      ps.setString(4, error);
      ps.setString(5, schedule.name());
      ps.executeUpdate();
    }
    return enqueued;
  }

  private static void stop(Connection c, String name, String why) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(ScheduleSql.STOP)) {
      ps.setString(1, why);
      ps.setString(2, name);
      ps.executeUpdate();
    }
  }

  /**
   * Starts polling with the pool (every {@link Builder#pollInterval}) on a thread named after it;
   * jobs enqueued wake one of its idle workers.
   */
  @Override
  public void start(WorkerPool pool) {
    this.pool = Args.notNull(pool, "pool");
    start(pool.name() + "-scheduler");
  }

  /** Starts polling on a thread of its own, without a pool (for a process that only enqueues). */
  public void start() {
    start("que-scheduler");
  }

  private void start(String threadName) {
    synchronized (lifecycle) {
      if (thread != null) {
        throw new IllegalStateException("the scheduler is already running");
      }
      CountDownLatch signal = new CountDownLatch(1);
      Thread t = new Thread(() -> loop(signal), threadName);
      t.setDaemon(true);
      stopSignal = signal;
      thread = t;
      t.start();
    }
  }

  private void loop(CountDownLatch signal) {
    while (signal.getCount() > 0) {
      try {
        tick();
      } catch (RuntimeException e) {
        log.warn("scheduler: a pass failed ({}); retrying in {}", e.getMessage(), pollInterval);
      }
      try {
        if (signal.await(pollInterval.toNanos(), TimeUnit.NANOSECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * Stops polling and waits for a pass under way to commit (at most 30 s). Idempotent; the
   * scheduler may be started again afterwards.
   */
  @Override
  public void stop() {
    Thread t;
    synchronized (lifecycle) {
      t = thread;
      if (t == null) {
        return;
      }
      stopSignal.countDown();
      thread = null;
      stopSignal = null;
    }
    try {
      t.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    pool = null;
  }

  @Override
  public String toString() {
    return "Scheduler{pollInterval=" + pollInterval + ", misfireThreshold=" + misfireThreshold
        + ", batchSize=" + batchSize + ", cron=" + (cron ? "available" : "unavailable") + "}";
  }

  /** Settings for a {@link Scheduler}. */
  public static final class Builder {
    private final Client client;
    private Clock clock = Clock.systemUTC();
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private Duration misfireThreshold = DEFAULT_MISFIRE_THRESHOLD;
    private int batchSize = DEFAULT_BATCH_SIZE;

    private Builder(Client client) {
      this.client = Args.notNull(client, "client");
    }

    /**
     * The clock that says which ticks are due. Default: {@link Clock#systemUTC()}. Jobs get the tick
     * as run_at, so the database clock decides when they run.
     */
    public Builder clock(Clock clock) {
      if (clock == null) {
        throw new IllegalArgumentException("clock: must not be null");
      }
      this.clock = clock;
      return this;
    }

    /** How often the running scheduler looks for due ticks. Default: 1 s. At least 10 ms. */
    public Builder pollInterval(Duration pollInterval) {
      if (pollInterval == null || pollInterval.compareTo(Duration.ofMillis(10)) < 0) {
        throw new IllegalArgumentException("pollInterval: must be at least 10 ms, got " + pollInterval);
      }
      this.pollInterval = pollInterval;
      return this;
    }

    /**
     * How late a tick may be and still count as on time: under {@link Misfire#SKIP}, the latest due
     * tick runs when it is at most this old and is skipped otherwise. Default: 1 minute. Must be at
     * least the poll interval.
     */
    public Builder misfireThreshold(Duration threshold) {
      if (threshold == null || threshold.isNegative()) {
        throw new IllegalArgumentException("misfireThreshold: must be zero or positive, got " + threshold);
      }
      this.misfireThreshold = threshold;
      return this;
    }

    /** Most schedules one transaction claims. Default: {@value Scheduler#DEFAULT_BATCH_SIZE}. */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1 || batchSize > 10_000) {
        throw new IllegalArgumentException("batchSize: must be 1 to 10000, got " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /** The scheduler. */
    public Scheduler build() {
      if (misfireThreshold.compareTo(pollInterval) < 0) {
        throw new IllegalArgumentException("misfireThreshold: must be at least the poll interval (" + pollInterval
            + "), got " + misfireThreshold);
      }
      return new Scheduler(this);
    }
  }
}
