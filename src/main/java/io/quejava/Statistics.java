package io.quejava;

import io.quejava.internal.Args;
import io.quejava.internal.StatsSql;
import io.quejava.internal.Tx;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * The figures of que_jobs that operators read: per queue and state, the queue latency, and who
 * holds the running jobs. One source for the CLI's {@code status}, metrics and dashboards, for any
 * schema 3 to 7 and for jobs of every language on the table (a job is running while any session
 * holds its advisory lock, whoever took it).
 *
 * <pre>{@code
 * Statistics stats = Statistics.create(client);
 * for (QueueStats q : stats.summary().queues()) {
 *   System.out.println(q.queue() + ": " + q.ready() + " ready, latency " + q.oldestReadyAge());
 * }
 * }</pre>
 *
 * <p><b>Cost.</b> It stays cheap on tables of millions of rows. A table (or, on the large-table path,
 * a queue) with at most {@link Builder#exactLimit(int) exactLimit} rows is counted exactly, in one
 * statement over at most that many rows. Beyond it, queues and each queue's oldest ready job come
 * from loose scans of the index Que's lock query uses (the primary key on schema 3, que_poll_idx on
 * 4 to 7), running jobs from {@code pg_locks} (on 4 to 7 joined to the primary key; on 3, whose only
 * index leads with queue, found among the first exactLimit rows of each queue in lock order, where
 * workers take jobs, or in que-java's heartbeats), and the counts that would need a scan from a
 * block sample of {@link Builder#samplePages(int) samplePages} pages ({@code TABLESAMPLE SYSTEM}),
 * flagged {@link QueueStats#estimated()}. On 4 to 7, finished and expired rows are in no index, so
 * on a table larger than the sample they are always estimates. Each call reads in one read-only
 * REPEATABLE READ transaction, so the figures share one snapshot and one {@code now()}.
 *
 * <p>Thread-safe; it holds no connection between calls.
 */
public final class Statistics {
  /** Default for {@link Builder#exactLimit(int)}: {@value} rows. */
  public static final int DEFAULT_EXACT_LIMIT = 10_000;

  /** Default for {@link Builder#samplePages(int)}: {@value} pages (8 kB each). */
  public static final int DEFAULT_SAMPLE_PAGES = 200;

  /** Locks read from pg_locks at most; more would be a database with other uses of bigint locks. */
  static final int MAX_LOCKS = 100_000;

  /**
   * Schema 3, large queues: how many of a queue's first rows in lock order are searched for the
   * locked ids. Workers lock from the head, so running jobs sit there unless thousands of more
   * urgent jobs arrived after they started.
   */
  static final int HEAD_WINDOW = 1_000;

  /** Queues reported at most. */
  static final int MAX_QUEUES = 10_000;

  private final DataSource dataSource;
  private final int schemaVersion;
  private final StatsSql sql;
  private final int exactLimit;
  private final int samplePages;

  private Statistics(Builder b) {
    this.dataSource = b.client.dataSource();
    this.schemaVersion = b.client.schemaVersion();
    this.sql = StatsSql.of(schemaVersion);
    this.exactLimit = b.exactLimit;
    this.samplePages = b.samplePages;
  }

  /** Statistics of the table {@code client} speaks to, with the default limits. */
  public static Statistics create(Client client) {
    return builder(client).build();
  }

  /** Statistics of que_jobs where the data source's search_path finds it (reads its version now). */
  public static Statistics create(DataSource dataSource) {
    return create(Client.create(Args.notNull(dataSource, "dataSource")));
  }

  public static Builder builder(Client client) {
    return new Builder(Args.notNull(client, "client"));
  }

  /** The que_jobs schema version these statistics read. */
  public int schemaVersion() {
    return schemaVersion;
  }

  /** Every queue's figures (see {@link QueueStats}); ordered by queue name. */
  public StatsReport summary() {
    return read("reading queue statistics", this::summary);
  }

  /**
   * One queue's figures per job class, ordered by class. Exact when the queue has at most the exact
   * limit of pending rows (on 4 to 7 finished and expired come from the sample when the table is
   * larger than it); otherwise every figure comes from the block sample.
   */
  public List<JobClassStats> byJobClass(String queue) {
    Args.notNull(queue, "queue");
    return read("reading job class statistics", c -> byJobClass(c, queue));
  }

  /** The sessions that hold job locks now, with what is known of their processes; ordered by pid. */
  public List<LockHolder> holders() {
    return read("reading lock holders", this::holders);
  }

  // ---------------------------------------------------------------------------------------------

  /** One read-only snapshot: one now() and one view of the table for every figure. */
  private <T> T read(String what, Tx.Work<T> work) {
    return Tx.readSnapshot(dataSource, what, work);
  }

  /** What the one catalog query says. */
  private record Catalog(Instant now, long pages, boolean deadTable, boolean heartbeats, boolean lockers,
      double reltuples, long relpages, Long[] lockedIds, long boundedTotal) {

    /** Rows in the table now, as the planner would guess them: last density times current pages. */
    double rowEstimate() {
      return relpages > 0 && reltuples >= 0 ? reltuples / relpages * pages : -1;
    }
  }

  private Catalog catalog(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(StatsSql.CATALOG)) {
      ps.setInt(1, MAX_LOCKS);
      ps.setInt(2, exactLimit + 1);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new QueException("que_jobs is not on the connection's search_path any more");
        }
        Array a = rs.getArray(8);
        Object[] raw = (Object[]) a.getArray();
        Long[] ids = new Long[raw.length];
        for (int i = 0; i < raw.length; i++) {
          ids[i] = ((Number) raw[i]).longValue();
        }
        return new Catalog(rs.getObject(1, OffsetDateTime.class).toInstant(), rs.getLong(2), rs.getBoolean(3),
            rs.getBoolean(4), rs.getBoolean(5), rs.getDouble(6), rs.getLong(7), ids, rs.getLong(9));
      }
    }
  }

  /** Mutable figures while they are gathered. */
  private static final class Acc {
    long ready;
    long scheduled;
    long running;
    long failing;
    long finished;
    long expired;
    Long dead;
    Instant oldest;
    boolean estimated;
  }

  private StatsReport summary(Connection c) throws SQLException {
    Catalog cat = catalog(c);
    Long[] ids = cat.lockedIds();
    Array idArray = c.createArrayOf("bigint", ids);
    Map<String, Acc> queues = new TreeMap<>();
    long unlocated = 0;
    if (cat.boundedTotal() <= exactLimit) {
      try (PreparedStatement ps = c.prepareStatement(sql.exactByQueue())) {
        ps.setArray(1, idArray);
        readFigures(ps, 1, queues, 1.0, false);
      }
    } else {
      Set<Long> located = new HashSet<>();
      Map<String, Long> modernRunning = new HashMap<>();
      if (sql.modern() && ids.length > 0) {
        try (PreparedStatement ps = c.prepareStatement(sql.runningByQueue())) {
          ps.setArray(1, idArray);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              modernRunning.merge(rs.getString(1), 1L, Long::sum);
            }
          }
        }
      }
      List<Integer> versions = versions(c);
      Map<String, Long> sizes = new TreeMap<>();
      for (Integer v : versions) {
        try (PreparedStatement ps = c.prepareStatement(sql.queuesWithCounts())) {
          int i = 1;
          if (v != null) {
            ps.setInt(i++, v);
            ps.setInt(i++, v);
            ps.setInt(i++, v);
          }
          ps.setInt(i++, exactLimit + 1);
          ps.setInt(i, MAX_QUEUES);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              sizes.merge(rs.getString(1), rs.getLong(2), Long::sum);
            }
          }
        }
      }
      List<String> small = new ArrayList<>();
      List<String> big = new ArrayList<>();
      sizes.forEach((q, n) -> (n <= exactLimit ? small : big).add(q));
      if (!small.isEmpty()) {
        for (Integer v : versions) {
          try (PreparedStatement ps = c.prepareStatement(sql.exactQueues())) {
            int i = 1;
            ps.setArray(i++, idArray);
            if (v != null) {
              ps.setInt(i++, v);
            }
            ps.setArray(i, c.createArrayOf("text", small.toArray()));
            Map<String, Acc> some = new TreeMap<>();
            readFigures(ps, 1, some, 1.0, false);
            some.forEach((q, a) -> add(queues.computeIfAbsent(q, k -> new Acc()), a));
          }
        }
        small.forEach(q -> queues.computeIfAbsent(q, k -> new Acc()));
      }
      for (String q : big) {
        Acc acc = queues.computeIfAbsent(q, k -> new Acc());
        for (Integer v : versions) {
          acc.oldest = min(acc.oldest, oldestReady(c, q, v, idArray));
        }
        if (sql.modern()) {
          acc.running = modernRunning.getOrDefault(q, 0L);
        }
      }
      if (!sql.modern() && ids.length > 0) {
        // Where workers take jobs: every row of a small queue, the first rows of a large one.
        List<String> names = new ArrayList<>(small);
        names.addAll(big);
        Integer[] windows = new Integer[names.size()];
        for (int i = 0; i < windows.length; i++) {
          windows[i] = i < small.size() ? exactLimit + 1 : Math.min(HEAD_WINDOW, exactLimit);
        }
        try (PreparedStatement ps = c.prepareStatement(StatsSql.HEADS)) {
          ps.setArray(1, c.createArrayOf("text", names.toArray()));
          ps.setArray(2, c.createArrayOf("integer", windows));
          ps.setArray(3, idArray);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              located.add(rs.getLong(2));
              if (big.contains(rs.getString(1))) {
                queues.get(rs.getString(1)).running++;
              }
            }
          }
        }
        unlocated = locateRest(c, cat, ids, located, queues, big);
      }
      double pct = Math.min(100.0, 100.0 * samplePages / Math.max(1, cat.pages()));
      if (!big.isEmpty() || sql.modern()) {
        Map<String, Acc> sample = sample(c, cat, idArray, pct, null);
        for (String q : big) {
          Acc acc = queues.get(q);
          Acc s = sample.getOrDefault(q, new Acc());
          // The sample counts running rows too; they are read exactly, so take them out of ready.
          acc.ready = Math.max(0, s.ready + s.running - acc.running);
          acc.scheduled = s.scheduled;
          acc.failing = s.failing;
          acc.estimated = pct < 100.0;
        }
        if (sql.modern()) {
          for (Map.Entry<String, Acc> e : sample.entrySet()) {
            Acc s = e.getValue();
            if (s.finished == 0 && s.expired == 0) {
              continue;
            }
            Acc acc = queues.computeIfAbsent(e.getKey(), k -> new Acc());
            acc.finished = s.finished;
            acc.expired = s.expired;
            acc.estimated |= s.estimated;
          }
        }
      }
    }
    if (cat.deadTable()) {
      if (sql.modern()) {
        queues.values().forEach(a -> a.dead = a.expired);
      } else {
        deadLetters(c, queues);
      }
    }
    List<QueueStats> out = new ArrayList<>();
    for (Map.Entry<String, Acc> e : queues.entrySet()) {
      Acc a = e.getValue();
      Duration age = a.oldest == null || a.oldest.isAfter(cat.now()) ? Duration.ZERO : Duration.between(a.oldest, cat.now());
      out.add(new QueueStats(e.getKey(), a.ready, a.scheduled, a.running, a.failing, a.finished, a.expired,
          a.dead == null ? OptionalLong.empty() : OptionalLong.of(a.dead), Optional.ofNullable(a.oldest), age,
          a.estimated));
    }
    return new StatsReport(cat.now(), schemaVersion, List.copyOf(out), unlocated, cat.deadTable(), exactLimit);
  }

  /**
   * The block sample, scaled to the table: each group's share of the rows sampled times the rows
   * the table holds now (the density of the last VACUUM/ANALYZE times the current pages, as the
   * planner estimates), which varies less than scaling by the sampled fraction of pages; the latter
   * is the fallback for a table never analysed. {@code queue} null: by queue; else that queue by class.
   */
  private Map<String, Acc> sample(Connection c, Catalog cat, Array ids, double pct, String queue) throws SQLException {
    Map<String, Acc> raw = new TreeMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql.sample(queue != null))) {
      ps.setArray(1, ids);
      ps.setDouble(2, pct);
      readFigures(ps, queue == null ? 1 : 2, raw, 1.0, pct < 100.0);
    }
    double scale = 1.0;
    if (pct < 100.0) {
      long sampled = 0;
      for (Acc a : raw.values()) {
        sampled += a.ready + a.scheduled + a.running + a.finished + a.expired;
      }
      double rows = cat.rowEstimate();
      scale = rows < 0 ? 100.0 / pct : sampled == 0 ? 0 : rows / sampled;
    }
    Map<String, Acc> out = new TreeMap<>();
    String prefix = queue == null ? null : queue + "\u0000";
    for (Map.Entry<String, Acc> e : raw.entrySet()) {
      if (prefix != null && !e.getKey().startsWith(prefix)) {
        continue;
      }
      Acc a = e.getValue();
      a.ready = Math.round(a.ready * scale);
      a.scheduled = Math.round(a.scheduled * scale);
      a.running = Math.round(a.running * scale);
      a.failing = Math.round(a.failing * scale);
      a.finished = Math.round(a.finished * scale);
      a.expired = Math.round(a.expired * scale);
      out.put(e.getKey(), a);
    }
    return out;
  }

  /**
   * Schema 3: locks not found among the queues' first rows may still be que-java jobs with a
   * heartbeat (which names the queue); returns how many stay unlocated.
   */
  private static long locateRest(
      Connection c, Catalog cat, Long[] ids, Set<Long> located, Map<String, Acc> queues, List<String> big)
      throws SQLException {
    List<Long> rest = new ArrayList<>();
    for (Long id : ids) {
      if (!located.contains(id)) {
        rest.add(id);
      }
    }
    if (rest.isEmpty() || !cat.heartbeats()) {
      return rest.size();
    }
    int found = 0;
    try (PreparedStatement ps = c.prepareStatement(StatsSql.HEARTBEAT_JOBS)) {
      ps.setArray(1, c.createArrayOf("bigint", rest.toArray(new Long[0])));
      ps.setInt(2, MAX_LOCKS);
      Set<Long> seen = new HashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (seen.add(rs.getLong(1))) {
            // Exact queues counted their running rows already: a heartbeat job not found there is
            // no longer in que_jobs.
            if (!big.contains(rs.getString(2))) {
              continue;
            }
            queues.get(rs.getString(2)).running++;
            found++;
          }
        }
      }
    }
    return rest.size() - found;
  }

  /** The job schema versions of pending rows on 6 and 7 (one null, meaning none, on 3 to 5). */
  private List<Integer> versions(Connection c) throws SQLException {
    List<Integer> versions = new ArrayList<>();
    if (!sql.versioned()) {
      versions.add(null);
      return versions;
    }
    try (PreparedStatement ps = c.prepareStatement(StatsSql.JOB_SCHEMA_VERSIONS); ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        versions.add(rs.getInt(1));
      }
    }
    return versions;
  }

  /** Binds a queue scope (the job schema version first, when there is one); returns the next index. */
  private static int bindScope(PreparedStatement ps, int i, Integer version, String queue) throws SQLException {
    if (version != null) {
      ps.setInt(i++, version);
    }
    ps.setString(i++, queue);
    return i;
  }

  private static long scoped(Connection c, String text, Integer version, String queue, int bound) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(text)) {
      int i = bindScope(ps, 1, version, queue);
      ps.setInt(i, bound);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static void add(Acc into, Acc a) {
    into.ready += a.ready;
    into.scheduled += a.scheduled;
    into.running += a.running;
    into.failing += a.failing;
    into.finished += a.finished;
    into.expired += a.expired;
    into.oldest = min(into.oldest, a.oldest);
    into.estimated |= a.estimated;
  }

  private static Instant min(Instant a, Instant b) {
    return a == null ? b : b == null ? a : a.isBefore(b) ? a : b;
  }

  private Instant oldestReady(Connection c, String queue, Integer version, Array ids) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql.oldestReady())) {
      int i = bindScope(ps, 1, version, queue);
      i = bindScope(ps, i, version, queue);
      i = bindScope(ps, i, version, queue);
      ps.setArray(i, ids);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        OffsetDateTime t = rs.getObject(1, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
      }
    }
  }

  private void deadLetters(Connection c, Map<String, Acc> queues) throws SQLException {
    Map<String, Long> dead = new HashMap<>();
    long seen = 0;
    try (PreparedStatement ps = c.prepareStatement(StatsSql.DEAD_BY_QUEUE)) {
      ps.setInt(1, exactLimit + 1);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          dead.put(rs.getString(1), rs.getLong(2));
          seen += rs.getLong(2);
        }
      }
    }
    double scale = 1.0;
    if (seen > exactLimit) {
      // More dead jobs than the limit: spread the table's row estimate over the rows read.
      long estimate;
      try (PreparedStatement ps = c.prepareStatement(StatsSql.DEAD_ESTIMATE); ResultSet rs = ps.executeQuery()) {
        estimate = rs.next() ? rs.getLong(1) : 0;
      }
      scale = Math.max(1.0, estimate / (double) seen);
    }
    for (Acc a : queues.values()) {
      a.dead = 0L;
    }
    for (Map.Entry<String, Long> e : dead.entrySet()) {
      Acc a = queues.computeIfAbsent(e.getKey(), k -> new Acc());
      a.dead = Math.round(e.getValue() * scale);
      a.estimated |= scale > 1.0;
    }
  }

  /** Reads FIGURES rows (group columns first, {@code keys} of them) into {@code into}, scaled. */
  private static void readFigures(PreparedStatement ps, int keys, Map<String, Acc> into, double scale, boolean estimated)
      throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String key = keys == 1 ? rs.getString(1) : rs.getString(1) + "\u0000" + rs.getString(2);
        Acc a = new Acc();
        int i = keys + 1;
        a.ready = Math.round(rs.getLong(i) * scale);
        a.scheduled = Math.round(rs.getLong(i + 1) * scale);
        a.running = Math.round(rs.getLong(i + 2) * scale);
        a.failing = Math.round(rs.getLong(i + 3) * scale);
        a.finished = Math.round(rs.getLong(i + 4) * scale);
        a.expired = Math.round(rs.getLong(i + 5) * scale);
        OffsetDateTime t = rs.getObject(i + 6, OffsetDateTime.class);
        a.oldest = t == null ? null : t.toInstant();
        a.estimated = estimated;
        into.put(key, a);
      }
    }
  }

  private List<JobClassStats> byJobClass(Connection c, String queue) throws SQLException {
    Catalog cat = catalog(c);
    Array ids = c.createArrayOf("bigint", cat.lockedIds());
    Map<String, Acc> rows = new TreeMap<>();
    if (cat.boundedTotal() <= exactLimit) {
      try (PreparedStatement ps = c.prepareStatement(sql.exactByClass())) {
        ps.setArray(1, ids);
        ps.setString(2, queue);
        readFigures(ps, 2, rows, 1.0, false);
      }
    } else {
      double pct = Math.min(100.0, 100.0 * samplePages / Math.max(1, cat.pages()));
      Map<String, Acc> sample = sample(c, cat, ids, pct, queue);
      List<Integer> versions = versions(c);
      long n = 0;
      for (Integer v : versions) {
        n += scoped(c, sql.boundedQueue(), v, queue, exactLimit + 1);
      }
      if (n <= exactLimit) {
        for (Integer v : versions) {
          try (PreparedStatement ps = c.prepareStatement(sql.exactQueueByClass())) {
            ps.setArray(1, ids);
            bindScope(ps, 2, v, queue);
            Map<String, Acc> one = new TreeMap<>();
            readFigures(ps, 2, one, 1.0, false);
            one.forEach((k, a) -> add(rows.computeIfAbsent(k, x -> new Acc()), a));
          }
        }
        if (sql.modern()) {
          for (Map.Entry<String, Acc> e : sample.entrySet()) {
            Acc s = e.getValue();
            if (s.finished == 0 && s.expired == 0) {
              continue;
            }
            Acc a = rows.computeIfAbsent(e.getKey(), k -> new Acc());
            a.finished = s.finished;
            a.expired = s.expired;
            a.estimated |= s.estimated;
          }
        }
      } else {
        rows.putAll(sample);
      }
    }
    List<JobClassStats> out = new ArrayList<>();
    for (Map.Entry<String, Acc> e : rows.entrySet()) {
      String cls = e.getKey().substring(e.getKey().indexOf('\u0000') + 1);
      Acc a = e.getValue();
      Duration age = a.oldest == null || a.oldest.isAfter(cat.now()) ? Duration.ZERO : Duration.between(a.oldest, cat.now());
      out.add(new JobClassStats(queue, cls, a.ready, a.scheduled, a.running, a.failing, a.finished, a.expired,
          Optional.ofNullable(a.oldest), age, a.estimated));
    }
    return List.copyOf(out);
  }

  private List<LockHolder> holders(Connection c) throws SQLException {
    Catalog cat = catalog(c);
    String text = String.format(StatsSql.HOLDERS,
        cat.heartbeats() ? StatsSql.HOLDERS_HEARTBEAT : StatsSql.HOLDERS_NO_HEARTBEAT,
        cat.lockers() ? StatsSql.HOLDERS_LOCKER : StatsSql.HOLDERS_NO_LOCKER);
    List<LockHolder> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(text)) {
      ps.setInt(1, MAX_LOCKS);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String javaHost = rs.getString(7);
          Number javaPid = (Number) rs.getObject(8);
          String rubyHost = rs.getString(9);
          Number rubyPid = (Number) rs.getObject(10);
          String language = javaHost != null ? "java" : rubyHost != null ? "ruby" : "unknown";
          String host = javaHost != null ? javaHost : rubyHost;
          Number pid = javaPid != null ? javaPid : rubyPid;
          OffsetDateTime start = rs.getObject(6, OffsetDateTime.class);
          out.add(new LockHolder(rs.getInt(1), rs.getLong(2), language, Optional.ofNullable(host),
              pid == null ? OptionalLong.empty() : OptionalLong.of(pid.longValue()),
              Optional.ofNullable(rs.getString(3)), Optional.ofNullable(rs.getString(4)),
              Optional.ofNullable(rs.getString(5)), Optional.ofNullable(start).map(OffsetDateTime::toInstant)));
        }
      }
    }
    return List.copyOf(out);
  }

  /** Builds {@link Statistics}. */
  public static final class Builder {
    private final Client client;
    private int exactLimit = DEFAULT_EXACT_LIMIT;
    private int samplePages = DEFAULT_SAMPLE_PAGES;

    private Builder(Client client) {
      this.client = client;
    }

    /**
     * Rows up to which a table or a queue is counted exactly (100 to 10,000,000). Default:
     * {@value Statistics#DEFAULT_EXACT_LIMIT}.
     */
    public Builder exactLimit(int rows) {
      if (rows < 100 || rows > 10_000_000) {
        throw new IllegalArgumentException("exactLimit: must be 100 to 10,000,000 rows, got " + rows);
      }
      this.exactLimit = rows;
      return this;
    }

    /**
     * Pages of que_jobs read by the block sample behind the estimates (10 to 1,000,000). Default:
     * {@value Statistics#DEFAULT_SAMPLE_PAGES}.
     */
    public Builder samplePages(int pages) {
      if (pages < 10 || pages > 1_000_000) {
        throw new IllegalArgumentException("samplePages: must be 10 to 1,000,000, got " + pages);
      }
      this.samplePages = pages;
      return this;
    }

    public Statistics build() {
      return new Statistics(this);
    }
  }
}
