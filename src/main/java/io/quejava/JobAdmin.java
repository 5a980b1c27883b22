package io.quejava;

import io.quejava.internal.AdminSql;
import io.quejava.internal.Args;
import io.quejava.internal.StatsSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntConsumer;
import javax.sql.DataSource;

/**
 * What operators do to jobs: list and show them, run them now, delete them, for any schema 3 to 7.
 *
 * <p>Writes follow the rule every worker follows (and que-web before us): on the writing session,
 * {@code pg_try_advisory_lock(id)} first; a job some session holds (a Ruby, Go or Java worker) is
 * skipped and reported in {@link AdminResult#held()}, never touched. Otherwise the row is addressed
 * by its full key on schema 3 (queue, priority, run_at, job_id, as read) or by id on 4 to 7, the
 * statement commits, and only then is the lock released. A row that changed between the read and
 * the write (a worker retried it, moving its run_at) is reported missing, not written.
 *
 * <p>Schema 3 has no index on job_id alone, so finding jobs by id reads the table once per call
 * (one statement for all the ids of the call).
 */
public final class JobAdmin {
  /** Ids one write call takes at most: {@value}. */
  public static final int MAX_IDS = 100_000;

  private final DataSource dataSource;
  private final AdminSql sql;
  private final boolean kwargs;

  private JobAdmin(Client client) {
    this.dataSource = client.dataSource();
    this.sql = AdminSql.of(client.schemaVersion() >= 4);
    this.kwargs = client.schemaVersion() >= 6;
  }

  /** Operations on the table {@code client} speaks to. */
  public static JobAdmin create(Client client) {
    return new JobAdmin(Args.notNull(client, "client"));
  }

  /** The jobs the query matches, in lock order (priority, run_at, id), at most its limit. */
  public List<JobSnapshot> list(JobQuery query) {
    Args.notNull(query, "query");
    StringBuilder text = new StringBuilder(sql.select(kwargs));
    List<Object> params = new ArrayList<>();
    query.queue().ifPresent(q -> {
      text.append(AdminSql.QUEUE);
      params.add(q);
    });
    query.jobClass().ifPresent(c -> {
      text.append(AdminSql.JOB_CLASS);
      params.add(c);
    });
    query.errorContains().ifPresent(e -> {
      text.append(sql.error());
      params.add(e);
    });
    boolean stateTakesIds = query.state().map(s -> !s.equals("finished") && !s.equals("expired")).orElse(false);
    query.state().ifPresent(s -> text.append(sql.state(s)));
    text.append(sql.order());
    return withConnection("listing jobs", c -> {
      Long[] locked = lockedIds(c);
      try (PreparedStatement ps = c.prepareStatement(text.toString())) {
        int i = 1;
        ps.setArray(i++, c.createArrayOf("bigint", locked));
        for (Object p : params) {
          ps.setObject(i++, p);
        }
        if (stateTakesIds) {
          ps.setArray(i++, c.createArrayOf("bigint", locked));
        }
        ps.setInt(i, query.limit());
        return read(ps);
      }
    });
  }

  /** The job with this id, if there is one. */
  public Optional<JobSnapshot> find(long id) {
    List<JobSnapshot> found = findAll(List.of(id));
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  /** The jobs with these ids that exist, in lock order. */
  public List<JobSnapshot> findAll(Collection<Long> ids) {
    Long[] wanted = checkIds(ids);
    return withConnection("reading jobs", c -> {
      try (PreparedStatement ps = c.prepareStatement(sql.select(kwargs) + sql.byIds() + sql.order())) {
        ps.setArray(1, c.createArrayOf("bigint", lockedIds(c)));
        ps.setArray(2, c.createArrayOf("bigint", wanted));
        ps.setInt(3, wanted.length + 1);
        return read(ps);
      }
    });
  }

  /**
   * Runs these jobs now (run_at = now(); on 4–7 an expired job comes back, a finished one is not
   * touched), skipping any job a session holds. {@code progress} is told how many ids are done
   * after each one.
   */
  public AdminResult retry(Collection<Long> ids, IntConsumer progress) {
    return write(ids, sql.retry(), "retry", progress);
  }

  /** {@link #retry(Collection, IntConsumer)} without progress. */
  public AdminResult retry(Collection<Long> ids) {
    return retry(ids, n -> {});
  }

  /** Deletes these jobs, skipping any job a session holds. */
  public AdminResult delete(Collection<Long> ids, IntConsumer progress) {
    return write(ids, sql.delete(), "delete", progress);
  }

  /** {@link #delete(Collection, IntConsumer)} without progress. */
  public AdminResult delete(Collection<Long> ids) {
    return delete(ids, n -> {});
  }

  private AdminResult write(Collection<Long> ids, String statement, String what, IntConsumer progress) {
    Long[] wanted = checkIds(ids);
    Args.notNull(progress, "progress");
    return withConnection(what + " of jobs", c -> {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true); // each write commits before its unlock
      }
      Map<Long, JobSnapshot> rows = new LinkedHashMap<>();
      try (PreparedStatement ps = c.prepareStatement(sql.select(kwargs) + sql.byIds() + sql.order())) {
        ps.setArray(1, c.createArrayOf("bigint", new Long[0]));
        ps.setArray(2, c.createArrayOf("bigint", wanted));
        ps.setInt(3, wanted.length + 1);
        for (JobSnapshot j : read(ps)) {
          rows.put(j.id(), j);
        }
      }
      List<Long> done = new ArrayList<>();
      List<Long> held = new ArrayList<>();
      List<Long> missing = new ArrayList<>();
      int n = 0;
      for (Long id : wanted) {
        JobSnapshot row = rows.get(id);
        if (row == null) {
          missing.add(id);
        } else if (!tryLock(c, id)) {
          held.add(id);
        } else {
          try {
            (writeOne(c, statement, row) == 1 ? done : missing).add(id);
          } finally {
            unlock(c, id);
          }
        }
        progress.accept(++n);
      }
      return new AdminResult(List.copyOf(done), List.copyOf(held), List.copyOf(missing));
    });
  }

  private int writeOne(Connection c, String statement, JobSnapshot row) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(statement)) {
      if (sql.modern()) {
        ps.setLong(1, row.id());
      } else {
        ps.setString(1, row.queue());
        ps.setInt(2, row.priority());
        ps.setObject(3, row.runAt().atOffset(java.time.ZoneOffset.UTC));
        ps.setLong(4, row.id());
      }
      return ps.executeUpdate();
    }
  }

  private static boolean tryLock(Connection c, long id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(AdminSql.TRY_LOCK)) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private static void unlock(Connection c, long id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(AdminSql.UNLOCK)) {
      ps.setLong(1, id);
      ps.execute();
    }
  }

  private static Long[] checkIds(Collection<Long> ids) {
    Args.notNull(ids, "ids");
    if (ids.size() > MAX_IDS) {
      throw new IllegalArgumentException("ids: at most " + MAX_IDS + " per call, got " + ids.size());
    }
    Set<Long> unique = new LinkedHashSet<>();
    for (Long id : ids) {
      unique.add(Args.notNull(id, "ids[i]"));
    }
    return unique.toArray(new Long[0]);
  }

  private static Long[] lockedIds(Connection c) throws SQLException {
    Set<Long> ids = new HashSet<>();
    try (PreparedStatement ps = c.prepareStatement(StatsSql.LOCKS)) {
      ps.setInt(1, Statistics.MAX_LOCKS);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getLong(2));
        }
      }
    }
    return ids.toArray(new Long[0]);
  }

  private List<JobSnapshot> read(PreparedStatement ps) throws SQLException {
    List<JobSnapshot> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Instant finished = instant(rs, 10);
        Instant expired = instant(rs, 11);
        boolean running = rs.getBoolean(13);
        Instant runAt = instant(rs, 4);
        JobSnapshot.State state = finished != null ? JobSnapshot.State.FINISHED
            : expired != null ? JobSnapshot.State.EXPIRED
            : running ? JobSnapshot.State.RUNNING
            : runAt.isAfter(Instant.now()) ? JobSnapshot.State.SCHEDULED : JobSnapshot.State.READY;
        out.add(new JobSnapshot(rs.getLong(1), rs.getString(2), rs.getInt(3), runAt, rs.getString(5),
            rs.getString(6), rs.getInt(7), Optional.ofNullable(rs.getString(8)), Optional.ofNullable(rs.getString(9)),
            Optional.ofNullable(finished), Optional.ofNullable(expired), Optional.ofNullable(rs.getString(12)), state));
      }
    }
    return List.copyOf(out);
  }

  private static Instant instant(ResultSet rs, int i) throws SQLException {
    OffsetDateTime t = rs.getObject(i, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T withConnection(String what, Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      return work.run(c);
    } catch (SQLException e) {
      throw new QueException(what + " failed: " + e.getMessage(), e);
    }
  }
}
