package io.quejava.internal;

import java.util.List;

/**
 * The statements behind {@code io.quejava.JobAdmin}: listing jobs for operators, and their writes
 * (run now, delete), which follow the workers' rule: lock the job with pg_try_advisory_lock on the
 * writing session first, address the row by its full key on schema 3 (queue, priority, run_at,
 * job_id: the primary key, so also the only index) or by id on 4 to 7, commit, then unlock.
 *
 * <p>Filters are fixed fragments with bind parameters, put together in a fixed order; no value ever
 * becomes statement text. Schema 3 has no index on job_id alone: finding jobs by id reads the
 * table once per statement (one statement for all the ids of a call).
 */
public final class AdminSql {
  private final boolean modern;
  private final String id;

  private AdminSql(boolean modern) {
    this.modern = modern;
    this.id = modern ? "id" : "job_id";
  }

  public static AdminSql of(boolean modern) {
    return new AdminSql(modern);
  }

  public boolean modern() {
    return modern;
  }

  /** The columns every listing reads, in this order. */
  public String columns() {
    return modern
        ? id + ", queue, priority, run_at, job_class, args::text, error_count, last_error_message,"
            + " last_error_backtrace, finished_at, expired_at, kwargs_text"
        : id + ", queue, priority, run_at, job_class, args::text, error_count, last_error,"
            + " NULL::text, NULL::timestamptz, NULL::timestamptz, NULL::text";
  }

  /** The SELECT of a listing: the columns and whether a session holds the job (first param: locked ids). */
  public String select(boolean hasKwargs) {
    String cols = columns().replace("kwargs_text", hasKwargs ? "kwargs::text" : "NULL::text");
    return "SELECT " + cols + ", " + id + " = ANY(?) AS running FROM que_jobs WHERE true";
  }

  public String byIds() {
    return " AND " + id + " = ANY(?)";
  }

  public static final String QUEUE = " AND queue = ?";
  public static final String JOB_CLASS = " AND job_class = ?";

  public String error() {
    String col = modern ? "coalesce(last_error_message, '') || E'\\n' || coalesce(last_error_backtrace, '')" : "last_error";
    return " AND strpos(lower(" + col + "), lower(?)) > 0";
  }

  /** The state fragments; running ones take the locked ids as a parameter. */
  public String state(String state) {
    String pending = modern ? " AND finished_at IS NULL AND expired_at IS NULL" : "";
    return switch (state) {
      case "ready" -> pending + " AND run_at <= now() AND NOT " + id + " = ANY(?)";
      case "scheduled" -> pending + " AND run_at > now() AND NOT " + id + " = ANY(?)";
      case "running" -> pending + " AND " + id + " = ANY(?)";
      case "failing" -> pending + " AND error_count > 0 AND NOT " + id + " = ANY(?)";
      case "finished" -> " AND finished_at IS NOT NULL";
      case "expired" -> " AND expired_at IS NOT NULL";
      default -> throw new IllegalArgumentException("state: " + state);
    };
  }

  public String order() {
    return " ORDER BY priority, run_at, " + id + " LIMIT ?";
  }

  /** The states a filter may name. */
  public static final List<String> STATES = List.of("ready", "scheduled", "running", "failing", "finished", "expired");

  public static final String TRY_LOCK = "SELECT pg_try_advisory_lock(?)";
  public static final String UNLOCK = "SELECT pg_advisory_unlock(?)";

  /** Run now: by the full key on 3; on 4–7 by id, an expired job comes back (expired_at cleared). */
  public String retry() {
    return modern
        ? "UPDATE que_jobs SET run_at = now(), expired_at = NULL WHERE id = ? AND finished_at IS NULL"
        : "UPDATE que_jobs SET run_at = now() WHERE queue = ? AND priority = ? AND run_at = ? AND job_id = ?";
  }

  public String delete() {
    return modern
        ? "DELETE FROM que_jobs WHERE id = ?"
        : "DELETE FROM que_jobs WHERE queue = ? AND priority = ? AND run_at = ? AND job_id = ?";
  }
}
