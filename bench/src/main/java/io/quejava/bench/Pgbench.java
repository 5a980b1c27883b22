package io.quejava.bench;

import io.quejava.testing.TestDatabase.Endpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The database's floor: pgbench running a script of the same SQL a Que worker or enqueuer sends,
 * with prepared statements (as que-go and que-java use), one connection per client.
 */
final class Pgbench {
  /** One bare prepared INSERT of a job: the floor for single enqueue. */
  static final String INSERT_SCRIPT =
      "INSERT INTO que_jobs (queue, priority, run_at, job_class, args) VALUES ('', 100, now(), 'BenchNoop', '[]');\n";

  /**
   * The per-job SQL of the classic protocol (que-protocol.md 2.3-2.4), one statement per round trip
   * in autocommit, as Ruby 0.x and que-go send it: the recursive lock walk that tries
   * pg_try_advisory_lock once per candidate and stops at the first it gets; the re-check of the row
   * by its 4-column key in a new statement; the DELETE by that key (skipped when the re-check found
   * the job gone: a lost race); pg_advisory_unlock on the same session.
   *
   * <p>A client whose walk finds no job stops (pgbench's \gset refuses an empty result and ends
   * that client): the queue is drained, which is how the run ends when it is not capped.
   */
  static final String WORK_SCRIPT = """
      WITH RECURSIVE walk AS (
        SELECT (j).*, pg_try_advisory_lock((j).job_id) AS locked
        FROM (SELECT j FROM que_jobs AS j
              WHERE queue = '' AND run_at <= now()
              ORDER BY priority, run_at, job_id
              LIMIT 1) AS first_candidate
        UNION ALL (
          SELECT (j).*, pg_try_advisory_lock((j).job_id) AS locked
          FROM (SELECT (SELECT j FROM que_jobs AS j
                        WHERE queue = '' AND run_at <= now()
                          AND (priority, run_at, job_id) > (walk.priority, walk.run_at, walk.job_id)
                        ORDER BY priority, run_at, job_id
                        LIMIT 1) AS j
                FROM walk
                WHERE walk.job_id IS NOT NULL
                LIMIT 1) AS next_candidate
        )
      )
      SELECT queue, priority, run_at, job_id, job_class, args, error_count
      FROM walk WHERE locked LIMIT 1
      \\gset
      SELECT count(*) AS still_there FROM que_jobs
      WHERE queue = :queue AND priority = :priority AND run_at = :run_at AND job_id = :job_id
      \\gset
      \\if :still_there > 0
      DELETE FROM que_jobs WHERE queue = :queue AND priority = :priority AND run_at = :run_at AND job_id = :job_id;
      \\endif
      SELECT pg_advisory_unlock(:job_id);
      """;

  /** Jobs one walk of {@link #BATCH_SCRIPT} locks at most: que-java's default prefetch. */
  static final int BATCH = io.quejava.WorkerConfig.DEFAULT_PREFETCH;

  /**
   * The SQL que-java's WorkerPool sends per batch at full prefetch, as pgbench would send it: the
   * lock walk that takes up to {@link #BATCH} locks (still one pg_try_advisory_lock per candidate), one re-check
   * of all their 4-column keys, one DELETE per job by its key (que-java commits each job's outcome
   * before the next job starts), and one unlock of them all. A floor for que-java's own shape
   * rather than for the protocol's one-job shape; it follows the core as of this benchmark's
   * writing, so a change of shape in the core must be mirrored here. A client whose walk locks
   * nothing stops, as in {@link #WORK_SCRIPT}.
   */
  static final String BATCH_SCRIPT = batchScript(BATCH, false);

  /**
   * The SQL of que-java's batched completion ({@code WorkerPool.Builder.batchedCompletion}) per batch
   * of up to {@code batch} jobs: the same walk and re-check, then ONE {@code DELETE} of every job of
   * the batch by its 4-column key (unnest, with RETURNING as the core checks each row), and one
   * unlock of them all: three commits per batch instead of one per job.
   */
  static String batchedCompletionScript(int batch) {
    return batchScript(batch, true);
  }

  private static String batchScript(int batch, boolean oneDelete) {
    StringBuilder sb = new StringBuilder("""
        WITH RECURSIVE walk AS (
          SELECT (c).*, pg_try_advisory_lock((c).job_id) AS got_lock, 0 AS locked_before
          FROM (SELECT c FROM que_jobs AS c
                WHERE c.queue = '' AND c.run_at <= now()
                ORDER BY c.priority, c.run_at, c.job_id
                LIMIT 1) AS first_step
          UNION ALL (
            SELECT (c).*, pg_try_advisory_lock((c).job_id) AS got_lock, locked_before
            FROM (SELECT (SELECT c FROM que_jobs AS c
                          WHERE c.queue = '' AND c.run_at <= now()
                            AND (c.priority, c.run_at, c.job_id) > (walk.priority, walk.run_at, walk.job_id)
                          ORDER BY c.priority, c.run_at, c.job_id
                          LIMIT 1) AS c,
                         walk.locked_before + walk.got_lock::int AS locked_before
                  FROM walk
                  WHERE walk.job_id IS NOT NULL AND walk.locked_before + walk.got_lock::int < %d
                  LIMIT 1) AS next_step
          )
        )
        SELECT count(*) AS n, array_agg(queue) AS queues, array_agg(priority) AS priorities,
               array_agg(run_at) AS run_ats, array_agg(job_id) AS ids
        FROM walk WHERE got_lock HAVING count(*) > 0
        \\gset
        SELECT count(*) AS still_there
        FROM que_jobs AS j
        JOIN unnest(:queues::text[], :priorities::smallint[], :run_ats::timestamptz[], :ids::bigint[])
               AS k(queue, priority, run_at, job_id)
          ON j.queue = k.queue AND j.priority = k.priority AND j.run_at = k.run_at AND j.job_id = k.job_id
        \\gset
        """.formatted(batch));
    if (oneDelete) {
      sb.append("WITH d AS (DELETE FROM que_jobs AS j USING unnest(:queues::text[],")
          .append(" :priorities::smallint[], :run_ats::timestamptz[], :ids::bigint[]) WITH ORDINALITY AS k(queue, priority, run_at, job_id, n)")
          .append(" WHERE j.queue = k.queue AND j.priority = k.priority AND j.run_at = k.run_at AND j.job_id = k.job_id")
          .append(" RETURNING k.n) SELECT count(*) AS deleted FROM d\n\\gset\n");
    }
    for (int i = 1; i <= (oneDelete ? 0 : batch); i++) {
      sb.append("\\if :n >= ").append(i).append('\n')
          .append("DELETE FROM que_jobs WHERE queue = (:queues::text[])[").append(i)
          .append("] AND priority = (:priorities::smallint[])[").append(i)
          .append("] AND run_at = (:run_ats::timestamptz[])[").append(i)
          .append("] AND job_id = (:ids::bigint[])[").append(i).append("];\n")
          .append("\\endif\n");
    }
    return sb.append("""
        SELECT count(*) FILTER (WHERE unlocked) AS unlocked
        FROM (SELECT pg_advisory_unlock(k) AS unlocked FROM unnest(:ids::bigint[]) AS k) AS u;
        """).toString();
  }

  /** What pgbench reported. {@code seconds} excludes the initial connection time, as pgbench's tps does. */
  record Result(long transactions, double tps, long failed, double cpuMs, String output) {
    double seconds() {
      return tps > 0 ? transactions / tps : Double.NaN;
    }
  }

  private final Path pgbench;
  private final int cores;

  Pgbench(Path pgbench, int cores) {
    this.pgbench = pgbench;
    this.cores = cores;
  }

  /**
   * Runs {@code script} with {@code clients} connections, either {@code perClient} transactions each
   * (when {@code perClient > 0}) or for {@code seconds}.
   */
  Result run(Endpoint db, String script, int clients, long perClient, double seconds) {
    Path file = Env.tempFile("que-bench-", script);
    List<String> cmd = new ArrayList<>(List.of(pgbench.toString(), "--no-vacuum", "--protocol=prepared",
        "--client=" + clients, "--jobs=" + Math.max(1, Math.min(clients, cores)),
        "--file=" + file, "--host=" + db.host(), "--port=" + db.port(), "--username=" + db.user()));
    if (perClient > 0) {
      cmd.add("--transactions=" + perClient);
    } else {
      cmd.add("--time=" + Math.max(1, Math.round(seconds)));
    }
    cmd.add(db.database());
    Map<String, String> env = new HashMap<>();
    env.put("PGAPPNAME", "que-bench-pgbench");
    if (db.password() != null) {
      env.put("PGPASSWORD", db.password());
    }
    Proc.Result r = Proc.run(Cpu.timed(cmd), null, env, Duration.ofMinutes(10));
    String out = r.stdout();
    if (r.exit() != 0 && !(r.exit() == 2 && onlyDrained(Cpu.withoutTimes(r.stderr())))) {
      throw new IllegalStateException("pgbench exited " + r.exit() + ": " + r.tail());
    }
    long tx = (long) number(out, "number of transactions actually processed: (\\d+)");
    double tps = number(out, "tps = ([0-9.]+) \\(without initial connection time\\)");
    Matcher f = Pattern.compile("number of failed transactions: (\\d+)").matcher(out);
    return new Result(tx, tps, f.find() ? Long.parseLong(f.group(1)) : 0, Cpu.childMs(r.stderr()), out);
  }

  /** True when every client that stopped early did so because it found no job (the queue was empty). */
  private static boolean onlyDrained(String stderr) {
    return stderr.lines().filter(l -> !l.isBlank())
        .allMatch(l -> l.endsWith("expected one row, got 0") || l.contains("Run was aborted"));
  }

  private static double number(String out, String regex) {
    Matcher m = Pattern.compile(regex).matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("cannot read /" + regex + "/ in pgbench's output:\n" + out);
    }
    return Double.parseDouble(m.group(1));
  }
}
