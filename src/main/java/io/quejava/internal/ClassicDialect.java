package io.quejava.internal;

import io.quejava.NewJob;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Schema 3: the table Ruby Que 0.6–0.14 and que-go share. A job is addressed by its full primary key
 * {@code (queue, priority, run_at, job_id)} in every statement after the lock, both because that is
 * how Ruby and Go do it (a job whose run_at moved is a different job to them) and because schema 3
 * has no index on job_id alone.
 *
 * <p>Table names are unqualified and resolve through the connection's search_path, as Ruby's and
 * Go's do.
 */
public final class ClassicDialect implements Dialect {
  private static final String COLUMNS =
      "queue, priority, run_at, job_id, job_class, args, error_count, last_error";

  private static final String INSERT =
      "INSERT INTO que_jobs (queue, priority, run_at, job_class, args)\n"
          + "VALUES (?, ?::smallint, coalesce(?::timestamptz, now()), ?, ?::json)\n"
          + "RETURNING job_id, run_at";

  /*
   * Batch insert: ids are drawn from the sequence per input row in a materialised CTE, so each id is
   * tied to its input position (n) whatever the sequence does meanwhile; the insert always runs, and
   * the outer query reads the (n, id, run_at) triples from the CTE.
   */
  private static final String INSERT_ALL =
      "WITH b AS MATERIALIZED (\n"
          + "  SELECT u.n, nextval((SELECT pg_get_serial_sequence('que_jobs', 'job_id')::regclass)) AS job_id, u.queue,\n"
          + "         u.priority::smallint AS priority, coalesce(u.run_at::timestamptz, now()) AS run_at,\n"
          + "         u.job_class, u.args::json AS args\n"
          + "  FROM unnest(?::text[], ?::int[], ?::text[], ?::text[], ?::text[])\n"
          + "       WITH ORDINALITY AS u(queue, priority, run_at, job_class, args, n)\n"
          + "), ins AS (\n"
          + "  INSERT INTO que_jobs (job_id, queue, priority, run_at, job_class, args)\n"
          + "  SELECT job_id, queue, priority, run_at, job_class, args FROM b ORDER BY n\n"
          + ")\n"
          + "SELECT n, job_id, run_at FROM b";

  /** The columns a large batch is written with by COPY (see {@link Inserts#copy}). */
  private static final Inserts.CopyShape COPY_SHAPE = new Inserts.CopyShape("job_id", Inserts.Extra.NONE, null);

  /** The lock walk (see {@link LockWalk}); a ready job is one whose run_at has come. */
  private static final String LOCK_WALK =
      LockWalk.sql("job_id", "c.queue = ? AND c.run_at <= now()", COLUMNS);

  /** The same walk, passing over the ids held by this process's other sessions. */
  private static final String LOCK_WALK_SKIPPING =
      LockWalk.sql("job_id", "c.queue = ? AND c.run_at <= now() AND NOT c.job_id = ANY(?::bigint[])", COLUMNS);

  private static final String KEYS =
      "unnest(?::text[], ?::smallint[], ?::timestamptz[], ?::bigint[]) WITH ORDINALITY AS k(queue, priority, run_at, job_id, n)";

  /** The batch re-check: each row by its exact 4-column key (an index probe of the primary key). */
  private static final String RECHECK_ALL =
      "SELECT k.n FROM que_jobs AS j JOIN " + KEYS + "\n"
          + "  ON j.queue = k.queue AND j.priority = k.priority AND j.run_at = k.run_at AND j.job_id = k.job_id";

  /** The batched delete: each row by its exact 4-column key; returns the positions deleted. */
  private static final String DELETE_ALL =
      "DELETE FROM que_jobs AS j USING " + KEYS + "\n"
          + "WHERE j.queue = k.queue AND j.priority = k.priority AND j.run_at = k.run_at AND j.job_id = k.job_id\n"
          + "RETURNING k.n";

  private static final String KEY = "queue = ? AND priority = ? AND run_at = ? AND job_id = ?";

  private static final String RECHECK = "SELECT 1 FROM que_jobs WHERE " + KEY;

  private static final String DELETE = "DELETE FROM que_jobs WHERE " + KEY;

  private static final String SET_ERROR =
      "UPDATE que_jobs\n"
          + "SET error_count = error_count + 1,\n"
          + "    run_at = now() + ?::bigint * interval '1 second',\n"
          + "    last_error = coalesce(?, last_error)\n"
          + "WHERE " + KEY;

  private static final String UNLOCK = "SELECT pg_advisory_unlock(?::bigint)";

  @Override
  public int schemaVersion() {
    return 3;
  }

  @Override
  public String defaultQueue() {
    return "";
  }

  /** Schema 3 has neither kwargs nor data: refuse them rather than drop them silently. */
  static void check(NewJob job, String prefix) {
    if (job.kwargsJson().isPresent()) {
      throw new IllegalArgumentException(prefix + "kwargs: que_jobs is at schema 3 (Ruby Que 0.x, que-go), "
          + "which has no kwargs column (schema 6+, Que 2.x)");
    }
    if (!job.tags().isEmpty()) {
      throw new IllegalArgumentException(prefix + "tags: que_jobs is at schema 3 (Ruby Que 0.x, que-go), "
          + "which has no data column for tags (schema 4+)");
    }
  }

  @Override
  public JobRow insert(Connection c, NewJob job) throws SQLException {
    check(job, "");
    try (PreparedStatement ps = c.prepareStatement(INSERT)) {
      ps.setString(1, job.queueOr(defaultQueue()));
      ps.setInt(2, job.priority());
      if (job.runAt().isEmpty()) {
        ps.setNull(3, Types.TIMESTAMP_WITH_TIMEZONE);
      } else {
        ps.setObject(3, OffsetDateTime.ofInstant(job.runAt().get(), ZoneOffset.UTC));
      }
      ps.setString(4, job.jobClass());
      ps.setString(5, job.argsJson());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return inserted(job, rs.getLong(1), rs.getObject(2, OffsetDateTime.class));
      }
    }
  }

  @Override
  public List<JobRow> insertAll(Connection c, List<NewJob> jobs) throws SQLException {
    for (int i = 0; i < jobs.size(); i++) {
      check(jobs.get(i), "jobs[" + i + "].");
    }
    if (Inserts.copies(c, jobs)) {
      return Inserts.copy(c, jobs, defaultQueue(), COPY_SHAPE, this::inserted);
    }
    List<Array> arrays = List.of();
    try (PreparedStatement ps = c.prepareStatement(INSERT_ALL)) {
      arrays = Inserts.bind(c, ps, jobs, defaultQueue(), Inserts.Extra.NONE);
      return Inserts.read(ps, jobs, this::inserted);
    } finally {
      Inserts.free(arrays);
    }
  }

  @Override
  public JobRow lockNext(Session s, String queue) throws SQLException {
    List<JobRow> rows = lockBatch(s, queue, 1);
    return rows.isEmpty() ? null : rows.get(0);
  }

  @Override
  public List<JobRow> lockBatch(Session s, String queue, int max) throws SQLException {
    return lockBatch(s, queue, max, LockWalk.NO_IDS);
  }

  @Override
  public List<JobRow> lockBatch(Session s, String queue, int max, long[] skip) throws SQLException {
    return LockWalk.run(s, LOCK_WALK, LOCK_WALK_SKIPPING, queue, null, skip, max, ClassicDialect::read);
  }

  @Override
  public boolean[] recheckAll(Session s, List<JobRow> jobs) throws SQLException {
    PreparedStatement ps = s.prepare(RECHECK_ALL);
    Array[] arrays = bindKeys(s.connection(), ps, jobs);
    try {
      boolean[] ok = new boolean[jobs.size()];
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ok[(int) rs.getLong(1) - 1] = true;
        }
      }
      return ok;
    } finally {
      for (Array a : arrays) {
        a.free();
      }
    }
  }

  /** Binds the 4-column keys of {@code jobs} as four arrays, parameters 1 to 4. */
  private static Array[] bindKeys(Connection c, PreparedStatement ps, List<JobRow> jobs) throws SQLException {
    int n = jobs.size();
    String[] queues = new String[n];
    Short[] priorities = new Short[n];
    String[] runAts = new String[n];
    Long[] ids = new Long[n];
    for (int i = 0; i < n; i++) {
      JobRow j = jobs.get(i);
      queues[i] = j.queue();
      priorities[i] = (short) j.priority();
      runAts[i] = Text.pgTimestamp(j.runAt());
      ids[i] = j.id();
    }
    Array[] arrays = {
      c.createArrayOf("text", queues), c.createArrayOf("int2", priorities),
      c.createArrayOf("text", runAts), c.createArrayOf("int8", ids)
    };
    for (int i = 0; i < arrays.length; i++) {
      ps.setArray(i + 1, arrays[i]);
    }
    return arrays;
  }

  @Override
  public int unlockAll(Session s, long[] ids) throws SQLException {
    return unlockAllOn(s, ids);
  }

  /** The batch unlock both dialects use. */
  static int unlockAllOn(Session s, long[] ids) throws SQLException {
    Long[] boxed = new Long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      boxed[i] = ids[i];
    }
    PreparedStatement ps = s.prepare(LockWalk.UNLOCK_ALL);
    Array a = s.connection().createArrayOf("int8", boxed);
    try {
      ps.setArray(1, a);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    } finally {
      a.free();
    }
  }

  @Override
  public boolean recheck(Session s, JobRow job) throws SQLException {
    PreparedStatement ps = s.prepare(RECHECK);
    bindKey(ps, 1, job);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  @Override
  public int delete(Session s, JobRow job) throws SQLException {
    PreparedStatement ps = s.prepare(DELETE);
    bindKey(ps, 1, job);
    return ps.executeUpdate();
  }

  @Override
  public boolean[] deleteAll(Session s, List<JobRow> jobs) throws SQLException {
    PreparedStatement ps = s.prepare(DELETE_ALL);
    Array[] arrays = bindKeys(s.connection(), ps, jobs);
    try {
      boolean[] deleted = new boolean[jobs.size()];
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          deleted[(int) rs.getLong(1) - 1] = true;
        }
      }
      return deleted;
    } finally {
      for (Array a : arrays) {
        a.free();
      }
    }
  }

  @Override
  public int setError(Session s, JobRow job, Duration delay, ErrorText error) throws SQLException {
    PreparedStatement ps = s.prepare(SET_ERROR);
    ps.setLong(1, wholeSeconds(delay));
    if (error.message() == null) {
      ps.setNull(2, Types.VARCHAR);
    } else {
      ps.setString(2, error.backtrace() == null ? error.message() : error.message() + "\n" + error.backtrace());
    }
    bindKey(ps, 3, job);
    return ps.executeUpdate();
  }

  /** Whole seconds, rounded up (Ruby 0.x and que-go cast the delay to bigint). */
  static long wholeSeconds(Duration d) {
    return d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
  }

  @Override
  public ErrorText describe(Throwable failure) {
    return new ErrorText(Text.classicLastError(failure), null);
  }

  @Override
  public ErrorText describe(String message) {
    return new ErrorText(Text.stripNul(message), null);
  }

  @Override
  public boolean hasOutcomeColumns() {
    return false;
  }

  @Override
  public int finish(Session s, JobRow job) {
    throw new UnsupportedOperationException(
        "finish: schema 3 (Ruby Que 0.x, que-go) has no finished_at column; delete the job instead");
  }

  @Override
  public int expire(Session s, JobRow job) {
    throw new UnsupportedOperationException(
        "expire: schema 3 (Ruby Que 0.x, que-go) has no expired_at column; use the deadletter extension");
  }

  @Override
  public boolean unlock(Session s, long id) throws SQLException {
    PreparedStatement ps = s.prepare(UNLOCK);
    ps.setLong(1, id);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  private static void bindKey(PreparedStatement ps, int from, JobRow job) throws SQLException {
    ps.setString(from, job.queue());
    ps.setShort(from + 1, (short) job.priority());
    ps.setObject(from + 2, job.runAt());
    ps.setLong(from + 3, job.id());
  }

  /** The row just inserted: the values sent, plus the id and run_at the database chose. */
  private JobRow inserted(NewJob job, long id, OffsetDateTime runAt) {
    return new JobRow(id, job.queueOr(defaultQueue()), job.priority(), runAt, job.jobClass(), job.argsJson(), 0, null);
  }

  private static JobRow read(ResultSet rs) throws SQLException {
    return new JobRow(
        rs.getLong("job_id"),
        rs.getString("queue"),
        rs.getInt("priority"),
        rs.getObject("run_at", OffsetDateTime.class),
        rs.getString("job_class"),
        rs.getString("args"),
        rs.getInt("error_count"),
        rs.getString("last_error"));
  }
}
