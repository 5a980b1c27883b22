package io.quejava.ext.schedule;

/** Every statement of the schedule extension. Intervals travel as whole microseconds. */
final class ScheduleSql {
  private ScheduleSql() {}

  private static final String COLUMNS =
      "name, cron, time_zone, (extract(epoch FROM every) * 1000000)::bigint, job_class, args::text, queue, priority,\n"
          + "  misfire, enabled, next_run_at, last_run_at, last_error, created_at, updated_at";

  /**
   * Creates or replaces a schedule. A replaced schedule keeps its next_run_at (so a redeploy that
   * upserts it does not lose a tick that is due) unless its timing changed, and keeps enabled.
   */
  static final String UPSERT =
      "INSERT INTO que_schedules (name, cron, time_zone, every, job_class, args, queue, priority, misfire, next_run_at)\n"
          + "VALUES (?, ?, ?, ?::bigint * interval '1 microsecond', ?, ?::json, ?, ?, ?, ?)\n"
          + "ON CONFLICT (name) DO UPDATE SET\n"
          + "  cron = EXCLUDED.cron, time_zone = EXCLUDED.time_zone, every = EXCLUDED.every,\n"
          + "  job_class = EXCLUDED.job_class, args = EXCLUDED.args, queue = EXCLUDED.queue,\n"
          + "  priority = EXCLUDED.priority, misfire = EXCLUDED.misfire,\n"
          + "  next_run_at = CASE WHEN que_schedules.cron IS NOT DISTINCT FROM EXCLUDED.cron\n"
          + "      AND que_schedules.time_zone IS NOT DISTINCT FROM EXCLUDED.time_zone\n"
          + "      AND que_schedules.every IS NOT DISTINCT FROM EXCLUDED.every\n"
          + "    THEN que_schedules.next_run_at ELSE EXCLUDED.next_run_at END,\n"
          + "  updated_at = now()\n"
          + "RETURNING (xmax = 0)";

  static final String GET = "SELECT " + COLUMNS + " FROM que_schedules WHERE name = ?";

  static final String GET_FOR_UPDATE = GET + " FOR UPDATE";

  static final String LIST = "SELECT " + COLUMNS + " FROM que_schedules ORDER BY name";

  static final String ENABLE =
      "UPDATE que_schedules SET enabled = true, next_run_at = ?, updated_at = now() WHERE name = ?";

  static final String DISABLE =
      "UPDATE que_schedules SET enabled = false, updated_at = now() WHERE name = ?";

  static final String DELETE = "DELETE FROM que_schedules WHERE name = ?";

  /**
   * The due schedules this transaction takes: row locks, skipping rows another scheduler holds.
   * A row another scheduler advanced meanwhile is re-checked against its new next_run_at (READ
   * COMMITTED) and drops out, so no tick is claimed twice. Cron rows are left to schedulers that
   * have cron-utils (2nd parameter).
   */
  static final String CLAIM =
      "SELECT " + COLUMNS + " FROM que_schedules\n"
          + "WHERE enabled AND next_run_at <= ? AND (cron IS NULL OR ?)\n"
          + "ORDER BY next_run_at, name\n"
          + "LIMIT ?\n"
          + "FOR UPDATE SKIP LOCKED";

  /** After a tick: the next tick, and (when a job was enqueued or failed) the outcome. */
  static final String ADVANCE =
      "UPDATE que_schedules SET next_run_at = ?,\n"
          + "  last_run_at = coalesce(?, last_run_at),\n"
          + "  last_error = CASE WHEN ? THEN ? ELSE last_error END,\n"
          + "  updated_at = now()\n"
          + "WHERE name = ?";

  /** A schedule that cannot tick any more (a cron that never matches again, an unreadable row). */
  static final String STOP =
      "UPDATE que_schedules SET enabled = false, last_error = ?, updated_at = now() WHERE name = ?";
}
