package io.quejava.internal;

/**
 * Every statement behind {@code io.quejava.Statistics}, for one schema generation.
 *
 * <p>What keeps them cheap on a table of millions of rows: the only index on schema 3 is the primary
 * key (queue, priority, run_at, job_id); on 4 to 7 it is que_poll_idx (job_schema_version on 6/7,
 * queue, priority, run_at, id) over pending rows plus the primary key (id). So queues and the oldest
 * ready job come from loose index scans (a recursive CTE that jumps from one distinct value to the
 * next), counts are exact only over at most {@code limit + 1} rows of an index range, and whatever
 * would need more rows (or a column no index has: error_count, finished_at, expired_at, job_class)
 * comes from a block sample, which the caller reports as an estimate. Every value from the table or
 * the caller is a bind parameter; the only text put into a statement is the id column and the pending
 * predicate, chosen here from two fixed sets.
 */
public final class StatsSql {
  /** The advisory locks of this database in the one-argument (bigint) form: pid and job id. */
  public static final String LOCKS =
      "SELECT l.pid, ((l.classid::bigint << 32) | l.objid::bigint) AS job_id\n"
          + "FROM pg_locks l\n"
          + "WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted\n"
          + "  AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())\n"
          + "ORDER BY 2, 1 LIMIT ?";

  /**
   * One round trip for what every call needs: the database clock, the table's size in pages and
   * its last row estimate (reltuples, relpages), which optional tables exist, the locked job ids
   * (at most the first parameter), and the table's rows counted up to the second parameter.
   */
  public static final String CATALOG =
      "SELECT now(), pg_relation_size(c.oid) / current_setting('block_size')::bigint,\n"
          + "       to_regclass('que_dead_jobs') IS NOT NULL, to_regclass('que_heartbeats') IS NOT NULL,\n"
          + "       to_regclass('que_lockers') IS NOT NULL, c.reltuples::float8, c.relpages::bigint,\n"
          + "       ARRAY(SELECT DISTINCT (l.classid::bigint << 32) | l.objid::bigint FROM pg_locks l\n"
          + "             WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted\n"
          + "               AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())\n"
          + "             LIMIT ?),\n"
          + "       (SELECT count(*) FROM (SELECT 1 FROM que_jobs LIMIT ?) s)\n"
          + "FROM pg_class c WHERE c.oid = to_regclass('que_jobs')";

  /** Dead letters per queue (schema 3's que_dead_jobs), counted over at most the parameter rows. */
  public static final String DEAD_BY_QUEUE =
      "SELECT queue, count(*) FROM (SELECT queue FROM que_dead_jobs LIMIT ?) s GROUP BY queue";

  /** que_dead_jobs' row estimate, for when it holds more rows than the exact limit. */
  public static final String DEAD_ESTIMATE =
      "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass('que_dead_jobs')";

  /** Heartbeat rows (que-java jobs) whose lock a session holds: job id to queue and class. */
  public static final String HEARTBEAT_JOBS =
      "SELECT h.job_id, h.queue, h.job_class FROM que_heartbeats h WHERE h.job_id = ANY(?) LIMIT ?";

  /**
   * Sessions that hold bigint advisory locks, with what pg_stat_activity, que_heartbeats (que-java:
   * host and OS pid) and que_lockers (Ruby Que 1.x/2.x: host and pid) know of them. %1$s and %2$s are
   * the heartbeat and locker parts, fixed text chosen by the caller from what exists.
   */
  public static final String HOLDERS =
      "WITH locks AS MATERIALIZED (\n"
          + "  SELECT l.pid, count(*) AS n FROM pg_locks l\n"
          + "  WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted\n"
          + "    AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())\n"
          + "  GROUP BY l.pid)\n"
          + "SELECT k.pid, k.n, a.application_name, host(a.client_addr), a.state, a.backend_start,\n"
          + "       %1$s, %2$s\n"
          + "FROM locks k LEFT JOIN pg_stat_activity a ON a.pid = k.pid\n"
          + "ORDER BY k.pid LIMIT ?";

  public static final String HOLDERS_HEARTBEAT =
      "(SELECT h.host FROM que_heartbeats h WHERE h.backend_pid = k.pid LIMIT 1),"
          + " (SELECT h.os_pid FROM que_heartbeats h WHERE h.backend_pid = k.pid LIMIT 1)";
  public static final String HOLDERS_NO_HEARTBEAT = "NULL::text, NULL::bigint";
  public static final String HOLDERS_LOCKER =
      "(SELECT ql.ruby_hostname FROM que_lockers ql WHERE ql.pid = k.pid LIMIT 1),"
          + " (SELECT ql.ruby_pid::bigint FROM que_lockers ql WHERE ql.pid = k.pid LIMIT 1)";
  public static final String HOLDERS_NO_LOCKER = "NULL::text, NULL::bigint";

  private final boolean modern;
  private final boolean versioned;
  private final String id;
  private final String pending;

  private StatsSql(int schemaVersion) {
    this.modern = schemaVersion >= 4;
    this.versioned = schemaVersion >= 6;
    this.id = modern ? "id" : "job_id";
    this.pending = modern ? "finished_at IS NULL AND expired_at IS NULL" : "true";
  }

  /** The statements for this que_jobs schema version (3 to 7). */
  public static StatsSql of(int schemaVersion) {
    return new StatsSql(schemaVersion);
  }

  /**
   * Whether queue-scoped statements also take a job schema version (6 and 7, whose que_poll_idx
   * leads with job_schema_version): then each "queue" parameter below is two, the version and the
   * queue, and the caller runs the statement once per version present.
   */
  public boolean versioned() {
    return versioned;
  }

  /** One queue's rows, as the index that serves the lock query sees them. */
  private String scope(String alias) {
    String a = alias.isEmpty() ? "" : alias + ".";
    return (versioned ? a + "job_schema_version = ? AND " : "") + a + "queue = ?";
  }

  public boolean modern() {
    return modern;
  }

  /**
   * The figures of a set of rows {@code j} (columns queue [, job_class], run_at, error_count,
   * finished, expired, running); %s is the grouping.
   */
  private static final String FIGURES =
      "SELECT %1$s,\n"
          + "       count(*) FILTER (WHERE NOT done AND NOT running AND run_at <= now()),\n"
          + "       count(*) FILTER (WHERE NOT done AND NOT running AND run_at > now()),\n"
          + "       count(*) FILTER (WHERE NOT done AND running),\n"
          + "       count(*) FILTER (WHERE NOT done AND NOT running AND error_count > 0),\n"
          + "       count(*) FILTER (WHERE finished),\n"
          + "       count(*) FILTER (WHERE expired),\n"
          + "       min(run_at) FILTER (WHERE NOT done AND NOT running AND run_at <= now())\n"
          + "FROM j GROUP BY %1$s ORDER BY %1$s";

  private String rows(String from) {
    String outcome = modern
        ? "finished_at IS NOT NULL AS finished, expired_at IS NOT NULL AS expired, "
            + "(finished_at IS NOT NULL OR expired_at IS NOT NULL) AS done"
        : "false AS finished, false AS expired, false AS done";
    return "WITH j AS (SELECT queue, job_class, run_at, error_count, " + outcome + ", "
        + id + " = ANY(?) AS running FROM " + from + ")\n";
  }

  /** Exact figures per queue over the whole table (only when it has at most the exact limit of rows); params: locked ids. */
  public String exactByQueue() {
    return rows("que_jobs") + String.format(FIGURES, "queue");
  }

  /** Exact figures per job class of one queue over the whole table; params: locked ids, queue. */
  public String exactByClass() {
    return rows("que_jobs WHERE queue = ?") + String.format(FIGURES, "queue, job_class");
  }

  /** Exact figures per job class of one queue's pending rows; params: locked ids, queue. */
  public String exactQueueByClass() {
    return rows("que_jobs WHERE " + scope("") + " AND " + pending) + String.format(FIGURES, "queue, job_class");
  }

  /**
   * The distinct queues of the pending rows, by a loose scan of the index that leads with queue
   * (que_poll_idx on 4 and 5, the primary key on 3); on 6 and 7 the index leads with
   * job_schema_version, so the walk runs per job schema version (two values in practice).
   */
  public String queues() {
    if (!modern) {
      return "WITH RECURSIVE q(queue) AS (\n"
          + "  (SELECT queue FROM que_jobs ORDER BY queue LIMIT 1)\n"
          + "  UNION ALL\n"
          + "  SELECT (SELECT j.queue FROM que_jobs j WHERE j.queue > q.queue ORDER BY j.queue LIMIT 1)\n"
          + "  FROM q WHERE q.queue IS NOT NULL)\n"
          + "SELECT queue FROM q WHERE queue IS NOT NULL LIMIT ?";
    }
    return "WITH RECURSIVE q(queue) AS (\n"
        + "  (SELECT queue FROM que_jobs WHERE " + pending + " ORDER BY queue LIMIT 1)\n"
        + "  UNION ALL\n"
        + "  SELECT (SELECT j.queue FROM que_jobs j WHERE j.queue > q.queue AND " + pending
        + " ORDER BY j.queue LIMIT 1)\n"
        + "  FROM q WHERE q.queue IS NOT NULL)\n"
        + "SELECT queue FROM q WHERE queue IS NOT NULL LIMIT ?";
  }

  /** The distinct job schema versions of pending rows (6 and 7), by a loose scan of que_poll_idx. */
  public static final String JOB_SCHEMA_VERSIONS =
      "WITH RECURSIVE v(v) AS (\n"
          + "  (SELECT job_schema_version FROM que_jobs WHERE finished_at IS NULL AND expired_at IS NULL\n"
          + "   ORDER BY job_schema_version LIMIT 1)\n"
          + "  UNION ALL\n"
          + "  SELECT (SELECT j.job_schema_version FROM que_jobs j WHERE j.job_schema_version > v.v\n"
          + "          AND j.finished_at IS NULL AND j.expired_at IS NULL ORDER BY j.job_schema_version LIMIT 1)\n"
          + "  FROM v WHERE v.v IS NOT NULL)\n"
          + "SELECT v FROM v WHERE v IS NOT NULL";

  /** {@link #queues()} within one job schema version (schemas 6 and 7); params: version, version, limit. */
  public static final String QUEUES_OF_VERSION =
      "WITH RECURSIVE q(queue) AS (\n"
          + "  (SELECT queue FROM que_jobs WHERE job_schema_version = ? AND finished_at IS NULL AND expired_at IS NULL\n"
          + "   ORDER BY job_schema_version, queue LIMIT 1)\n"
          + "  UNION ALL\n"
          + "  SELECT (SELECT j.queue FROM que_jobs j WHERE j.job_schema_version = ? AND j.queue > q.queue\n"
          + "          AND j.finished_at IS NULL AND j.expired_at IS NULL ORDER BY j.job_schema_version, j.queue LIMIT 1)\n"
          + "  FROM q WHERE q.queue IS NOT NULL)\n"
          + "SELECT queue FROM q WHERE queue IS NOT NULL LIMIT ?";

  /**
   * The queues of the pending rows with each one's pending rows counted up to a bound, in one
   * statement: the loose scan of {@link #queues()} and, per queue, a short index range. Params:
   * [version, version,] [version,] bound, queue limit.
   */
  public String queuesWithCounts() {
    String walk = versioned ? QUEUES_OF_VERSION.substring(0, QUEUES_OF_VERSION.indexOf("SELECT queue FROM q WHERE"))
        : queues().substring(0, queues().indexOf("SELECT queue FROM q WHERE"));
    return walk + "SELECT q.queue, (SELECT count(*) FROM (SELECT 1 FROM que_jobs j WHERE "
        + (versioned ? "j.job_schema_version = ? AND " : "") + "j.queue = q.queue AND " + qualified("j")
        + " LIMIT ?) s)\nFROM q WHERE q.queue IS NOT NULL LIMIT ?";
  }

  /** Exact figures of several queues' pending rows at once; params: locked ids, [version,] queues. */
  public String exactQueues() {
    return rows("que_jobs WHERE " + (versioned ? "job_schema_version = ? AND " : "") + "queue = ANY(?) AND " + pending)
        + String.format(FIGURES, "queue");
  }

  /**
   * Schema 3: which locked ids are among the first rows (in lock order) of each queue, a window per
   * queue; params: queues, windows, locked ids.
   */
  public static final String HEADS =
      "SELECT b.queue, h.job_id FROM unnest(?::text[], ?::int[]) b(queue, win),\n"
          + "LATERAL (SELECT j.job_id FROM que_jobs j WHERE j.queue = b.queue\n"
          + "         ORDER BY j.priority, j.run_at, j.job_id LIMIT b.win) h\n"
          + "WHERE h.job_id = ANY(?)";

  /** Pending rows of one queue, counted up to a bound; params: queue, bound. */
  public String boundedQueue() {
    return "SELECT count(*) FROM (SELECT 1 FROM que_jobs WHERE " + scope("") + " AND " + pending + " LIMIT ?) s";
  }

  /**
   * The oldest ready job of one queue that no session holds: the first such row of each priority
   * (a loose scan over the queue's priorities, then one short index range per priority); params:
   * queue, queue, queue, locked ids.
   */
  public String oldestReady() {
    return "WITH RECURSIVE p(priority) AS (\n"
        + "  (SELECT priority FROM que_jobs WHERE " + scope("") + " AND " + pending + " ORDER BY priority LIMIT 1)\n"
        + "  UNION ALL\n"
        + "  SELECT (SELECT j.priority FROM que_jobs j WHERE " + scope("j") + " AND j.priority > p.priority AND "
        + qualified("j") + " ORDER BY j.priority LIMIT 1)\n"
        + "  FROM p WHERE p.priority IS NOT NULL)\n"
        + "SELECT min((SELECT j.run_at FROM que_jobs j WHERE " + scope("j") + " AND j.priority = p.priority\n"
        + "              AND j.run_at <= now() AND " + qualified("j") + " AND NOT j." + id + " = ANY(?)\n"
        + "            ORDER BY j.run_at, j." + id + " LIMIT 1))\n"
        + "FROM p WHERE p.priority IS NOT NULL";
  }

  private String qualified(String alias) {
    return modern ? alias + ".finished_at IS NULL AND " + alias + ".expired_at IS NULL" : "true";
  }

  /** Schema 4–7: pending locked jobs per queue, by the primary key; params: locked ids. */
  public String runningByQueue() {
    return "SELECT queue, " + id + " FROM que_jobs WHERE " + id + " = ANY(?) AND " + pending;
  }

  /**
   * A block sample of the table (TABLESAMPLE SYSTEM, the parameter in percent), grouped by queue,
   * or by queue and class when {@code byClass}; params: locked ids, percent. The caller scales the
   * counts.
   */
  public String sample(boolean byClass) {
    String outcome = modern
        ? "finished_at IS NOT NULL AS finished, expired_at IS NOT NULL AS expired, "
            + "(finished_at IS NOT NULL OR expired_at IS NOT NULL) AS done"
        : "false AS finished, false AS expired, false AS done";
    return "WITH j AS (SELECT queue, job_class, run_at, error_count, " + outcome + ", "
        + id + " = ANY(?) AS running FROM que_jobs TABLESAMPLE SYSTEM (?))\n"
        + String.format(FIGURES, byClass ? "queue, job_class" : "queue");
  }
}
