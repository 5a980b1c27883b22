package io.quejava.bench;

import io.quejava.Client;
import io.quejava.NewJob;
import io.quejava.bench.Bench.Ctx;
import io.quejava.bench.Report.Cell;
import io.quejava.testing.TestDatabase.Endpoint;
import java.io.StringReader;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.postgresql.PGConnection;

/**
 * Scenario 1: enqueue. One job per call from 1 and 8 threads (que-java {@code Client.enqueue} on a
 * pool of as many connections, que-go {@code Client.Enqueue}, and pgbench's bare prepared INSERT),
 * each for a fixed time; then {@code enqueueAll} of 10,000 jobs per call against COPY of 10,000
 * rows per call. Every call commits on its own (autocommit).
 */
final class EnqueueBench {
  static final int BATCH = 10_000;
  /** Untimed enqueues per thread before each timed single-enqueue slice. */
  static final int WARM_UP_CALLS = 10;

  private EnqueueBench() {}

  /** Slices per implementation, taken in turns, so that a slow spell of the disk or the machine hits all three. */
  static int rounds(Ctx ctx) {
    return ctx.options.quick ? 1 : 3;
  }

  static void run(Ctx ctx) throws Exception {
    Env env = ctx.env;
    int rounds = rounds(ctx);
    double slice = ctx.options.enqueueSeconds() / rounds;
    ctx.report.section("1. Enqueue (" + (rounds > 1 ? rounds + " interleaved slices of " + Math.round(slice) + " s each" : Math.round(slice) + " s each") + ")");
    String noNotify = NotifyEnqueue.unavailable();
    NotifyEnqueue notify = noNotify == null ? new NotifyEnqueue(ctx) : null;
    List<Cell[]> notifyRows = new ArrayList<>();
    for (int threads : List.of(1, 8)) {
      String what = threads + (threads == 1 ? " thread" : " threads");
      // jobs and seconds summed over the slices, for que-java, que-go, pgbench, and que-java with
      // the notify extension installed and its pool busy, then idle
      double[] jobs = new double[5];
      double[] seconds = new double[5];
      for (int round = 0; round < rounds; round++) {
        boolean profile = round == rounds - 1; // the last slice: the JIT has settled
        Bench.progress("enqueue, " + what + ", slice " + (round + 1) + " of " + rounds);
        prepare(env);
        double[] j = javaSingle(ctx, env.bench, null, threads, slice, profile ? "enqueue, " + what + ": que-java" : null,
            PLAIN);
        jobs[0] += j[0];
        seconds[0] += j[1];
        if (notify != null) {
          for (int k = 0; k < 2; k++) {
            boolean idle = k == 1;
            Bench.progress("enqueue, " + what + ", notify extension, " + (idle ? "idle" : "busy") + " pool listening");
            try (NotifyEnqueue.Running pool = notify.start(idle)) {
              Supplier<NewJob> next = NotifyEnqueue.job(idle);
              double[] n = javaSingle(ctx, notify.db, notify.profileDb(), threads, slice,
                  profile ? "enqueue, " + what + ": que-java, notify extension, " + (idle ? "idle" : "busy") + " pool" : null,
                  (t, i) -> next.get());
              pool.measured();
              jobs[3 + k] += n[0];
              seconds[3 + k] += n[1];
            }
          }
        }
        if (ctx.hasGo()) {
          prepare(env);
          var before = ctx.profile.begin();
          var r = ctx.go.run("bench-enqueue", List.of("--url", Env.libpqUrl(env.bench, "que-bench-go"),
              "--threads", Integer.toString(threads), "--seconds", Double.toString(slice)), Duration.ofMinutes(5));
          if (profile) {
            ctx.profile.end("enqueue, " + what + ": que-go", before, Double.parseDouble(r.get("cpu_ms")));
          }
          jobs[1] += Long.parseLong(r.get("enqueued"));
          seconds[1] += Long.parseLong(r.get("elapsed_us")) / 1e6;
        }
        if (ctx.pgbench != null) {
          prepare(env);
          var before = ctx.profile.begin();
          Pgbench.Result r = ctx.pgbench.run(env.bench, Pgbench.INSERT_SCRIPT, threads, 0, slice);
          if (profile) {
            ctx.profile.end("enqueue, " + threads + (threads == 1 ? " client" : " clients") + ": pgbench INSERT", before, r.cpuMs());
          }
          jobs[2] += r.transactions();
          seconds[2] += r.seconds();
        }
      }
      Cell plain = Cell.of(jobs[0] / seconds[0]);
      ctx.report.row("enqueue, 1 job per call, " + what, "jobs/s", plain,
          ctx.hasGo() ? Cell.of(jobs[1] / seconds[1]) : ctx.goMissing(),
          ctx.pgbench != null ? Cell.of(jobs[2] / seconds[2]) : Cell.na("n/a (no pgbench)"));
      notifyRows.add(notify == null
          ? new Cell[] {Cell.na(noNotify), Cell.na(noNotify), plain}
          : new Cell[] {Cell.of(jobs[3] / seconds[3]), Cell.of(jobs[4] / seconds[4]), plain});
    }
    if (notify != null) {
      notify.close();
      ctx.report.note("Notify extension check: while measured, the busy pools received " + notify.busyMessages
          + " NOTIFY messages and asked to be woken " + notify.busyAsks + " times (both should be 0).");
    }
    for (int i = 0; i < notifyRows.size(); i++) {
      String what = (i == 0 ? 1 : 8) + (i == 0 ? " thread" : " threads");
      Cell[] r = notifyRows.get(i);
      ctx.report.row("enqueue with the notify extension, busy pool listening (no NOTIFY), " + what
          + "; floor = plain que-java enqueue", "jobs/s", r[0], Cell.NONE, r[2]);
      ctx.report.row("enqueue with the notify extension, idle pool listening (a NOTIFY per insert), " + what
          + "; floor = plain que-java enqueue", "jobs/s", r[1], Cell.NONE, r[2]);
    }

    Bench.progress("enqueue: que-java enqueueAll of " + BATCH);
    Cell batch = Cell.of(javaBatch(ctx));
    Bench.progress("enqueue: COPY of " + BATCH);
    Cell copy = Cell.of(copy(ctx));
    ctx.report.row("enqueueAll, 10,000 jobs per call", "jobs/s", batch, Cell.na("n/a (que-go has none)"), copy);

    UniqueEnqueueBench.run(ctx, batch);
  }

  /** Empty que_jobs, flushed to disk: each enqueue run starts from the same state. */
  static void prepare(Env env) throws Exception {
    env.exec("TRUNCATE que_jobs");
    env.checkpoint();
  }

  /** The job a bench thread enqueues on its n-th call. */
  interface JobFactory {
    NewJob job(int thread, long n);
  }

  static final JobFactory PLAIN = (t, n) -> NewJob.of(JavaDrain.NOOP);

  /** {@link #javaSingle(Ctx, Endpoint, StatementProfile.Db, int, double, String, JobFactory)} into the bench database, emptied first. */
  static double[] javaSingle(Ctx ctx, int threads, double seconds, boolean profile, JobFactory factory) throws Exception {
    prepare(ctx.env);
    return javaSingle(ctx, ctx.env.bench, null, threads, seconds, profile ? "enqueue: que-java" : null, factory);
  }

  /**
   * que-java's Client.enqueue of the factory's jobs into {@code db} from {@code threads} threads, one
   * pooled connection each: {jobs, seconds}. The caller empties que_jobs first.
   */
  static double[] javaSingle(Ctx ctx, Endpoint db, StatementProfile.Db profileDb, int threads, double seconds,
      String profile, JobFactory factory) throws Exception {
    try (FixedPool pool = new FixedPool(Env.dataSource(db, "que-bench-java"), threads)) {
      Client client = Client.create(pool);
      AtomicLong count = new AtomicLong();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      CountDownLatch ready = new CountDownLatch(threads);
      CountDownLatch go = new CountDownLatch(1);
      CountDownLatch done = new CountDownLatch(threads);
      List<Thread> list = new ArrayList<>();
      long[] deadline = new long[1];
      for (int t = 0; t < threads; t++) {
        int thread = t;
        Thread th = new Thread(() -> {
          try {
            // Untimed: the first calls on a new connection pay for its prepared statements (and,
            // with a trigger, for compiling the trigger function in that session), which a
            // long-lived pooled connection pays once.
            try {
              for (int i = 0; i < WARM_UP_CALLS; i++) {
                client.enqueue(factory.job(thread, -1 - i));
              }
            } finally {
              ready.countDown();
            }
            go.await();
            long n = 0;
            while (System.nanoTime() < deadline[0]) {
              client.enqueue(factory.job(thread, n));
              n++;
            }
            count.addAndGet(n);
          } catch (Throwable e) {
            failure.compareAndSet(null, e);
          } finally {
            done.countDown();
          }
        }, "bench-enqueue-" + t);
        th.start();
        list.add(th);
      }
      ready.await();
      var before = ctx.profile.begin(profileDb);
      long start = System.nanoTime();
      deadline[0] = start + (long) (seconds * 1e9);
      go.countDown();
      done.await();
      long end = System.nanoTime();
      if (failure.get() != null) {
        throw new IllegalStateException("enqueue failed", failure.get());
      }
      pool.close();
      if (profile != null) {
        ctx.profile.end(profile, before, Double.NaN, profileDb);
      }
      return new double[] {count.get(), (end - start) / 1e9};
    }
  }

  /** que-java's enqueueAll, {@link #BATCH} jobs per call (building the NewJobs is timed too). */
  private static double javaBatch(Ctx ctx) throws Exception {
    return javaBatch(ctx, (call, i) -> NewJob.of(JavaDrain.NOOP), false);
  }

  /**
   * enqueueAll of {@link #BATCH} jobs per call made by {@code factory(call, i)}; with {@code again},
   * every call's jobs are enqueued once untimed first (so that the timed call meets them all).
   */
  static double javaBatch(Ctx ctx, JobFactory factory, boolean again) throws Exception {
    Env env = ctx.env;
    int calls = ctx.options.batchCalls();
    try (FixedPool pool = new FixedPool(Env.dataSource(env.bench, "que-bench-java"), 1)) {
      Client client = Client.create(pool);
      prepare(env);
      if (again) {
        for (int c = 0; c < calls; c++) {
          List<NewJob> jobs = new ArrayList<>(BATCH);
          for (int i = 0; i < BATCH; i++) {
            jobs.add(factory.job(c, i));
          }
          client.enqueueAll(jobs);
        }
      }
      if (!again) {
        // One untimed call (the first pays for class loading, the JIT and the session's statements),
        // as copy() makes one untimed COPY.
        List<NewJob> jobs = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
          jobs.add(factory.job(Integer.MIN_VALUE, i)); // a call number no timed call uses
        }
        client.enqueueAll(jobs);
        prepare(env);
      }
      long start = System.nanoTime();
      for (int c = 0; c < calls; c++) {
        List<NewJob> jobs = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
          jobs.add(factory.job(c, i));
        }
        client.enqueueAll(jobs);
      }
      return (double) calls * BATCH / ((System.nanoTime() - start) / 1e9);
    }
  }

  /** COPY into que_jobs, {@link #BATCH} rows per statement (building the text is timed too). */
  private static double copy(Ctx ctx) throws Exception {
    Env env = ctx.env;
    int calls = ctx.options.batchCalls();
    try (Connection c = Env.dataSource(env.bench, "que-bench-copy").getConnection()) {
      var copy = c.unwrap(PGConnection.class).getCopyAPI();
      prepare(env);
      long start = 0;
      for (int k = -1; k < calls; k++) {
        if (k == 0) {
          prepare(env); // after the untimed first COPY
          start = System.nanoTime();
        }
        StringBuilder sb = new StringBuilder(BATCH * 14);
        for (int i = 0; i < BATCH; i++) {
          sb.append(JavaDrain.NOOP).append("\t[]\n");
        }
        copy.copyIn("COPY que_jobs (job_class, args) FROM STDIN", new StringReader(sb.toString()));
      }
      return (double) calls * BATCH / ((System.nanoTime() - start) / 1e9);
    }
  }
}
