package io.quejava.bench;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.PoolExtension;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.bench.Bench.Ctx;
import io.quejava.testing.TestDatabase.Endpoint;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * The enqueue rows with the notify extension installed (scenario 1): a database of its own whose
 * que_jobs (schema 3) has the extension's trigger, and a pool of {@link #WORKERS} listening on the
 * queue the enqueuers write to, in one of two states:
 *
 * <ul>
 *   <li><b>busy</b>: every worker runs a job that waits until the measurement is over, so the pool
 *       does not ask to be woken and an insert of a job due now sends nothing;
 *   <li><b>idle</b>: every worker waits for work and the pool asks to be woken, so every insert
 *       sends a NOTIFY. To keep the pool idle while the enqueuers write as fast as they can, these
 *       jobs are due in an hour (a job due later is announced whatever the pools do, with the same
 *       one NOTIFY, and the listener schedules a wake-up for it).
 * </ul>
 *
 * The extension is reached by reflection, as in {@link LatencyBench}.
 */
final class NotifyEnqueue implements AutoCloseable {
  static final int WORKERS = 4;
  static final String BLOCK = "BenchBlock";

  final Endpoint db;
  private final DataSource ds;
  private final Connection control;

  NotifyEnqueue(Ctx ctx) throws Exception {
    this.db = ctx.env.createDatabase("que_bench_notify_enqueue");
    this.ds = Env.dataSource(db, "que-bench-notify-pool");
    DataSource admin = Env.dataSource(db, "que-bench-control");
    Migrator.create(admin).migrate();
    LatencyBench.Notify.call("install", admin);
    this.control = admin.getConnection();
    if (ctx.env.pgss) {
      try (Statement st = control.createStatement()) {
        st.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      }
    }
    this.profile = new StatementProfile.Db(control, db.database(), "que-bench-notify-pool");
  }

  private final StatementProfile.Db profile;

  /** This database, for the statement profile. */
  StatementProfile.Db profileDb() {
    return profile;
  }

  /** Why the rows cannot run here, or null. */
  static String unavailable() {
    return new LatencyBench.Notify().unavailable();
  }

  /** Empty que_jobs, flushed to disk. */
  void prepare() throws Exception {
    try (Statement st = control.createStatement()) {
      st.execute("TRUNCATE que_jobs");
      st.execute("CHECKPOINT");
    }
  }

  /** The job the enqueuers write in this state. */
  static Supplier<NewJob> job(boolean idle) {
    if (!idle) {
      return () -> NewJob.of(JavaDrain.NOOP);
    }
    return () -> NewJob.of(JavaDrain.NOOP).runAt(Instant.now().plus(Duration.ofHours(1)));
  }

  /** A started pool in the given state; closing it lets the blocked jobs go and shuts it down. */
  Running start(boolean idle) throws Exception {
    prepare();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blocked = new CountDownLatch(WORKERS);
    WorkMap work = WorkMap.builder()
        .put(JavaDrain.NOOP, j -> { })
        .put(BLOCK, j -> {
          blocked.countDown();
          release.await();
        })
        .build();
    PoolExtension ext = (PoolExtension) LatencyBench.Notify.call("create", ds);
    Client client = Client.create(ds);
    WorkerPool pool = WorkerPool.builder(client, work).workers(WORKERS).name("bench-notify")
        .wakeInterval(Duration.ofSeconds(5)).extension(ext).build();
    pool.start();
    Running r = new Running(pool, release, ext, idle);
    try {
      if (!idle) {
        for (int i = 0; i < WORKERS; i++) {
          client.enqueue(NewJob.of(BLOCK));
        }
        await(() -> blocked.getCount() == 0 && !asking(ext), "the pool's workers to block and the pool to stop asking");
      } else {
        await(() -> pool.idleWorkers() == WORKERS && asking(ext), "the idle pool to ask to be woken");
      }
      r.baseline();
    } catch (Exception | Error e) {
      r.close();
      throw e;
    }
    return r;
  }

  private static boolean asking(PoolExtension ext) {
    return (Boolean) get(ext, "isAsking");
  }

  private static Object get(PoolExtension ext, String method) {
    try {
      return ext.getClass().getMethod(method).invoke(ext);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("the notify extension has no " + method + "(): " + e, e);
    }
  }

  private interface Check {
    boolean ok() throws Exception;
  }

  private static void await(Check check, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!check.ok()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Env.sleep(Duration.ofMillis(10));
    }
  }

  /** Messages the busy pools received while measured: there should be none (they did not ask). */
  long busyMessages;
  /** Times a busy pool asked to be woken while measured: there should be none. */
  long busyAsks;

  /** A pool in a state, for one measurement. */
  final class Running implements AutoCloseable {
    private final WorkerPool pool;
    private final CountDownLatch release;
    private final PoolExtension ext;
    private final boolean idle;
    private long messages;
    private long asks;

    Running(WorkerPool pool, CountDownLatch release, PoolExtension ext, boolean idle) {
      this.pool = pool;
      this.release = release;
      this.ext = ext;
      this.idle = idle;
    }

    /** The counters when the measurement starts. */
    void baseline() {
      messages = (Long) get(ext, "notificationsReceived");
      asks = (Long) get(ext, "asks");
    }

    /** Call right after the measurement, before close. */
    void measured() {
      if (!idle) {
        busyMessages += (Long) get(ext, "notificationsReceived") - messages;
        busyAsks += (Long) get(ext, "asks") - asks;
      }
    }

    @Override
    public void close() throws Exception {
      release.countDown();
      pool.shutdown(Duration.ofSeconds(30));
      prepare();
    }
  }

  @Override
  public void close() throws Exception {
    control.close();
  }
}
