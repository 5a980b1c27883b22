package io.quejava.ext.heartbeat;

import io.quejava.QueException;
import io.quejava.internal.Args;
import io.quejava.internal.JobLocks;
import io.quejava.internal.SchemaInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.OptionalInt;
import java.util.Optional;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Every job running now on que_jobs (the one the data source's search_path resolves to), whoever
 * runs it: que-java workers from their heartbeats ({@link Heartbeats}), Ruby and Go workers (and
 * Java workers without heartbeats) from their advisory locks in {@code pg_locks}, joined with
 * {@code pg_stat_activity} and que_jobs. A job is in flight exactly while some session holds its
 * advisory lock (rule R9): a heartbeat row whose lock is gone is not listed.
 *
 * <pre>{@code
 * for (InFlightJob j : InFlight.list(dataSource)) {
 *   if (j.hung()) log.warn("job {} on {} is hung: {}", j.jobId(), j.host(), j.hungReason());
 * }
 * }</pre>
 *
 * <p>A heartbeat is stale when it is older than {@code staleBeats} times the interval its writer
 * beats at (per row); a job is over its timeout when it runs more than one beat interval past it
 * (the grace lets a cancelled handler return). Either makes it {@link InFlightJob#hung() hung}. Only
 * que-java jobs with heartbeats can be hung: for the others nothing tells a long job from a stuck one.
 *
 * <p>Reading other sessions' application_name and address needs the rights pg_stat_activity asks
 * for (the same role, or pg_read_all_stats). On schema 3 the peers' jobs are found by id in que_jobs,
 * which has no index on the id alone: the query reads the table once, so call it for a dashboard,
 * not per job. Advisory lock keys are shared by every schema of the database: two que_jobs tables in
 * one database with the same ids would show each other's locks.
 */
public final class InFlight {
  /** Heartbeats older than this many beat intervals are stale: {@value}. */
  public static final int DEFAULT_STALE_BEATS = 3;

  private InFlight() {}

  /** Every job in flight, with the default stale threshold ({@value #DEFAULT_STALE_BEATS} beats). */
  public static List<InFlightJob> list(DataSource dataSource) {
    return list(dataSource, DEFAULT_STALE_BEATS);
  }

  /**
   * Every job in flight, ordered by job id; heartbeats older than {@code staleBeats} beat intervals
   * are stale.
   *
   * @throws IllegalArgumentException when staleBeats is below 1
   */
  public static List<InFlightJob> list(DataSource dataSource, int staleBeats) {
    Args.notNull(dataSource, "dataSource");
    checkStaleBeats(staleBeats);
    try (Connection c = dataSource.getConnection()) {
      return list(c, staleBeats, false);
    } catch (SQLException e) {
      throw new QueException("listing the jobs in flight failed: " + e.getMessage(), e);
    }
  }

  static void checkStaleBeats(int staleBeats) {
    if (staleBeats < 1 || staleBeats > 1000) {
      throw new IllegalArgumentException("staleBeats: must be 1 to 1000, got " + staleBeats);
    }
  }

  /** What the catalog says: the id column of que_jobs, and which optional tables exist. */
  record Shape(String idColumn, boolean heartbeats, boolean lockers) {
    static Shape read(Connection c) throws SQLException {
      try (PreparedStatement ps = c.prepareStatement("""
              SELECT %s,
                to_regclass('que_heartbeats') IS NOT NULL, to_regclass('que_lockers') IS NOT NULL"""
              .formatted(SchemaInfo.QUE_JOBS_ID_COLUMN));
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Shape(SchemaInfo.idColumn(rs.getString(1)), rs.getBoolean(2), rs.getBoolean(3));
      }
    }
  }

  /** The advisory locks of this database in the one-argument (bigint) form, decoded to job ids. */
  static final String LOCKS = """
      locks AS MATERIALIZED (
        SELECT l.pid, %s AS job_id
        FROM pg_locks l
        WHERE %s
      )""".formatted(JobLocks.JOB_ID, JobLocks.HELD);

  /** The hung test, on a que_heartbeats row {@code h}; the one parameter is staleBeats. */
  static final String STALE = "h.last_beat < now() - h.beat_interval * ?";
  static final String OVER_TIMEOUT = "(h.timeout IS NOT NULL AND h.started_at + h.timeout + h.beat_interval < now())";

  private static final String HEARTBEAT_ROWS = """
      SELECT 'HEARTBEAT' AS source, h.job_id, h.queue, h.job_class, h.backend_pid, h.worker_name, h.host, h.os_pid,
             h.started_at, h.last_beat, h.progress::integer AS progress,
             (extract(epoch FROM h.timeout) * 1000000)::bigint AS timeout_us,
             a.application_name, host(a.client_addr) AS client_addr, a.state, true AS java_holder,
             %s AS stale, %s AS over_timeout
      FROM que_heartbeats h
      JOIN locks k ON k.pid = h.backend_pid AND k.job_id = h.job_id
      LEFT JOIN pg_stat_activity a ON a.pid = h.backend_pid
      """.formatted(STALE, OVER_TIMEOUT);

  /** Lock-only rows; {@code %1$s} is the id column, %2$s/%3$s the que_lockers parts, %4$s/%5$s the heartbeat parts. */
  private static final String LOCK_ROWS = """
      SELECT 'ADVISORY_LOCK', j.%1$s, j.queue, j.job_class, k.pid, NULL::text, %2$s,
             NULL::timestamptz, NULL::timestamptz, NULL::integer, NULL::bigint,
             a.application_name, host(a.client_addr), a.state, %4$s, false, false
      FROM locks k
      JOIN que_jobs j ON j.%1$s = k.job_id
      LEFT JOIN pg_stat_activity a ON a.pid = k.pid
      %3$s%5$s""";

  static List<InFlightJob> list(Connection c, int staleBeats, boolean hungHeartbeatsOnly) throws SQLException {
    Shape shape = Shape.read(c);
    if (!shape.heartbeats() && hungHeartbeatsOnly) {
      return List.of();
    }
    String id = shape.idColumn(); // one of two known names, never input
    StringBuilder sql = new StringBuilder("WITH ").append(LOCKS).append("\n");
    boolean heartbeats = shape.heartbeats();
    if (heartbeats) {
      sql.append(HEARTBEAT_ROWS);
      if (hungHeartbeatsOnly) {
        sql.append("WHERE (").append(STALE).append(" OR ").append(OVER_TIMEOUT).append(")\n");
      }
    }
    if (!hungHeartbeatsOnly) {
      if (heartbeats) {
        sql.append("UNION ALL\n");
      }
      String lockerCols = shape.lockers() ? "ql.ruby_hostname, ql.ruby_pid::bigint" : "NULL::text, NULL::bigint";
      String lockerJoin = shape.lockers() ? "LEFT JOIN que_lockers ql ON ql.pid = k.pid\n" : "";
      String javaHolder = heartbeats
          ? "EXISTS (SELECT 1 FROM que_heartbeats hb WHERE hb.backend_pid = k.pid)" : "false";
      String notHeartbeat = heartbeats
          ? "WHERE NOT EXISTS (SELECT 1 FROM que_heartbeats h WHERE h.backend_pid = k.pid AND h.job_id = k.job_id)\n" : "";
      sql.append(String.format(LOCK_ROWS, id, lockerCols, lockerJoin, javaHolder, notHeartbeat));
    }
    sql.append("ORDER BY 2, 5");
    try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
      if (heartbeats) {
        ps.setInt(1, staleBeats);
        if (hungHeartbeatsOnly) {
          ps.setInt(2, staleBeats);
        }
      }
      List<InFlightJob> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(read(rs));
        }
      }
      return out;
    }
  }

  private static InFlightJob read(ResultSet rs) throws SQLException {
    OffsetDateTime started = rs.getObject(9, OffsetDateTime.class);
    OffsetDateTime beat = rs.getObject(10, OffsetDateTime.class);
    Number progress = (Number) rs.getObject(11);
    Number timeoutUs = (Number) rs.getObject(12);
    Number osPid = (Number) rs.getObject(8);
    return new InFlightJob(
        InFlightJob.Source.valueOf(rs.getString(1)),
        rs.getLong(2),
        rs.getString(3),
        rs.getString(4),
        rs.getInt(5),
        Optional.ofNullable(rs.getString(6)),
        Optional.ofNullable(rs.getString(7)),
        osPid == null ? OptionalLong.empty() : OptionalLong.of(osPid.longValue()),
        Optional.ofNullable(started).map(OffsetDateTime::toInstant),
        Optional.ofNullable(beat).map(OffsetDateTime::toInstant),
        progress == null ? OptionalInt.empty() : OptionalInt.of(progress.intValue()),
        Optional.ofNullable(timeoutUs).map(us -> Duration.ofNanos(us.longValue() * 1000L)),
        Optional.ofNullable(rs.getString(13)),
        Optional.ofNullable(rs.getString(14)),
        rs.getString(15),
        rs.getBoolean(16),
        rs.getBoolean(17),
        rs.getBoolean(18));
  }
}
