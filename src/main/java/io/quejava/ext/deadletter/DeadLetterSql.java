package io.quejava.ext.deadletter;

/**
 * Every statement of the deadletter extension, for both generations of que_jobs. Filters arrive as
 * one row of parameters ({@code f}) so each value is bound once; NULL means "any".
 */
final class DeadLetterSql {
  private DeadLetterSql() {}

  /** The filter row: queue, job class, error text. */
  private static final String FILTER = "(SELECT ?::text AS queue, ?::text AS job_class, ?::text AS err) f";

  // ---- schema 3: que_dead_jobs ----

  /** Copies the locked row (by its full key) into que_dead_jobs with this failure counted. */
  static final String CLASSIC_BURY =
      "INSERT INTO que_dead_jobs (priority, run_at, job_id, job_class, args, error_count, last_error, queue,\n"
          + "  died_at, reason, worker)\n"
          + "SELECT priority, run_at, job_id, job_class, args, error_count + 1, ?, queue, now(), ?, ?\n"
          + "FROM que_jobs WHERE queue = ? AND priority = ? AND run_at = ? AND job_id = ?";

  private static final String CLASSIC_WHERE =
      "WHERE (f.queue IS NULL OR d.queue = f.queue) AND (f.job_class IS NULL OR d.job_class = f.job_class)\n"
          + "  AND (f.err IS NULL OR strpos(d.last_error, f.err) > 0)";

  static final String CLASSIC_LIST =
      "SELECT d.job_id, d.queue, d.priority, d.run_at, d.job_class, d.args::text, d.error_count, d.last_error,\n"
          + "  NULL::text, d.died_at, d.reason, d.worker\n"
          + "FROM que_dead_jobs d, " + FILTER + "\n" + CLASSIC_WHERE + "\n"
          + "ORDER BY d.died_at DESC, d.job_id DESC LIMIT ?";

  static final String CLASSIC_IDS =
      "SELECT d.job_id FROM que_dead_jobs d, " + FILTER + "\n" + CLASSIC_WHERE + "\n"
          + "ORDER BY d.died_at DESC, d.job_id DESC LIMIT ?";

  static final String CLASSIC_COUNT =
      "SELECT count(*) FROM que_dead_jobs d, " + FILTER + "\n" + CLASSIC_WHERE;

  /** Groups by the exception class of the first line (4th parameter: the pattern), else the line. */
  static final String CLASSIC_COUNT_BY_TYPE =
      "SELECT coalesce(substring(split_part(coalesce(d.last_error, ''), chr(10), 1) FROM ?::text),\n"
          + "    left(split_part(coalesce(d.last_error, ''), chr(10), 1), 200)) AS error_type, count(*)\n"
          + "FROM que_dead_jobs d, " + FILTER + "\n" + CLASSIC_WHERE + "\n"
          + "GROUP BY 1 ORDER BY 2 DESC, 1";

  /**
   * Moves dead jobs back into que_jobs under their old id, runnable now, error_count 0. A job is
   * left where it is when some session holds its advisory lock (its dying worker has not unlocked
   * yet, or a job with that id runs) or when que_jobs has a row with its id: the insert never
   * creates a second row for a job id, nor a row another worker holds the lock of. The
   * transaction-level lock ends at commit, after which workers may take the job.
   */
  static final String CLASSIC_REPLAY =
      "WITH moved AS (\n"
          + "  DELETE FROM que_dead_jobs d\n"
          + "  WHERE d.job_id = ANY(?)\n"
          + "    AND NOT EXISTS (SELECT 1 FROM que_jobs j WHERE j.job_id = d.job_id)\n"
          + "    AND pg_try_advisory_xact_lock(d.job_id)\n"
          + "  RETURNING d.queue, d.priority, d.job_id, d.job_class, d.args, d.last_error\n"
          + ")\n"
          + "INSERT INTO que_jobs (queue, priority, run_at, job_id, job_class, args, error_count, last_error)\n"
          + "SELECT queue, priority, now(), job_id, job_class, args, 0, last_error FROM moved\n"
          + "RETURNING job_id";

  static final String CLASSIC_DELETE = "DELETE FROM que_dead_jobs WHERE job_id = ANY(?)";

  /** Which of these ids are dead jobs (by the primary key). */
  static final String CLASSIC_EXISTING = "SELECT job_id FROM que_dead_jobs WHERE job_id = ANY(?) ORDER BY job_id";

  /** Which of these ids are expired rows of que_jobs (by the primary key). */
  static final String MODERN_EXISTING =
      "SELECT id FROM que_jobs WHERE id = ANY(?) AND expired_at IS NOT NULL ORDER BY id";

  static final String CLASSIC_PURGE = "DELETE FROM que_dead_jobs WHERE died_at < ?";

  // ---- schemas 4 to 7: expired que_jobs rows ----

  /** Records this failure's text on the locked job (by id) before it expires in the same transaction. */
  static final String MODERN_LAST_ERROR =
      "UPDATE que_jobs SET last_error_message = ?, last_error_backtrace = ?\n"
          + "WHERE id = ? AND finished_at IS NULL AND expired_at IS NULL";

  private static final String MODERN_WHERE =
      "WHERE d.expired_at IS NOT NULL\n"
          + "  AND (f.queue IS NULL OR d.queue = f.queue) AND (f.job_class IS NULL OR d.job_class = f.job_class)\n"
          + "  AND (f.err IS NULL OR strpos(d.last_error_message, f.err) > 0 OR strpos(d.last_error_backtrace, f.err) > 0)";

  static final String MODERN_LIST =
      "SELECT d.id, d.queue, d.priority, d.run_at, d.job_class, d.args::text, d.error_count, d.last_error_message,\n"
          + "  d.last_error_backtrace, d.expired_at, '" + DeadJob.REASON_EXPIRED + "', NULL::text\n"
          + "FROM que_jobs d, " + FILTER + "\n" + MODERN_WHERE + "\n"
          + "ORDER BY d.expired_at DESC, d.id DESC LIMIT ?";

  static final String MODERN_IDS =
      "SELECT d.id FROM que_jobs d, " + FILTER + "\n" + MODERN_WHERE + "\n"
          + "ORDER BY d.expired_at DESC, d.id DESC LIMIT ?";

  static final String MODERN_COUNT =
      "SELECT count(*) FROM que_jobs d, " + FILTER + "\n" + MODERN_WHERE;

  static final String MODERN_COUNT_BY_TYPE =
      "SELECT coalesce(substring(split_part(coalesce(d.last_error_message, ''), chr(10), 1) FROM ?::text),\n"
          + "    left(split_part(coalesce(d.last_error_message, ''), chr(10), 1), 200)) AS error_type, count(*)\n"
          + "FROM que_jobs d, " + FILTER + "\n" + MODERN_WHERE + "\n"
          + "GROUP BY 1 ORDER BY 2 DESC, 1";

  /**
   * Que's own way back for an expired job: expired_at cleared, error_count 0, run_at now. Skips a
   * job whose advisory lock some session holds (rule R10: administrative edits lock too).
   */
  static final String MODERN_REPLAY =
      "UPDATE que_jobs SET expired_at = NULL, error_count = 0, run_at = now()\n"
          + "WHERE id = ANY(?) AND expired_at IS NOT NULL AND pg_try_advisory_xact_lock(id)\n"
          + "RETURNING id";

  static final String MODERN_DELETE =
      "DELETE FROM que_jobs WHERE id = ANY(?) AND expired_at IS NOT NULL AND pg_try_advisory_xact_lock(id)";

  static final String MODERN_PURGE =
      "DELETE FROM que_jobs WHERE expired_at IS NOT NULL AND expired_at < ?";
}
