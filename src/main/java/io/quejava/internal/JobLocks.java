package io.quejava.internal;

/**
 * How a job's advisory lock looks in {@code pg_locks}, as SQL fragments: the one definition every
 * statement that reads other sessions' job locks uses.
 *
 * <p>Every Que peer locks a job with {@code pg_try_advisory_lock(<job id>::bigint)}. PostgreSQL
 * shows that lock split in two ({@code classid} the high 32 bits, {@code objid} the low 32) with
 * {@code objsubid = 1}; the two-int form, which que-java's migrators use, has {@code objsubid = 2}
 * and is never a job. Advisory locks are per database, not per schema, so only this database's
 * count. The fragments name {@code pg_locks} {@code l}; their arguments are SQL expressions of our
 * own, never input.
 */
public final class JobLocks {
  private JobLocks() {}

  /** The job id a row {@code l} of {@code pg_locks} locks (meaningful where {@link #HELD} holds). */
  public static final String JOB_ID = "((l.classid::bigint << 32) | l.objid::bigint)";

  /** A row {@code l} of {@code pg_locks} that is a granted job lock (bigint form) in this database. */
  public static final String HELD = """
      l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
        AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())""";

  /**
   * True when the session whose backend pid is the expression {@code pid} holds the lock of the job
   * whose id is the expression {@code jobId}.
   */
  public static String heldBy(String pid, String jobId) {
    return "EXISTS (SELECT 1 FROM pg_locks l WHERE " + HELD + "\n"
        + "  AND l.pid = " + pid + " AND " + JOB_ID + " = " + jobId + ")";
  }
}
