package io.quejava.internal;

/**
 * The lock walk both dialects share: Que's recursive CTE, extended to lock up to {@code n} jobs.
 *
 * <p>Each step probes the index for the next ready row after the previous one in (priority, run_at,
 * id) order and calls {@code pg_try_advisory_lock} on it exactly once (a recursive CTE is never
 * inlined, and the lock call sits in the select list of a one-row subquery: rule R5). The walk
 * carries how many locks it took before each row and stops when it has {@code n}, or when no row is
 * left. The outer query returns every row whose lock was taken and has no LIMIT, so no lock taken by
 * the walk can be left out of the result (a lock the caller does not know of would leak).
 *
 * <p>Parameters, in order: the ready filter's parameters (first step), the same again (later steps),
 * then {@code n}.
 */
final class LockWalk {
  private LockWalk() {}

  /** Reads one locked row of a walk. */
  interface RowReader {
    JobRow read(java.sql.ResultSet rs) throws java.sql.SQLException;
  }

  /**
   * Runs a walk: {@code plain}, or {@code skipping} when there are ids to pass over (its ready filter
   * ends with {@code NOT id = ANY(?::bigint[])}). Binds, for each of the two steps, the queue, the
   * job_schema_version when not null and the ids when skipping; then {@code max}.
   */
  static java.util.List<JobRow> run(Session s, String plain, String skipping, String queue, Integer jobSchemaVersion,
      long[] skip, int max, RowReader reader) throws java.sql.SQLException {
    boolean passing = skip.length > 0;
    java.sql.PreparedStatement ps = s.prepare(passing ? skipping : plain);
    java.sql.Array ids = passing ? s.connection().createArrayOf("int8", boxed(skip)) : null;
    try {
      int i = 1;
      for (int step = 0; step < 2; step++) {
        ps.setString(i++, queue);
        if (jobSchemaVersion != null) {
          ps.setInt(i++, jobSchemaVersion);
        }
        if (passing) {
          ps.setArray(i++, ids);
        }
      }
      ps.setInt(i, max);
      java.util.List<JobRow> rows = new java.util.ArrayList<>(max);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(reader.read(rs));
        }
      }
      return rows;
    } finally {
      if (ids != null) {
        ids.free();
      }
    }
  }

  /**
   * @param id the id column ({@code job_id} or {@code id})
   * @param ready the filter of a ready job, on table alias {@code c}, with its own {@code ?}s
   * @param columns the columns to return
   */
  static String sql(String id, String ready, String columns) {
    String order = "ORDER BY c.priority, c.run_at, c." + id;
    return "WITH RECURSIVE walk AS (\n"
        + "  SELECT (c).*, pg_try_advisory_lock((c)." + id + ") AS got_lock, 0 AS locked_before\n"
        + "  FROM (SELECT c FROM que_jobs AS c\n"
        + "        WHERE " + ready + "\n"
        + "        " + order + "\n"
        + "        LIMIT 1) AS first_step\n"
        + "  UNION ALL (\n"
        + "    SELECT (c).*, pg_try_advisory_lock((c)." + id + ") AS got_lock, locked_before\n"
        + "    FROM (SELECT (SELECT c FROM que_jobs AS c\n"
        + "                  WHERE " + ready + "\n"
        + "                    AND (c.priority, c.run_at, c." + id + ") > (walk.priority, walk.run_at, walk." + id + ")\n"
        + "                  " + order + "\n"
        + "                  LIMIT 1) AS c,\n"
        + "                 walk.locked_before + walk.got_lock::int AS locked_before\n"
        + "          FROM walk\n"
        + "          WHERE walk." + id + " IS NOT NULL AND walk.locked_before + walk.got_lock::int < ?\n"
        + "          LIMIT 1) AS next_step\n"
        + "  )\n"
        + ")\n"
        + "SELECT " + columns + " FROM walk WHERE got_lock";
  }

  /** No ids to pass over. */
  static final long[] NO_IDS = new long[0];

  /** The ids as an array pgjdbc binds as bigint[]. */
  static Long[] boxed(long[] ids) {
    Long[] out = new Long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = ids[i];
    }
    return out;
  }

  /** Unlocks every id given (one call per id) and answers how many locks were held. */
  static final String UNLOCK_ALL =
      "SELECT count(*) FILTER (WHERE unlocked) FROM (SELECT pg_advisory_unlock(k) AS unlocked FROM unnest(?::bigint[]) AS k) AS u";
}
