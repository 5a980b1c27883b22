package io.quejava.ext.deadletter;

import io.quejava.Client;
import io.quejava.ext.ExtensionMigrator;
import io.quejava.internal.Args;
import io.quejava.internal.Tx;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The dead jobs of one database: list, count, replay, delete, purge. Thread-safe; every call runs
 * in one transaction of its own on a connection from the client's DataSource.
 *
 * <p>On schema 3 the dead jobs are the rows of {@code que_dead_jobs} (install the extension with
 * {@link #migrator(DataSource)}); on schemas 4 to 7 they are the expired rows of {@code que_jobs},
 * whoever expired them (Ruby Que 1.x/2.x, the pool's {@code maxRetryCount}, or
 * {@link DeadLetterInterceptor}).
 *
 * <p><b>Replay keeps the job id.</b> On schema 3 a replayed job goes back into que_jobs under the
 * id it had (its row moves, in one statement, from que_dead_jobs to que_jobs), so logs, error
 * trackers and business tables that point at the id still find it. This is safe because ids come
 * from que_jobs' bigserial, which never hands an id out twice, and a dead job's id is in neither
 * table's live set while it is dead; the replay additionally skips (and leaves dead) any job whose
 * id some session holds the advisory lock of, or that que_jobs already has a row for, so it never
 * creates a second row for a job id nor a row that collides with a running job. On schemas 4 to 7
 * the row never left que_jobs and simply becomes runnable again.
 */
public final class DeadLetters {
  /** The extension's name, the folder of its SQL ({@code migrations/ext/deadletter}). */
  public static final String EXTENSION = "deadletter";
  /** Most ids one {@link #replay(Collection)} or {@link #delete(Collection)} takes: {@value}. */
  public static final int MAX_IDS = 1_000;

  private final DataSource dataSource;
  private final boolean modern;

  private DeadLetters(Client client) {
    this.dataSource = client.dataSource();
    this.modern = client.hasOutcomeColumns();
  }

  /** Dead letters of the database and schema version {@code client} speaks. */
  public static DeadLetters create(Client client) {
    return new DeadLetters(Args.notNull(client, "client"));
  }

  /** The migrator of this extension's table ({@code que_dead_jobs}), in the search_path's schema. */
  public static ExtensionMigrator migrator(DataSource dataSource) {
    return ExtensionMigrator.create(dataSource, EXTENSION);
  }

  /** Dead jobs matching the filter, the most recent death first, at most {@link DeadJobFilter#limit()}. */
  public List<DeadJob> list(DeadJobFilter filter) {
    Args.notNull(filter, "filter");
    return inTransaction("list dead jobs", c -> {
      try (PreparedStatement ps = c.prepareStatement(modern ? DeadLetterSql.MODERN_LIST : DeadLetterSql.CLASSIC_LIST)) {
        int i = bindFilter(ps, 1, filter);
        ps.setInt(i, filter.limit());
        List<DeadJob> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new DeadJob(rs.getLong(1), rs.getString(2), rs.getInt(3), instant(rs, 4), rs.getString(5),
                rs.getString(6), rs.getInt(7), rs.getString(8), rs.getString(9), instant(rs, 10),
                rs.getString(11), rs.getString(12)));
          }
        }
        return out;
      }
    });
  }

  /** All dead jobs. */
  public List<DeadJob> list() {
    return list(DeadJobFilter.all());
  }

  /**
   * Which of these ids are dead jobs now, in id order: for callers that refuse a request naming a
   * job that is not dead before changing anything.
   *
   * @throws IllegalArgumentException when {@code ids} holds null or more than {@value #MAX_IDS} ids
   */
  public List<Long> existing(Collection<Long> ids) {
    Long[] wanted = checkIds(ids);
    return inTransaction("find dead jobs", c -> {
      try (PreparedStatement ps = c.prepareStatement(modern ? DeadLetterSql.MODERN_EXISTING : DeadLetterSql.CLASSIC_EXISTING)) {
        ps.setArray(1, c.createArrayOf("bigint", wanted));
        List<Long> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getLong(1));
          }
        }
        return out;
      }
    });
  }

  /** How many dead jobs match the filter (its limit does not apply). */
  public long count(DeadJobFilter filter) {
    Args.notNull(filter, "filter");
    return inTransaction("count dead jobs", c -> {
      try (PreparedStatement ps = c.prepareStatement(modern ? DeadLetterSql.MODERN_COUNT : DeadLetterSql.CLASSIC_COUNT)) {
        bindFilter(ps, 1, filter);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    });
  }

  /** How many dead jobs there are. */
  public long count() {
    return count(DeadJobFilter.all());
  }

  /**
   * Dead jobs matching the filter, counted by {@link DeadJob#errorType()}: the exception class at
   * the start of the last error's first line ({@code java.net.SocketTimeoutException},
   * {@code NameError}), or that whole line when it starts otherwise ({@code unknown job type:
   * "X"}). Most frequent first; the filter's limit does not apply.
   */
  public Map<String, Long> countByErrorType(DeadJobFilter filter) {
    Args.notNull(filter, "filter");
    return inTransaction("count dead jobs by error", c -> {
      String sql = modern ? DeadLetterSql.MODERN_COUNT_BY_TYPE : DeadLetterSql.CLASSIC_COUNT_BY_TYPE;
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, DeadJob.ERROR_CLASS_REGEX);
        bindFilter(ps, 2, filter);
        Map<String, Long> out = new LinkedHashMap<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.put(rs.getString(1), rs.getLong(2));
          }
        }
        return out;
      }
    });
  }

  /** {@link #countByErrorType(DeadJobFilter)} over all dead jobs. */
  public Map<String, Long> countByErrorType() {
    return countByErrorType(DeadJobFilter.all());
  }

  /**
   * Puts one dead job back in the queue it came from, runnable now, with error_count 0 (the last
   * error text stays until it runs again). Returns false when there is no such dead job, or when it
   * was skipped (see the class comment).
   */
  public boolean replay(long id) {
    return !replay(List.of(id)).isEmpty();
  }

  /**
   * Puts these dead jobs back, all in one transaction (see {@link #replay(long)}). Returns the ids
   * replayed; ids that are not dead jobs, or whose advisory lock some session holds, are left out.
   *
   * @throws IllegalArgumentException when {@code ids} holds null or more than {@value #MAX_IDS} ids
   */
  public List<Long> replay(Collection<Long> ids) {
    Long[] array = checkIds(ids);
    if (array.length == 0) {
      return List.of();
    }
    return inTransaction("replay dead jobs", c -> replayIn(c, array));
  }

  /**
   * Replays the dead jobs matching the filter, at most its limit (capped at {@value #MAX_IDS}), the
   * most recent death first, in one transaction. Returns the ids replayed.
   */
  public List<Long> replay(DeadJobFilter filter) {
    Args.notNull(filter, "filter");
    DeadJobFilter capped = filter.limit() > MAX_IDS ? filter.limit(MAX_IDS) : filter;
    return inTransaction("replay dead jobs", c -> {
      Long[] ids = ids(c, capped);
      return ids.length == 0 ? List.<Long>of() : replayIn(c, ids);
    });
  }

  /**
   * Deletes these dead jobs for good, in one transaction; returns how many were deleted. On schemas
   * 4 to 7 only expired rows are deleted, and never one whose advisory lock some session holds.
   *
   * @throws IllegalArgumentException when {@code ids} holds null or more than {@value #MAX_IDS} ids
   */
  public int delete(Collection<Long> ids) {
    Long[] array = checkIds(ids);
    if (array.length == 0) {
      return 0;
    }
    return inTransaction("delete dead jobs", c -> {
      try (PreparedStatement ps = c.prepareStatement(modern ? DeadLetterSql.MODERN_DELETE : DeadLetterSql.CLASSIC_DELETE)) {
        ps.setArray(1, c.createArrayOf("bigint", array));
        return ps.executeUpdate();
      }
    });
  }

  /** Deletes one dead job; false when there was none. */
  public boolean delete(long id) {
    return delete(List.of(id)) == 1;
  }

  /**
   * Deletes every dead job that died before {@code cutoff} (by the database's clock at their
   * death), in one statement; returns how many.
   */
  public int purgeDiedBefore(Instant cutoff) {
    if (cutoff == null) {
      throw new IllegalArgumentException("cutoff: must not be null");
    }
    return inTransaction("purge dead jobs", c -> {
      try (PreparedStatement ps = c.prepareStatement(modern ? DeadLetterSql.MODERN_PURGE : DeadLetterSql.CLASSIC_PURGE)) {
        ps.setObject(1, cutoff.atOffset(ZoneOffset.UTC));
        return ps.executeUpdate();
      }
    });
  }

  /** Deletes every dead job that died more than {@code age} ago (by this JVM's clock); returns how many. */
  public int purgeOlderThan(Duration age) {
    if (age == null || age.isNegative()) {
      throw new IllegalArgumentException("age: must be zero or positive, got " + age);
    }
    return purgeDiedBefore(Instant.now().minus(age));
  }

  private List<Long> replayIn(Connection c, Long[] ids) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(modern ? DeadLetterSql.MODERN_REPLAY : DeadLetterSql.CLASSIC_REPLAY)) {
      Array a = c.createArrayOf("bigint", ids);
      ps.setArray(1, a);
      List<Long> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getLong(1));
        }
      }
      return out;
    }
  }

  private Long[] ids(Connection c, DeadJobFilter filter) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(modern ? DeadLetterSql.MODERN_IDS : DeadLetterSql.CLASSIC_IDS)) {
      int i = bindFilter(ps, 1, filter);
      ps.setInt(i, filter.limit());
      List<Long> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getLong(1));
        }
      }
      return out.toArray(new Long[0]);
    }
  }

  private static int bindFilter(PreparedStatement ps, int from, DeadJobFilter f) throws SQLException {
    ps.setString(from, f.queue());
    ps.setString(from + 1, f.jobClass());
    ps.setString(from + 2, f.errorContains());
    return from + 3;
  }

  private static Long[] checkIds(Collection<Long> ids) {
    if (ids == null) {
      throw new IllegalArgumentException("ids: must not be null");
    }
    if (ids.size() > MAX_IDS) {
      throw new IllegalArgumentException("ids: at most " + MAX_IDS + " per call, got " + ids.size());
    }
    Long[] array = ids.toArray(new Long[0]);
    for (int i = 0; i < array.length; i++) {
      if (array[i] == null) {
        throw new IllegalArgumentException("ids[" + i + "]: must not be null");
      }
    }
    return array;
  }

  private static Instant instant(ResultSet rs, int column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  private <T> T inTransaction(String what, Tx.Work<T> work) {
    return Tx.run(dataSource, what, work);
  }
}
