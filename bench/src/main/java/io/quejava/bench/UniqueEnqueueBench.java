package io.quejava.bench;

import io.quejava.NewJob;
import io.quejava.UniqueOptions;
import io.quejava.bench.Bench.Ctx;
import io.quejava.bench.Report.Cell;
import io.quejava.ext.unique.UniqueJobs;
import java.util.List;

/**
 * Scenario 1b: what uniqueness costs an enqueue. que-java only (que-go and Ruby have no unique jobs);
 * the floor column holds plain {@code Client.enqueue} / {@code enqueueAll} of the same jobs measured in
 * the same run, in slices taken in turns with the unique ones, so the ratio is the cost of the option.
 * Keys are derived from class, queue and args ({@link UniqueOptions#byArgs()}), the common form.
 */
final class UniqueEnqueueBench {
  private UniqueEnqueueBench() {}

  static final UniqueOptions BY_ARGS = UniqueOptions.byArgs();

  static void run(Ctx ctx, Cell plainBatch) throws Exception {
    UniqueJobs.install(Env.dataSource(ctx.env.bench, "que-bench-unique"));
    int rounds = EnqueueBench.rounds(ctx);
    double slice = ctx.options.enqueueSeconds() / rounds;
    ctx.report.section("1b. Unique enqueue: que-java with NewJob.unique(UniqueOptions.byArgs()); the floor column is"
        + " plain que-java enqueue in the same run, so java/floor is the cost of the option");
    // Every call a new key: the claim and the insert in one statement.
    EnqueueBench.JobFactory fresh = (t, n) -> NewJob.of(JavaDrain.NOOP, t, n).unique(BY_ARGS);
    EnqueueBench.JobFactory plainSame = (t, n) -> NewJob.of(JavaDrain.NOOP, t, n);
    // Every call a duplicate of one job: the claim, then the look at the holder; nothing is written.
    EnqueueBench.JobFactory duplicate = (t, n) -> NewJob.of(JavaDrain.NOOP, "same").unique(BY_ARGS);
    for (int threads : List.of(1, 8)) {
      String what = threads + (threads == 1 ? " thread" : " threads");
      double[] sums = new double[6]; // jobs and seconds: plain, fresh, duplicate
      for (int round = 0; round < rounds; round++) {
        Bench.progress("unique enqueue, " + what + ", slice " + (round + 1) + " of " + rounds);
        add(sums, 0, EnqueueBench.javaSingle(ctx, threads, slice, false, plainSame));
        add(sums, 2, EnqueueBench.javaSingle(ctx, threads, slice, false, fresh));
        add(sums, 4, EnqueueBench.javaSingle(ctx, threads, slice, false, duplicate));
      }
      Cell plain = Cell.of(sums[0] / sums[1]);
      ctx.report.row("enqueue unique, a new key each call, " + what, "jobs/s", Cell.of(sums[2] / sums[3]),
          Cell.na("n/a (que-go has none)"), plain);
      ctx.report.row("enqueue unique, every call a duplicate, " + what, "jobs/s", Cell.of(sums[4] / sums[5]),
          Cell.na("n/a (que-go has none)"), plain);
    }
    Bench.progress("unique enqueue: warming up enqueueAll of unique jobs (untimed)");
    EnqueueBench.javaBatch(ctx, (call, i) -> NewJob.of(JavaDrain.NOOP, -1 - call, i).unique(BY_ARGS), true);
    Bench.progress("unique enqueue: enqueueAll of " + EnqueueBench.BATCH + " new keys");
    double batchFresh = EnqueueBench.javaBatch(ctx, (call, i) -> NewJob.of(JavaDrain.NOOP, call, i).unique(BY_ARGS), false);
    Bench.progress("unique enqueue: enqueueAll of " + EnqueueBench.BATCH + " duplicates of queued jobs");
    double batchDup = EnqueueBench.javaBatch(ctx, (call, i) -> NewJob.of(JavaDrain.NOOP, call, i).unique(BY_ARGS), true);
    ctx.report.row("enqueueAll unique, 10,000 new keys per call", "jobs/s", Cell.of(batchFresh),
        Cell.na("n/a (que-go has none)"), plainBatch);
    ctx.report.row("enqueueAll unique, 10,000 duplicates per call", "jobs/s", Cell.of(batchDup),
        Cell.na("n/a (que-go has none)"), plainBatch);
    Bench.progress("unique enqueue: the release trigger's cost per DELETE");
    deleteCost(ctx);
  }

  /**
   * What the release trigger costs every DELETE of que_jobs, whoever sends it: 10,000 jobs deleted
   * one statement each (by the 4-column key, as Ruby 0.x and que-go do) in one transaction, so the
   * commit does not hide it; plain jobs (no key to find) and unique jobs (a key deleted too),
   * against the same deletes with the extension uninstalled. Rows per second of server and driver time.
   */
  static void deleteCost(Ctx ctx) throws Exception {
    javax.sql.DataSource ds = Env.dataSource(ctx.env.bench, "que-bench-unique-delete");
    int n = 10_000;
    // Taken in turns, as the enqueue slices are, so that a slow spell hits all three.
    double without = 0;
    double plain = 0;
    double unique = 0;
    int rounds = EnqueueBench.rounds(ctx);
    for (int r = 0; r < rounds; r++) {
      UniqueJobs.uninstall(ds);
      without += n / deletes(ctx, ds, n, false);
      UniqueJobs.install(ds);
      plain += n / deletes(ctx, ds, n, false);
      unique += n / deletes(ctx, ds, n, true);
    }
    without = rounds * n / without;
    plain = rounds * n / plain;
    unique = rounds * n / unique;
    ctx.report.row("DELETE of a job by its key, 10,000 in one transaction: plain jobs, trigger installed", "jobs/s",
        Cell.of(plain), Cell.na("n/a"), Cell.of(without));
    ctx.report.row("DELETE of a job by its key, 10,000 in one transaction: unique jobs (key released)", "jobs/s",
        Cell.of(unique), Cell.na("n/a"), Cell.of(without));
  }

  private static double deletes(Ctx ctx, javax.sql.DataSource ds, int n, boolean unique) throws Exception {
    EnqueueBench.prepare(ctx.env);
    io.quejava.Client client = io.quejava.Client.create(ds);
    List<NewJob> jobs = new java.util.ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      NewJob j = NewJob.of(JavaDrain.NOOP, i);
      jobs.add(unique ? j.unique(BY_ARGS) : j);
    }
    List<io.quejava.Job> queued = client.enqueueAll(jobs);
    ctx.env.exec("VACUUM ANALYZE que_jobs");
    try (java.sql.Connection c = ds.getConnection();
        java.sql.PreparedStatement ps = c.prepareStatement(
            "DELETE FROM que_jobs WHERE queue = ? AND priority = ? AND run_at = ? AND job_id = ?")) {
      c.setAutoCommit(false);
      long start = System.nanoTime();
      for (io.quejava.Job j : queued) {
        ps.setString(1, j.queue());
        ps.setShort(2, (short) j.priority());
        ps.setObject(3, j.runAt().atOffset(java.time.ZoneOffset.UTC));
        ps.setLong(4, j.id());
        if (ps.executeUpdate() != 1) {
          throw new IllegalStateException("job " + j.id() + " was not deleted");
        }
      }
      double rate = n / ((System.nanoTime() - start) / 1e9);
      c.commit();
      return rate;
    }
  }

  private static void add(double[] sums, int at, double[] jobsAndSeconds) {
    sums[at] += jobsAndSeconds[0];
    sums[at + 1] += jobsAndSeconds[1];
  }
}
