package io.quejava.internal;

import io.quejava.NewJob;
import io.quejava.QueException;
import io.quejava.UniqueOptions;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Enqueue of jobs of which some are unique (the {@code unique} extension's table
 * {@code que_unique_jobs}), for every schema. One statement claims the keys and inserts the jobs
 * whose key was free (and every job without a key); keys that were taken are then looked at in one
 * more statement, which says for each whether its holder counts (a duplicate: the holder's row is
 * returned) or not (lapsed period, a state that does not count, a holder that is gone: the key is
 * taken over and the claim runs again). Nothing is checked before it is inserted: the primary key of
 * {@code que_unique_jobs} decides, so concurrent enqueues of one key end with one job.
 *
 * <p>Runs in the connection's transaction; in autocommit, in one transaction of its own. Statements
 * rely on READ COMMITTED's fresh snapshot per statement; under REPEATABLE READ or SERIALIZABLE a
 * concurrent claim of the same key fails with a serialization error (SQLSTATE 40001), to be retried
 * by the caller as any such error.
 */
public final class UniqueInsert {
  /** How many times one job's claim runs again after its key was taken over or released meanwhile. */
  static final int MAX_ROUNDS = 10;


  private static final String TAKE_OVER = "DELETE FROM que_unique_jobs WHERE unique_key = ? AND job_id = ?";

  /** One job's result: the row inserted, or the row of the job that holds its key. */
  public record Outcome(JobRow row, boolean duplicate) {}

  private final Dialect dialect;
  private final boolean modern;
  private final int schemaVersion;
  private final Integer jobSchemaVersion;
  private final String claim;
  private final String claimOne;
  private final String lookupColumns;

  public UniqueInsert(Dialect dialect) {
    this.dialect = dialect;
    this.schemaVersion = dialect.schemaVersion();
    this.modern = schemaVersion >= 4;
    this.jobSchemaVersion = dialect instanceof ModernDialect m ? m.jobSchemaVersion() : null;
    boolean hasKwargs = schemaVersion >= 6;
    boolean hasJsv = jobSchemaVersion != null;
    String id = modern ? "id" : "job_id";
    String jsonType = modern ? "jsonb" : "json";
    String extraCols = modern ? ", data" + (hasKwargs ? ", kwargs" : "") : "";
    String extraCast = modern ? ", u.data::jsonb AS data" + (hasKwargs ? ", u.kwargs::jsonb AS kwargs" : "") : "";
    String extraArrays = modern ? ", ?::text[]" + (hasKwargs ? ", ?::text[]" : "") : "";
    // One unnest carries the jobs and their keys: no join between CTEs, whose row estimates would
    // multiply (and push the plan over jit_above_cost, where JIT compilation costs more than the work).
    this.claim = "WITH b AS MATERIALIZED (\n"
        + "  SELECT u.n, nextval((SELECT pg_get_serial_sequence('que_jobs', '" + id + "')::regclass)) AS id, u.queue,\n"
        + "         u.priority::smallint AS priority, coalesce(u.run_at::timestamptz, now()) AS run_at,\n"
        + "         u.job_class, u.args::" + jsonType + " AS args" + extraCast + ",\n"
        + "         u.unique_key COLLATE \"C\" AS unique_key, now() + u.period * interval '1 microsecond' AS expires_at\n"
        + "  FROM unnest(?::text[], ?::int[], ?::text[], ?::text[], ?::text[]" + extraArrays + ", ?::text[], ?::bigint[])\n"
        + "       WITH ORDINALITY AS u(queue, priority, run_at, job_class, args" + extraCols + ", unique_key, period, n)\n"
        + "), claimed AS (\n"
        // The first job of each key in the batch claims it; keys in key order, so that two batches
        // claiming the same keys wait for each other instead of deadlocking.
        + "  INSERT INTO que_unique_jobs (unique_key, job_id, job_class, queue, priority, run_at, expires_at)\n"
        + "  SELECT DISTINCT ON (unique_key) unique_key, id, job_class, queue, priority, run_at, expires_at\n"
        + "  FROM b WHERE unique_key IS NOT NULL ORDER BY unique_key, n\n"
        + "  ON CONFLICT (unique_key) DO NOTHING\n"
        + "  RETURNING job_id\n"
        + "), ins AS (\n"
        + "  INSERT INTO que_jobs (" + id + ", queue, priority, run_at, job_class, args" + extraCols
        + (hasJsv ? ", job_schema_version" : "") + ")\n"
        + "  SELECT id, queue, priority, run_at, job_class, args" + extraCols + (hasJsv ? ", ?::integer" : "") + "\n"
        + "  FROM b WHERE unique_key IS NULL OR id IN (SELECT job_id FROM claimed)\n"
        + "  ORDER BY n\n"
        + "  RETURNING " + id + "\n"
        + ")\n"
        + "SELECT n, id, run_at, id IN (SELECT " + id + " FROM ins) FROM b";
    // The same for one job with a key, with plain parameters: the common single enqueue. No row back
    // means the key was taken.
    this.claimOne = "WITH claimed AS (\n"
        + "  INSERT INTO que_unique_jobs (unique_key, job_id, job_class, queue, priority, run_at, expires_at)\n"
        + "  VALUES (?, nextval((SELECT pg_get_serial_sequence('que_jobs', '" + id + "')::regclass)), ?, ?, ?::smallint,\n"
        + "          coalesce(?::timestamptz, now()), now() + ?::bigint * interval '1 microsecond')\n"
        + "  ON CONFLICT (unique_key) DO NOTHING\n"
        + "  RETURNING job_id, job_class, queue, priority, run_at\n"
        + ")\n"
        + "INSERT INTO que_jobs (" + id + ", queue, priority, run_at, job_class, args" + extraCols
        + (hasJsv ? ", job_schema_version" : "") + ")\n"
        + "SELECT job_id, queue, priority, run_at, job_class, ?::" + jsonType
        + (modern ? ", ?::jsonb" + (hasKwargs ? ", ?::jsonb" : "") : "") + (hasJsv ? ", ?::integer" : "") + " FROM claimed\n"
        + "RETURNING " + id + ", run_at";
    this.lookupColumns = modern
        ? "j.id, j.queue, j.priority, j.run_at, j.job_class, j.args, j.error_count, j.last_error_message,"
            + " j.last_error_backtrace, j.data" + (hasKwargs ? ", j.kwargs" : "") + (hasJsv ? ", j.job_schema_version" : "")
            + ", (j.finished_at IS NOT NULL OR j.expired_at IS NOT NULL) AS done"
        : "j.job_id, j.queue, j.priority, j.run_at, j.job_class, j.args, j.error_count, j.last_error, false AS done";
  }

  /**
   * The holder of each key, its state and its row. The row is found by id on schema 4-7 and by the
   * full key kept beside the key on schema 3 (which has no index on job_id alone). {@code running}
   * reads the advisory locks of this database only when some job asked for it.
   */
  private String lookup(boolean withRunning) {
    String join = modern
        ? "j.id = u.job_id"
        : "j.queue = u.queue AND j.priority = u.priority AND j.run_at = u.run_at AND j.job_id = u.job_id";
    String running = withRunning
        ? "EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted"
            + " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            + " AND ((l.classid::bigint << 32) | l.objid::bigint) = u.job_id)"
        : "false";
    return "SELECT u.unique_key, u.job_id, u.expires_at IS NOT NULL AND u.expires_at <= now() AS lapsed,\n"
        + "  " + running + " AS running, u.error_count > 0 AS failing, u.run_at > now() AS scheduled,\n"
        + "  j." + (modern ? "id" : "job_id") + " IS NOT NULL AS present, " + lookupColumns + "\n"
        // A join with the unnested keys, not "= ANY(?)": once the driver prepares the statement, a
        // generic plan cannot hash a parameter array and would compare every row with every key.
        + "FROM unnest(?::text[]) AS k(unique_key) JOIN que_unique_jobs u ON u.unique_key = k.unique_key\n"
        + "LEFT JOIN que_jobs j ON " + join;
  }

  /**
   * Inserts the jobs (already rendered), each unique one only if its key is free or its holder does
   * not count; returns one outcome per job, in order. {@code batch}: on schema 7 the inserts run
   * with {@code que.skip_notify} set, as Que's bulk insert and the plain {@code enqueueAll} do.
   */
  public List<Outcome> insert(Connection c, List<NewJob> jobs, boolean batch) throws SQLException {
    String defaultQueue = dialect.defaultQueue();
    String[] keys = new String[jobs.size()];
    for (int i = 0; i < jobs.size(); i++) {
      NewJob job = jobs.get(i);
      String prefix = jobs.size() == 1 && !batch ? "" : "jobs[" + i + "].";
      if (modern) {
        ((ModernDialect) dialect).check(job, prefix);
      } else {
        ClassicDialect.check(job, prefix);
      }
      if (job.unique().isPresent()) {
        keys[i] = UniqueKeys.keyOf(job, job.queueOr(defaultQueue));
      }
    }
    // One job in autocommit needs no transaction: the claim (key and job) is one statement, and the
    // look at a taken key and a takeover are each safe on their own. A batch is all or none.
    boolean own = c.getAutoCommit() && (batch || jobs.size() > 1);
    if (own) {
      c.setAutoCommit(false);
    }
    boolean done = false;
    try {
      boolean skipNotify = batch && schemaVersion >= 7;
      String previous = skipNotify ? SkipNotify.on(c) : null;
      List<Outcome> out = run(c, jobs, keys);
      if (skipNotify) {
        SkipNotify.restore(c, previous);
      }
      if (own) {
        c.commit();
      }
      done = true;
      return out;
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState()) && e.getMessage() != null && e.getMessage().contains("que_unique_jobs")) {
        throw new QueException("unique jobs need the unique extension's table que_unique_jobs: install it with"
            + " io.quejava.ext.unique.UniqueJobs.install(dataSource)", e);
      }
      throw e;
    } finally {
      if (own) {
        if (!done) {
          c.rollback();
        }
        c.setAutoCommit(true);
      }
    }
  }

  private List<Outcome> run(Connection c, List<NewJob> jobs, String[] keys) throws SQLException {
    Outcome[] out = new Outcome[jobs.size()];
    List<Integer> pending = new ArrayList<>(jobs.size());
    for (int i = 0; i < jobs.size(); i++) {
      pending.add(i);
    }
    for (int round = 1; !pending.isEmpty(); round++) {
      if (round > MAX_ROUNDS) {
        throw new QueException("unique enqueue: keys " + distinctKeys(pending, keys)
            + " changed hands " + MAX_ROUNDS + " times in a row; giving up");
      }
      List<NewJob> batch = new ArrayList<>(pending.size());
      String[] batchKeys = new String[pending.size()];
      Long[] periods = new Long[pending.size()];
      for (int p = 0; p < pending.size(); p++) {
        int i = pending.get(p);
        batch.add(jobs.get(i));
        batchKeys[p] = keys[i];
        periods[p] = keys[i] == null ? null
            : jobs.get(i).unique().flatMap(UniqueOptions::period).map(UniqueInsert::micros).orElse(null);
      }
      List<ClaimRow> claimed = claim(c, batch, batchKeys, periods);
      // Keys won in this round: later jobs of the batch with the same key are duplicates of the winner.
      Map<String, JobRow> wonNow = new HashMap<>();
      Map<String, List<Integer>> taken = new LinkedHashMap<>();
      for (int p = 0; p < claimed.size(); p++) {
        ClaimRow r = claimed.get(p);
        int i = pending.get(p);
        if (r.inserted()) {
          JobRow row = inserted(jobs.get(i), r.id(), r.runAt());
          out[i] = new Outcome(row, false);
          if (keys[i] != null) {
            wonNow.put(keys[i], row);
          }
        }
      }
      List<Integer> next = new ArrayList<>();
      for (int p = 0; p < claimed.size(); p++) {
        int i = pending.get(p);
        if (out[i] != null) {
          continue;
        }
        JobRow winner = wonNow.get(keys[i]);
        if (winner != null) {
          out[i] = new Outcome(winner, true);
        } else {
          taken.computeIfAbsent(keys[i], k -> new ArrayList<>()).add(i);
        }
      }
      if (!taken.isEmpty()) {
        resolve(c, jobs, taken, out, next);
      }
      pending = next;
    }
    return List.of(out);
  }

  /**
   * For keys held by jobs outside this batch: a holder that counts makes every job of its key a
   * duplicate of it; a holder that does not (or none) gives up the key and those jobs go to {@code next}.
   */
  private void resolve(Connection c, List<NewJob> jobs, Map<String, List<Integer>> taken, Outcome[] out,
      List<Integer> next) throws SQLException {
    boolean withRunning = false;
    for (List<Integer> idx : taken.values()) {
      UniqueOptions u = jobs.get(idx.get(0)).unique().orElseThrow();
      withRunning |= !u.countsEveryState();
    }
    Map<String, Holder> holders = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(lookup(withRunning))) {
      Array arr = c.createArrayOf("text", taken.keySet().toArray(new String[0]));
      ps.setArray(1, arr);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Holder h = new Holder(rs.getLong("job_id"), rs.getBoolean("lapsed"), rs.getBoolean("running"),
              rs.getBoolean("failing"), rs.getBoolean("scheduled"),
              rs.getBoolean("present") && !rs.getBoolean("done") ? readJob(rs) : null);
          holders.put(rs.getString("unique_key"), h);
        }
      } finally {
        arr.free();
      }
    }
    List<Object[]> takeOvers = new ArrayList<>();
    for (Map.Entry<String, List<Integer>> e : taken.entrySet()) {
      Holder h = holders.get(e.getKey());
      List<Integer> idx = e.getValue();
      // The first job of the key decides for all of them, as in the claim.
      UniqueOptions u = jobs.get(idx.get(0)).unique().orElseThrow();
      if (h != null && h.row() != null && !h.lapsed() && u.countedStates().contains(h.state())) {
        for (int i : idx) {
          out[i] = new Outcome(h.row(), true);
        }
        continue;
      }
      if (h != null) {
        // Lapsed, in a state that does not count, or its job is gone (finished or expired on 4-7
        // without the trigger having run, or removed with triggers off): the key is free for us.
        takeOvers.add(new Object[] {e.getKey(), h.jobId()});
      }
      next.addAll(idx);
    }
    if (!takeOvers.isEmpty()) {
      try (PreparedStatement ps = c.prepareStatement(TAKE_OVER)) {
        for (Object[] t : takeOvers) {
          ps.setString(1, (String) t[0]);
          ps.setLong(2, (Long) t[1]);
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }
    next.sort(null);
  }

  private record ClaimRow(long id, OffsetDateTime runAt, boolean inserted) {}

  private record Holder(long jobId, boolean lapsed, boolean running, boolean failing, boolean scheduled, JobRow row) {
    UniqueOptions.State state() {
      if (running) {
        return UniqueOptions.State.RUNNING;
      }
      if (failing) {
        return UniqueOptions.State.FAILING;
      }
      return scheduled ? UniqueOptions.State.SCHEDULED : UniqueOptions.State.READY;
    }
  }

  private List<ClaimRow> claim(Connection c, List<NewJob> jobs, String[] keys, Long[] periods) throws SQLException {
    if (jobs.size() == 1 && keys[0] != null) {
      return List.of(claimOne(c, jobs.get(0), keys[0], periods[0]));
    }
    List<Array> arrays = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(claim)) {
      arrays.addAll(Inserts.bind(c, ps, jobs, dialect.defaultQueue(),
          !modern ? Inserts.Extra.NONE : schemaVersion >= 6 ? Inserts.Extra.DATA_AND_KWARGS : Inserts.Extra.DATA));
      int i = arrays.size() + 1;
      Array k = c.createArrayOf("text", keys);
      Array p = c.createArrayOf("int8", periods);
      arrays.add(k);
      arrays.add(p);
      ps.setArray(i++, k);
      ps.setArray(i++, p);
      if (jobSchemaVersion != null) {
        ps.setInt(i, jobSchemaVersion);
      }
      ClaimRow[] rows = new ClaimRow[jobs.size()];
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows[(int) rs.getLong(1) - 1] = new ClaimRow(rs.getLong(2), rs.getObject(3, OffsetDateTime.class), rs.getBoolean(4));
        }
      }
      return List.of(rows);
    } finally {
      Inserts.free(arrays);
    }
  }

  private ClaimRow claimOne(Connection c, NewJob job, String key, Long period) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(claimOne)) {
      int i = 1;
      ps.setString(i++, key);
      ps.setString(i++, job.jobClass());
      ps.setString(i++, job.queueOr(dialect.defaultQueue()));
      ps.setInt(i++, job.priority());
      if (job.runAt().isEmpty()) {
        ps.setNull(i++, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
      } else {
        ps.setObject(i++, OffsetDateTime.ofInstant(job.runAt().get(), java.time.ZoneOffset.UTC));
      }
      if (period == null) {
        ps.setNull(i++, java.sql.Types.BIGINT);
      } else {
        ps.setLong(i++, period);
      }
      ps.setString(i++, job.argsJson());
      if (modern) {
        ps.setString(i++, job.dataJson());
        if (schemaVersion >= 6) {
          ps.setString(i++, job.kwargsJson().orElse("{}"));
        }
      }
      if (jobSchemaVersion != null) {
        ps.setInt(i, jobSchemaVersion);
      }
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return new ClaimRow(rs.getLong(1), rs.getObject(2, OffsetDateTime.class), true);
        }
        return new ClaimRow(0, null, false);
      }
    }
  }

  /** The row just inserted: the values sent, plus the id and run_at the database chose. */
  private JobRow inserted(NewJob job, long id, OffsetDateTime runAt) {
    String queue = job.queueOr(dialect.defaultQueue());
    if (!modern) {
      return new JobRow(id, queue, job.priority(), runAt, job.jobClass(), job.argsJson(), 0, null);
    }
    return new JobRow(id, queue, job.priority(), runAt, job.jobClass(), job.argsJson(), 0, null, null,
        schemaVersion >= 6 ? job.kwargsJson().orElse("{}") : null, job.dataJson(), jobSchemaVersion);
  }

  private JobRow readJob(ResultSet rs) throws SQLException {
    if (!modern) {
      return new JobRow(rs.getLong("job_id"), rs.getString("queue"), rs.getInt("priority"),
          rs.getObject("run_at", OffsetDateTime.class), rs.getString("job_class"), rs.getString("args"),
          rs.getInt("error_count"), rs.getString("last_error"));
    }
    return new JobRow(rs.getLong("id"), rs.getString("queue"), rs.getInt("priority"),
        rs.getObject("run_at", OffsetDateTime.class), rs.getString("job_class"), rs.getString("args"),
        rs.getInt("error_count"), rs.getString("last_error_message"), rs.getString("last_error_backtrace"),
        schemaVersion >= 6 ? rs.getString("kwargs") : null, rs.getString("data"),
        jobSchemaVersion != null ? (Integer) rs.getInt("job_schema_version") : null);
  }

  private static long micros(Duration d) {
    return Math.max(1, Math.multiplyExact(d.getSeconds(), 1_000_000L) + d.getNano() / 1000);
  }

  private static List<String> distinctKeys(List<Integer> pending, String[] keys) {
    List<String> out = new ArrayList<>();
    for (int i : pending) {
      if (keys[i] != null && !out.contains(keys[i]) && out.size() < 5) {
        out.add(keys[i]);
      }
    }
    return out;
  }
}
