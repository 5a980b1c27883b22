package io.quejava.internal;

import io.quejava.NewJob;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Schemas 4 to 7: the table Ruby Que 1.x and 2.x use. A job is addressed by {@code id}; finished and
 * expired rows stay in the table and are never locked again.
 *
 * <p>Every job lock is a session-level {@code pg_try_advisory_lock(id)} taken once per candidate by a
 * recursive walk, exactly the lock Ruby's lockers take, so Ruby and Java exclude each other. The
 * re-check is stricter than Ruby's: besides {@code finished_at IS NULL AND expired_at IS NULL} it
 * requires {@code run_at <= now()}, the error count read at lock time and the job schema version, so
 * a job another process errored (and moved into its backoff) after our walk saw it is not run early.
 *
 * <p>On schema 5+ a worker only takes jobs of its own job schema version (1: Que 1.3/1.4's argument
 * layout; 2: Que 2.x's args plus kwargs), as Ruby's pollers do, and writes that version on enqueue.
 *
 * <p>On schema 7 the outcome statements (delete, finish, expire, error and retry) run with
 * {@code que.skip_notify} set for their own transaction only, so Que's deprecated
 * {@code que_state_notify} trigger sends nothing on {@code que_state} for them (nothing in Que
 * listens there, and a transaction that sends a NOTIFY commits one at a time with every other
 * notifying transaction). In autocommit the setting is made inside the statement, before any row
 * is touched (the AFTER ROW trigger's WHEN is evaluated as each row changes), and ends with the
 * statement's implicit transaction. Inside a caller's open transaction the same statement also
 * restores the previous value once the rows are written, so the caller's later inserts still fire
 * {@code que_job_notify}. Schemas 4 to 6 have no such switch: there every outcome notifies.
 *
 * <p>Table names are unqualified and resolve through the connection's search_path (Ruby hard-codes
 * {@code public}).
 */
public final class ModernDialect implements Dialect {
  /** Que's limits (its CHECK constraints). */
  static final int MAX_QUEUE = 100;
  static final int MAX_JOB_CLASS = 200;
  static final int MAX_MESSAGE = 500;
  static final int MAX_BACKTRACE = 10_000;
  /** ActiveJob's wrapper: Que measures args->0->>'job_class' instead of its name. */
  static final String ACTIVE_JOB_WRAPPER = "ActiveJob::QueueAdapters::QueAdapter::JobWrapper";

  private final int schemaVersion;
  /** The job_schema_version written and polled; null on schema 4 (no such column). */
  private final Integer jobSchemaVersion;
  private final String columns;
  private final String insert;
  private final String insertAll;
  private final String lockWalk;
  private final String lockWalkSkipping;
  private final String recheckAll;
  private final String deleteAll;
  private final String recheck;
  /** The outcome statements: plain on 4 to 6 (or when asked to notify), quiet on 7. */
  private final Outcome delete;
  private final Outcome finish;
  private final Outcome expire;
  private final Outcome setError;

  /**
   * @param schemaVersion 4 to 7
   * @param jobSchemaVersion 1 or 2 on schema 6/7 (ignored below: schema 5 only knows 1, schema 4 none)
   */
  public ModernDialect(int schemaVersion, int jobSchemaVersion) {
    this(schemaVersion, jobSchemaVersion, false);
  }

  // The INSERTs, one per shape of the table. Parameters, in order: queue, priority, run_at (NULL for
  // the database's now()), job_class, args, data, then kwargs (6-7) and job_schema_version (5-7).
  private static final String INSERT_4 = """
      INSERT INTO que_jobs (queue, priority, run_at, job_class, args, data)
      VALUES (?, ?::smallint, coalesce(?::timestamptz, now()), ?, ?::jsonb, ?::jsonb)
      RETURNING id, run_at""";
  private static final String INSERT_5 = """
      INSERT INTO que_jobs (queue, priority, run_at, job_class, args, data, job_schema_version)
      VALUES (?, ?::smallint, coalesce(?::timestamptz, now()), ?, ?::jsonb, ?::jsonb, ?::integer)
      RETURNING id, run_at""";
  private static final String INSERT_6_7 = """
      INSERT INTO que_jobs (queue, priority, run_at, job_class, args, data, kwargs, job_schema_version)
      VALUES (?, ?::smallint, coalesce(?::timestamptz, now()), ?, ?::jsonb, ?::jsonb, ?::jsonb, ?::integer)
      RETURNING id, run_at""";

  // The batch INSERTs: one array per column (see Inserts), ids drawn per input row in a materialised
  // CTE and tied to its position n, so each returned id belongs to its job whatever the insert order.
  // Parameters: the arrays queue, priority, run_at, job_class, args, data, then kwargs (6-7), then the
  // one job_schema_version (5-7).
  private static final String INSERT_ALL_4 = """
      WITH b AS MATERIALIZED (
        SELECT u.n, nextval((SELECT pg_get_serial_sequence('que_jobs', 'id')::regclass)) AS id, u.queue,
               u.priority::smallint AS priority, coalesce(u.run_at::timestamptz, now()) AS run_at,
               u.job_class, u.args::jsonb AS args, u.data::jsonb AS data
        FROM unnest(?::text[], ?::int[], ?::text[], ?::text[], ?::text[], ?::text[])
             WITH ORDINALITY AS u(queue, priority, run_at, job_class, args, data, n)
      ), ins AS (
        INSERT INTO que_jobs (id, queue, priority, run_at, job_class, args, data)
        SELECT id, queue, priority, run_at, job_class, args, data FROM b ORDER BY n
      )
      SELECT n, id, run_at FROM b""";
  private static final String INSERT_ALL_5 = """
      WITH b AS MATERIALIZED (
        SELECT u.n, nextval((SELECT pg_get_serial_sequence('que_jobs', 'id')::regclass)) AS id, u.queue,
               u.priority::smallint AS priority, coalesce(u.run_at::timestamptz, now()) AS run_at,
               u.job_class, u.args::jsonb AS args, u.data::jsonb AS data
        FROM unnest(?::text[], ?::int[], ?::text[], ?::text[], ?::text[], ?::text[])
             WITH ORDINALITY AS u(queue, priority, run_at, job_class, args, data, n)
      ), ins AS (
        INSERT INTO que_jobs (id, queue, priority, run_at, job_class, args, data, job_schema_version)
        SELECT id, queue, priority, run_at, job_class, args, data, ?::integer FROM b ORDER BY n
      )
      SELECT n, id, run_at FROM b""";
  private static final String INSERT_ALL_6_7 = """
      WITH b AS MATERIALIZED (
        SELECT u.n, nextval((SELECT pg_get_serial_sequence('que_jobs', 'id')::regclass)) AS id, u.queue,
               u.priority::smallint AS priority, coalesce(u.run_at::timestamptz, now()) AS run_at,
               u.job_class, u.args::jsonb AS args, u.data::jsonb AS data, u.kwargs::jsonb AS kwargs
        FROM unnest(?::text[], ?::int[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
             WITH ORDINALITY AS u(queue, priority, run_at, job_class, args, data, kwargs, n)
      ), ins AS (
        INSERT INTO que_jobs (id, queue, priority, run_at, job_class, args, data, kwargs, job_schema_version)
        SELECT id, queue, priority, run_at, job_class, args, data, kwargs, ?::integer FROM b ORDER BY n
      )
      SELECT n, id, run_at FROM b""";

  /**
   * @param schemaVersion 4 to 7
   * @param jobSchemaVersion 1 or 2 on schema 6/7 (ignored below: schema 5 only knows 1, schema 4 none)
   * @param stateNotifications schema 7: whether outcome statements let Que's que_state_notify
   *     trigger send its job_change messages (false: they set que.skip_notify). Schemas 4 to 6
   *     always send them.
   */
  public ModernDialect(int schemaVersion, int jobSchemaVersion, boolean stateNotifications) {
    if (schemaVersion < 4 || schemaVersion > 7) {
      throw new IllegalArgumentException("schemaVersion: the modern dialect speaks 4 to 7, not " + schemaVersion);
    }
    if (jobSchemaVersion != 1 && jobSchemaVersion != 2) {
      throw new IllegalArgumentException("jobSchemaVersion: must be 1 (Que 1.3/1.4) or 2 (Que 2.x), got " + jobSchemaVersion);
    }
    this.schemaVersion = schemaVersion;
    this.jobSchemaVersion = schemaVersion == 4 ? null : schemaVersion == 5 ? 1 : jobSchemaVersion;
    boolean hasKwargs = schemaVersion >= 6;
    boolean hasJsv = this.jobSchemaVersion != null;

    this.columns = "id, queue, priority, run_at, job_class, args, error_count, last_error_message, "
        + "last_error_backtrace, data" + (hasKwargs ? ", kwargs" : "") + (hasJsv ? ", job_schema_version" : "");

    this.insert = schemaVersion == 4 ? INSERT_4 : schemaVersion == 5 ? INSERT_5 : INSERT_6_7;
    this.insertAll = schemaVersion == 4 ? INSERT_ALL_4 : schemaVersion == 5 ? INSERT_ALL_5 : INSERT_ALL_6_7;

    // The walk (see LockWalk): one probe of que_poll_idx per step, one lock call per row visited.
    this.lockWalk = LockWalk.sql("id",
        "c.queue = ? AND c.run_at <= now() AND c.finished_at IS NULL AND c.expired_at IS NULL"
            + (hasJsv ? " AND c.job_schema_version = ?" : ""),
        columns);
    this.lockWalkSkipping = LockWalk.sql("id",
        "c.queue = ? AND c.run_at <= now() AND c.finished_at IS NULL AND c.expired_at IS NULL"
            + (hasJsv ? " AND c.job_schema_version = ?" : "") + " AND NOT c.id = ANY(?::bigint[])",
        columns);
    this.recheckAll = "SELECT k.n FROM que_jobs AS j\n"
        + "JOIN unnest(?::bigint[], ?::int[]) WITH ORDINALITY AS k(id, error_count, n)"
        + " ON j.id = k.id AND j.error_count = k.error_count\n"
        + "WHERE j.finished_at IS NULL AND j.expired_at IS NULL AND j.run_at <= now()"
        + (hasJsv ? " AND j.job_schema_version = ?" : "");
    this.recheck = "SELECT 1 FROM que_jobs\n"
        + "WHERE id = ? AND finished_at IS NULL AND expired_at IS NULL AND run_at <= now() AND error_count = ?"
        + (hasJsv ? " AND job_schema_version = ?" : "");
    boolean quiet = schemaVersion >= 7 && !stateNotifications;
    // The batched delete runs in autocommit only: on schema 7 the same InitPlan as a single
    // outcome's sets que.skip_notify for the statement's own transaction.
    this.deleteAll = "DELETE FROM que_jobs AS j USING unnest(?::bigint[]) WITH ORDINALITY AS k(id, n)\n"
        + "WHERE j.id = k.id"
        + (quiet ? " AND (SELECT set_config('que.skip_notify', 'true', true)) = 'true'" : "")
        + "\nRETURNING k.n";
    this.delete = new Outcome(DELETE, quiet);
    this.finish = new Outcome(FINISH, quiet);
    this.expire = new Outcome(EXPIRE, quiet);
    this.setError = new Outcome(SET_ERROR, quiet);
  }

  /**
   * One outcome statement ({@code UPDATE}/{@code DELETE ... WHERE id = ?}, last parameter the id)
   * in the three shapes it runs in.
   *
   * <p>{@code autocommit}: the statement plus a condition on an uncorrelated sub-select that calls
   * {@code set_config('que.skip_notify', 'true', true)}. The planner makes it an InitPlan behind a
   * one-time filter, evaluated once before the scan returns its first row, so the setting is in
   * place when each row's AFTER trigger event is (or is not) queued; it lasts until the end of the
   * statement's implicit transaction.
   *
   * <p>{@code inTransaction}: the same inside a WITH that first reads the current value, and after
   * the rows are written (the final SELECT needs the row count, which needs the DELETE or UPDATE to
   * have run to completion) sets it back, so the setting never outlives the statement within the
   * caller's transaction. Returns one row: the row count.
   */
  private record Outcome(String plain, String autocommit, String inTransaction) {
    Outcome(String sql, boolean quiet) {
      this(sql,
          quiet ? sql + " AND (SELECT set_config('que.skip_notify', 'true', true)) = 'true'" : null,
          quiet ? "WITH quiet AS MATERIALIZED (\n"
              + "  SELECT current_setting('que.skip_notify', true) AS before, set_config('que.skip_notify', 'true', true)\n"
              + "), outcome AS (\n"
              + sql + " AND EXISTS (SELECT FROM quiet)\n"
              + "  RETURNING 1\n"
              + "), written AS MATERIALIZED (SELECT count(*) AS n FROM outcome)\n"
              + "SELECT written.n, set_config('que.skip_notify', coalesce(quiet.before, ''), true) FROM written, quiet"
              : null);
    }

    /** Runs it on the session, the parameters bound by {@code bind}; returns the row count. */
    int run(Session s, Binder bind) throws SQLException {
      if (autocommit == null) {
        PreparedStatement ps = s.prepare(plain);
        bind.bind(ps);
        return ps.executeUpdate();
      }
      if (!s.inTransaction()) {
        PreparedStatement ps = s.prepare(autocommit);
        bind.bind(ps);
        return ps.executeUpdate();
      }
      PreparedStatement ps = s.prepare(inTransaction);
      bind.bind(ps);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private interface Binder {
    void bind(PreparedStatement ps) throws SQLException;
  }

  private static final String DELETE = "DELETE FROM que_jobs WHERE id = ?";
  private static final String FINISH = "UPDATE que_jobs SET finished_at = now() WHERE id = ?";
  private static final String EXPIRE =
      "UPDATE que_jobs SET error_count = error_count + 1, expired_at = now() WHERE id = ?";
  private static final String SET_ERROR =
      "UPDATE que_jobs\n"
          + "SET error_count = error_count + 1,\n"
          + "    run_at = now() + ?::float8 * interval '1 second',\n"
          + "    last_error_message = left(?::text, 500),\n"
          + "    last_error_backtrace = left(?::text, 10000)\n"
          + "WHERE id = ?";
  private static final String UNLOCK = "SELECT pg_advisory_unlock(?::bigint)";

  @Override
  public int schemaVersion() {
    return schemaVersion;
  }

  @Override
  public String defaultQueue() {
    return "default";
  }

  /** The job schema version this dialect writes and polls, or null on schema 4. */
  public Integer jobSchemaVersion() {
    return jobSchemaVersion;
  }

  /** Rejects, before the database does, what Que's CHECK constraints and columns would refuse. */
  void check(NewJob job, String prefix) {
    String queue = job.queueOr(defaultQueue());
    if (queue.codePointCount(0, queue.length()) > MAX_QUEUE) {
      throw new IllegalArgumentException(prefix + "queue: at most " + MAX_QUEUE + " characters on schema "
          + schemaVersion + ", got " + queue.codePointCount(0, queue.length()));
    }
    String jobClass = job.jobClass();
    if (!ACTIVE_JOB_WRAPPER.equals(jobClass) && jobClass.codePointCount(0, jobClass.length()) > MAX_JOB_CLASS) {
      throw new IllegalArgumentException(prefix + "jobClass: at most " + MAX_JOB_CLASS + " characters on schema "
          + schemaVersion + ", got " + jobClass.codePointCount(0, jobClass.length()));
    }
    if (job.kwargsJson().isPresent() && schemaVersion < 6) {
      throw new IllegalArgumentException(prefix + "kwargs: que_jobs is at schema " + schemaVersion
          + ", which has no kwargs column (schema 6+, Que 2.x)");
    }
  }

  @Override
  public JobRow insert(Connection c, NewJob job) throws SQLException {
    check(job, "");
    try (PreparedStatement ps = c.prepareStatement(insert)) {
      int i = 1;
      ps.setString(i++, job.queueOr(defaultQueue()));
      ps.setInt(i++, job.priority());
      if (job.runAt().isEmpty()) {
        ps.setNull(i++, Types.TIMESTAMP_WITH_TIMEZONE);
      } else {
        ps.setObject(i++, OffsetDateTime.ofInstant(job.runAt().get(), ZoneOffset.UTC));
      }
      ps.setString(i++, job.jobClass());
      ps.setString(i++, job.argsJson());
      ps.setString(i++, job.dataJson());
      if (schemaVersion >= 6) {
        ps.setString(i++, job.kwargsJson().orElse("{}"));
      }
      if (jobSchemaVersion != null) {
        ps.setInt(i, jobSchemaVersion);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return inserted(job, rs.getLong(1), rs.getObject(2, OffsetDateTime.class));
      }
    }
  }

  /**
   * One statement for the whole batch: the multi-row INSERT, or from {@link Inserts#COPY_MIN_JOBS}
   * jobs on the reservation of their ids and one COPY (see {@link Inserts#copy}). On schema 7 it runs with {@code que.skip_notify} set, as Que's
   * bulk insert does: Que lockers are not told about each job and find them by polling. The setting
   * is restored afterwards, so the caller's later inserts in the same transaction notify as usual.
   */
  @Override
  public List<JobRow> insertAll(Connection c, List<NewJob> jobs) throws SQLException {
    for (int i = 0; i < jobs.size(); i++) {
      check(jobs.get(i), "jobs[" + i + "].");
    }
    boolean skipNotify = schemaVersion >= 7;
    boolean ownTransaction = skipNotify && c.getAutoCommit();
    if (ownTransaction) {
      c.setAutoCommit(false);
    }
    boolean done = false;
    try {
      String previous = skipNotify ? SkipNotify.on(c) : null;
      List<JobRow> rows = Inserts.copies(c, jobs)
          ? Inserts.copy(c, jobs, defaultQueue(), new Inserts.CopyShape("id",
              schemaVersion >= 6 ? Inserts.Extra.DATA_AND_KWARGS : Inserts.Extra.DATA, jobSchemaVersion),
              this::inserted)
          : insertArrays(c, jobs);
      if (skipNotify) {
        SkipNotify.restore(c, previous);
      }
      if (ownTransaction) {
        c.commit();
      }
      done = true;
      return rows;
    } finally {
      if (ownTransaction) {
        if (!done) {
          c.rollback();
        }
        c.setAutoCommit(true);
      }
    }
  }

  private List<JobRow> insertArrays(Connection c, List<NewJob> jobs) throws SQLException {
    List<Array> arrays = List.of();
    try (PreparedStatement ps = c.prepareStatement(insertAll)) {
      arrays = Inserts.bind(c, ps, jobs, defaultQueue(),
          schemaVersion >= 6 ? Inserts.Extra.DATA_AND_KWARGS : Inserts.Extra.DATA);
      if (jobSchemaVersion != null) {
        ps.setInt(arrays.size() + 1, jobSchemaVersion);
      }
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
    return LockWalk.run(s, lockWalk, lockWalkSkipping, queue, jobSchemaVersion, skip, max, this::read);
  }

  @Override
  public boolean[] recheckAll(Session s, List<JobRow> jobs) throws SQLException {
    int n = jobs.size();
    Long[] ids = new Long[n];
    Integer[] counts = new Integer[n];
    for (int i = 0; i < n; i++) {
      ids[i] = jobs.get(i).id();
      counts[i] = jobs.get(i).errorCount();
    }
    Connection c = s.connection();
    PreparedStatement ps = s.prepare(recheckAll);
    Array idArray = c.createArrayOf("int8", ids);
    Array countArray = c.createArrayOf("int4", counts);
    try {
      ps.setArray(1, idArray);
      ps.setArray(2, countArray);
      if (jobSchemaVersion != null) {
        ps.setInt(3, jobSchemaVersion);
      }
      boolean[] ok = new boolean[n];
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ok[(int) rs.getLong(1) - 1] = true;
        }
      }
      return ok;
    } finally {
      idArray.free();
      countArray.free();
    }
  }

  @Override
  public int unlockAll(Session s, long[] ids) throws SQLException {
    return ClassicDialect.unlockAllOn(s, ids);
  }

  @Override
  public boolean recheck(Session s, JobRow job) throws SQLException {
    PreparedStatement ps = s.prepare(recheck);
    ps.setLong(1, job.id());
    ps.setInt(2, job.errorCount());
    if (jobSchemaVersion != null) {
      ps.setInt(3, jobSchemaVersion);
    }
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  @Override
  public int delete(Session s, JobRow job) throws SQLException {
    return delete.run(s, ps -> ps.setLong(1, job.id()));
  }

  @Override
  public boolean[] deleteAll(Session s, List<JobRow> jobs) throws SQLException {
    int n = jobs.size();
    Long[] ids = new Long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = jobs.get(i).id();
    }
    PreparedStatement ps = s.prepare(deleteAll);
    Array idArray = s.connection().createArrayOf("int8", ids);
    try {
      ps.setArray(1, idArray);
      boolean[] deleted = new boolean[n];
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          deleted[(int) rs.getLong(1) - 1] = true;
        }
      }
      return deleted;
    } finally {
      idArray.free();
    }
  }

  @Override
  public int finish(Session s, JobRow job) throws SQLException {
    return finish.run(s, ps -> ps.setLong(1, job.id()));
  }

  @Override
  public int expire(Session s, JobRow job) throws SQLException {
    return expire.run(s, ps -> ps.setLong(1, job.id()));
  }

  @Override
  public int setError(Session s, JobRow job, Duration delay, ErrorText error) throws SQLException {
    return setError.run(s, ps -> {
      ps.setDouble(1, delay.getSeconds() + delay.getNano() / 1e9);
      ps.setString(2, error.message());
      ps.setString(3, error.backtrace());
      ps.setLong(4, job.id());
    });
  }

  /**
   * Que 1.x/2.x's text: message {@code "<class>: <message>"} (the {@code ": "} kept even for an empty
   * message) cut to 500 characters, backtrace the frames joined by newlines cut to 10,000; NUL
   * removed, lengths in code points as PostgreSQL's char_length counts.
   */
  @Override
  public ErrorText describe(Throwable failure) {
    String message = failure.getClass().getName() + ": " + (failure.getMessage() == null ? "" : failure.getMessage());
    return new ErrorText(
        Text.truncate(Text.stripNul(message), MAX_MESSAGE),
        Text.truncate(Text.stripNul(Text.stackTrace(failure)), MAX_BACKTRACE));
  }

  @Override
  public ErrorText describe(String message) {
    return new ErrorText(Text.truncate(Text.stripNul(message), MAX_MESSAGE), null);
  }

  @Override
  public boolean hasOutcomeColumns() {
    return true;
  }

  @Override
  public boolean unlock(Session s, long id) throws SQLException {
    PreparedStatement ps = s.prepare(UNLOCK);
    ps.setLong(1, id);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  /**
   * The row just inserted: the values sent, plus the id and run_at the database chose. The args,
   * kwargs and data are the text sent; the jsonb columns store them normalised (spacing, key order).
   */
  private JobRow inserted(NewJob job, long id, OffsetDateTime runAt) {
    return new JobRow(id, job.queueOr(defaultQueue()), job.priority(), runAt, job.jobClass(), job.argsJson(), 0,
        null, null, schemaVersion >= 6 ? (job.kwargsJson().orElse("{}")) : null,
        job.dataJson(), jobSchemaVersion);
  }

  private JobRow read(ResultSet rs) throws SQLException {
    return new JobRow(
        rs.getLong("id"),
        rs.getString("queue"),
        rs.getInt("priority"),
        rs.getObject("run_at", OffsetDateTime.class),
        rs.getString("job_class"),
        rs.getString("args"),
        rs.getInt("error_count"),
        rs.getString("last_error_message"),
        rs.getString("last_error_backtrace"),
        schemaVersion >= 6 ? rs.getString("kwargs") : null,
        rs.getString("data"),
        jobSchemaVersion != null ? (Integer) rs.getInt("job_schema_version") : null);
  }
}
