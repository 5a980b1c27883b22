package io.quejava.internal;

import io.quejava.NewJob;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

/**
 * The seam between the protocol's moves (enqueue, lock, re-check, resolve, unlock) and the SQL of one
 * generation of the que_jobs schema. The Client and the Worker only talk to this interface; each
 * implementation keeps all of its SQL in one place.
 */
public interface Dialect {
  /** The schema version this dialect was chosen for (the que_jobs table comment). */
  int schemaVersion();

  /** The queue a job goes to when the caller names none. */
  String defaultQueue();

  JobRow insert(Connection c, NewJob job) throws SQLException;

  /** Inserts all jobs in one statement; the rows come back in the order given. */
  List<JobRow> insertAll(Connection c, List<NewJob> jobs) throws SQLException;

  /**
   * Walks the ready jobs of {@code queue} in (priority, run_at, id) order, calling
   * pg_try_advisory_lock once per candidate until one succeeds; returns it, locked on this session,
   * or null when none could be locked. Must run in autocommit.
   */
  JobRow lockNext(Session s, String queue) throws SQLException;

  /**
   * The same walk, locking up to {@code max} jobs on this session; returns every row it locked, in
   * walk order. The session must hold no job lock of this queue when it walks (locks are re-entrant:
   * a job it already holds would be locked again).
   */
  List<JobRow> lockBatch(Session s, String queue, int max) throws SQLException;

  /**
   * The same walk, stepping without a lock call over the ids in {@code skip}: jobs other sessions of
   * this process hold now (a hint that saves the walk a step per such row; the lock call still
   * decides every row it tries). Empty {@code skip}: exactly {@link #lockBatch(Session, String, int)}.
   */
  List<JobRow> lockBatch(Session s, String queue, int max, long[] skip) throws SQLException;

  /**
   * The re-check of a batch in one statement: for each row, by its position in {@code jobs}, whether
   * it is still exactly as locked (by position, not id: schema 3 does not make job_id unique).
   */
  boolean[] recheckAll(Session s, List<JobRow> jobs) throws SQLException;

  /** pg_advisory_unlock for each id, in one statement; returns how many were held. */
  int unlockAll(Session s, long[] ids) throws SQLException;

  /** The re-check after locking, in a new statement: is the row still exactly what we locked? */
  boolean recheck(Session s, JobRow job) throws SQLException;

  /** Deletes the job by the key it was read with; returns the row count. */
  int delete(Session s, JobRow job) throws SQLException;

  /**
   * Deletes these jobs (each by the key it was read with) in one statement, in autocommit, for
   * batched completion; answers, by position in {@code jobs}, whether each row was deleted (false:
   * it changed under its lock, rule R7).
   */
  boolean[] deleteAll(Session s, List<JobRow> jobs) throws SQLException;

  /**
   * error_count + 1, run_at = now() + delay, and the error text (null texts leave schema 3's
   * last_error as it was and clear schema 4+'s columns, as Que's retry_in does); by the key it was
   * read with. Returns the row count.
   */
  int setError(Session s, JobRow job, Duration delay, ErrorText error) throws SQLException;

  /** How this dialect writes a failure (class, message and stack trace). */
  ErrorText describe(Throwable failure);

  /** How this dialect writes a failure given as text only. */
  ErrorText describe(String message);

  /** True when the schema has finished_at and expired_at (4 to 7). */
  boolean hasOutcomeColumns();

  /** finished_at = now(): the row stays and never runs again. Schema 4+ only. */
  int finish(Session s, JobRow job) throws SQLException;

  /** error_count + 1, expired_at = now(): the row stays and never runs again. Schema 4+ only. */
  int expire(Session s, JobRow job) throws SQLException;

  /** pg_advisory_unlock(id) on the session that holds the lock. */
  boolean unlock(Session s, long id) throws SQLException;
}
