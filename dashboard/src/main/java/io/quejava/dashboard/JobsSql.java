package io.quejava.dashboard;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * The dashboard's own reads of que_jobs (the figures come from io.quejava.Statistics): a page of
 * the jobs list, one job in full, the ids a bulk action takes. Both dialects: schema 3 (key queue,
 * priority, run_at, job_id; the primary key and only index) and 4 to 7 (id, plus que_poll_idx on
 * queue, priority, run_at, id for jobs neither finished nor expired).
 *
 * <p>Pages follow a key, never an OFFSET: schema 3, and the pending states of 4 and 5, walk (queue,
 * priority, run_at, id) in index order (the primary key on 3, que_poll_idx on 4 and 5); other
 * listings, and every listing on 6 and 7 (whose que_poll_idx leads with job_schema_version), walk
 * the primary key id. Every value is a bind parameter; filters are fixed fragments.
 *
 * <p>The args filter on 4 to 7: text that parses as a JSON array or object is matched by
 * containment ({@code args @> ?::jsonb}, served by que_jobs_args_gin_idx); any other text, and
 * every args filter on 3 (json, no index), is a case-insensitive substring of the args text (and of
 * kwargs on 6 and 7), which no index serves: such filters are a time-bounded search (see {@link #list}).
 */
final class JobsSql {
  /** The states a filter may name. */
  static final List<String> STATES = List.of("ready", "scheduled", "running", "failing", "finished", "expired");

  static final String LOCKED_IDS =
      "SELECT ((l.classid::bigint << 32) | l.objid::bigint) FROM pg_locks l"
          + " WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted"
          + " AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()) LIMIT 100000";

  static final String HOLDER =
      "SELECT l.pid FROM pg_locks l"
          + " WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted"
          + " AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())"
          + " AND l.classid = (? >> 32)::oid AND l.objid = (? & 4294967295)::oid";

  private final boolean modern;
  private final boolean kwargs;
  private final boolean pollIndexByQueue;
  private final String id;

  private final long budgetMs;
  private final int firstSlice;

  JobsSql(int schemaVersion) {
    this(schemaVersion, SEARCH_BUDGET_MS, FIRST_SLICE);
  }

  /** With a search budget (ms) and first slice (rows) of its own: tests force several continuations with small ones. */
  JobsSql(int schemaVersion, long budgetMs, int firstSlice) {
    if (budgetMs < 0 || firstSlice < 1) {
      throw new IllegalArgumentException("search budget >= 0 ms and first slice >= 1 row expected, got " + budgetMs + ", " + firstSlice);
    }
    this.budgetMs = budgetMs;
    this.firstSlice = firstSlice;
    this.modern = schemaVersion >= 4;
    this.pollIndexByQueue = schemaVersion == 4 || schemaVersion == 5;
    this.kwargs = schemaVersion >= 6;
    this.id = modern ? "id" : "job_id";
  }

  boolean modern() {
    return modern;
  }

  /** What the jobs list filters on; empty strings mean no filter. */
  record Filter(String queue, String jobClass, String state, String error, String args) {
    boolean any() {
      return !(queue.isEmpty() && jobClass.isEmpty() && state.isEmpty() && error.isEmpty() && args.isEmpty());
    }
  }

  /** Where a page starts: after this row. */
  record Cursor(String queue, int priority, Instant runAt, long id) {
    String encode() {
      String s = queue + "\n" + priority + "\n" + runAt.getEpochSecond() + "\n" + runAt.getNano() + "\n" + id;
      return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static Cursor decode(String s) {
      return decode(s, "after");
    }

    /** The cursor a request parameter carries; a bad one is a 400 naming the parameter. */
    static Cursor decode(String s, String param) {
      try {
        String[] p = new String(Base64.getUrlDecoder().decode(s), StandardCharsets.UTF_8).split("\n", -1);
        if (p.length != 5) {
          throw new IllegalArgumentException("5 parts expected");
        }
        return new Cursor(p[0], Integer.parseInt(p[1]), Instant.ofEpochSecond(Long.parseLong(p[2]), Long.parseLong(p[3])),
            Long.parseLong(p[4]));
      } catch (IllegalArgumentException e) {
        throw new Form.BadRequest(param + (param.equals("after") ? ": not a page cursor" : ": not a job key") + " of this dashboard");
      }
    }
  }

  /** One row of the list; texts are cut to a preview. */
  record Row(long id, String queue, int priority, Instant runAt, String jobClass, String args, int errorCount,
      String error, Instant finishedAt, Instant expiredAt, boolean running) {
    String state(Instant now) {
      return finishedAt != null ? "finished" : expiredAt != null ? "expired" : running ? "running"
          : runAt.isAfter(now) ? "scheduled" : "ready";
    }

    Cursor cursor() {
      return new Cursor(queue, priority, runAt, id);
    }
  }

  /** One job in full. */
  record Detail(Row row, String args, String kwargs, String data, String error, String backtrace) {}

  /** Whether this listing walks the (queue, priority, run_at, id) key rather than id. */
  boolean keyOrder(Filter f) {
    return !modern || (pollIndexByQueue && !f.state().isEmpty() && !f.state().equals("finished") && !f.state().equals("expired"));
  }

  private String columns(int preview) {
    String args = preview > 0 ? "left(args::text, " + preview + ")" : "args::text";
    String err = modern ? "last_error_message" : "last_error";
    String error = preview > 0 ? "left(" + err + ", " + preview + ")" : err;
    return id + ", queue, priority, run_at, job_class, " + args + " AS args_text, error_count, " + error + " AS error_text, "
        + (modern ? "finished_at, expired_at" : "NULL::timestamptz AS finished_at, NULL::timestamptz AS expired_at")
        + ", " + id + " = ANY(?) AS running";
  }

  private String where(Filter f, List<Object> params) {
    StringBuilder w = new StringBuilder(" WHERE true");
    if (!f.queue().isEmpty()) {
      w.append(" AND queue = ?");
      params.add(f.queue());
    }
    if (!f.jobClass().isEmpty()) {
      w.append(" AND job_class = ?");
      params.add(f.jobClass());
    }
    String pending = modern ? " AND finished_at IS NULL AND expired_at IS NULL" : "";
    switch (f.state()) {
      case "" -> { }
      case "ready" -> w.append(pending).append(" AND run_at <= now() AND NOT ").append(id).append(" = ANY(?)");
      case "scheduled" -> w.append(pending).append(" AND run_at > now() AND NOT ").append(id).append(" = ANY(?)");
      case "running" -> w.append(pending).append(" AND ").append(id).append(" = ANY(?)");
      case "failing" -> w.append(pending).append(" AND error_count > 0 AND NOT ").append(id).append(" = ANY(?)");
      case "finished", "expired" -> {
        if (!modern) {
          throw new Form.BadRequest("state: schema 3 has no " + f.state() + " jobs");
        }
        w.append(" AND ").append(f.state()).append("_at IS NOT NULL");
      }
      default -> throw new Form.BadRequest("state: '" + f.state() + "' is not one of " + STATES);
    }
    if (!f.state().isEmpty() && !f.state().equals("finished") && !f.state().equals("expired")) {
      params.add(LOCKED);
    }
    if (!f.error().isEmpty()) {
      w.append(modern
          ? " AND strpos(lower(coalesce(last_error_message, '') || E'\\n' || coalesce(last_error_backtrace, '')), lower(?)) > 0"
          : " AND strpos(lower(coalesce(last_error, '')), lower(?)) > 0");
      params.add(f.error());
    }
    if (!f.args().isEmpty() && modern && isJsonContainer(f.args())) {
      w.append(" AND args @> ?::jsonb");
      params.add(f.args());
    } else if (!f.args().isEmpty()) {
      w.append(kwargs ? " AND strpos(lower(args::text || coalesce(kwargs::text, '')), lower(?)) > 0"
          : " AND strpos(lower(args::text), lower(?)) > 0");
      params.add(f.args());
    }
    return w.toString();
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  /** Whether the text is a JSON array or object (then matched by containment on 4 to 7). */
  static boolean isJsonContainer(String text) {
    String t = text.trim();
    if (!(t.startsWith("[") || t.startsWith("{"))) {
      return false;
    }
    try {
      return JSON.readTree(t).isContainerNode();
    } catch (java.io.IOException e) {
      return false;
    }
  }

  /** Marks where the locked ids go among the parameters. */
  private static final Object LOCKED = new Object();

  /**
   * A page of at most {@code limit} rows after {@code after}. {@code next}, when not null, is where
   * the following request starts. A time-bounded search (see {@link #list}) sets {@code partial}
   * when its budget ran out before the page was full: then {@code next} is the last row it read
   * (matching or not), and {@code scanned} says how many rows this request read (-1 when no search ran).
   */
  record Page(List<Row> rows, Cursor next, boolean partial, long scanned) {
    boolean more() {
      return next != null;
    }
  }

  /** How long one request's search of a filter no index serves may read rows: {@value} ms. */
  static final int SEARCH_BUDGET_MS = 120;
  /** Rows the first slice of a search reads; later slices are sized from the rate measured. */
  static final int FIRST_SLICE = 2_000;
  private static final int MAX_SLICE = 50_000;

  /**
   * Whether the filter has a predicate the walk's index does not serve: a class, an error text, an
   * args substring, a state (other than running on 4 to 7, whose ids come from pg_locks and are
   * found by the primary key), or a queue where the walk is along id (6 and 7, and finished or
   * expired on 4 and 5). Walking until a page is full would read most of the table when the
   * matches are rare or come late in the key order, so these are a time-bounded search.
   */
  boolean unindexed(Filter f) {
    boolean indexed = (f.queue().isEmpty() || keyOrder(f))
        && f.jobClass().isEmpty()
        && f.error().isEmpty()
        && (f.args().isEmpty() || (modern && isJsonContainer(f.args())))
        && (f.state().isEmpty() || (modern && f.state().equals("running")));
    return !indexed;
  }

  /**
   * A page of the filter. An indexed filter walks its index after {@code after} and stops after a
   * page. A filter no index serves is a time-bounded search: it reads the key order in slices
   * ({@code WHERE key > last ORDER BY key LIMIT slice}, the filter applied outside), until it has
   * the page, reaches the end, or has spent the budget; then the page is partial and its
   * {@code next} resumes after the last row read, so no row is skipped across requests.
   */
  Page list(Connection c, Filter f, Cursor after, int limit, int timeoutSeconds) throws SQLException {
    if (unindexed(f)) {
      return search(c, f, after, limit, timeoutSeconds, budgetMs);
    }
    List<Object> params = new ArrayList<>();
    params.add(LOCKED);
    StringBuilder q = new StringBuilder("SELECT ").append(columns(160)).append(" FROM que_jobs").append(where(f, params));
    boolean key = keyOrder(f);
    if (after != null) {
      q.append(keyAfter(key, after, params));
    }
    params.add(limit + 1);
    List<Row> rows = query(c, q + order(key) + " LIMIT ?", params, timeoutSeconds, JobsSql::row);
    boolean more = rows.size() > limit;
    return more ? new Page(rows.subList(0, limit), rows.get(limit - 1).cursor(), false, -1) : new Page(rows, null, false, -1);
  }

  private String order(boolean key) {
    return key ? " ORDER BY queue, priority, run_at, " + id : " ORDER BY id";
  }

  private String keyAfter(boolean key, Cursor after, List<Object> params) {
    if (key) {
      params.add(after.queue());
      params.add(after.priority());
      params.add(after.runAt().atOffset(ZoneOffset.UTC));
      params.add(after.id());
      return " AND (queue, priority, run_at, " + id + ") > (?, ?, ?, ?)";
    }
    params.add(after.id());
    return " AND id > ?";
  }

  /** Where a search slice ends, and how many rows it holds. */
  private record Bound(Cursor last, long rows) {}

  /** The rows of a search slice after {@code last}: the key order's own conditions, which its index serves. */
  private String sliceConditions(Filter f, boolean key, Cursor last, List<Object> params) {
    StringBuilder w = new StringBuilder("true");
    if (key && modern) {
      w.append(" AND finished_at IS NULL AND expired_at IS NULL"); // que_poll_idx is partial
    }
    if (key && !f.queue().isEmpty()) {
      w.append(" AND queue = ?"); // the leading column of the key order
      params.add(f.queue());
    }
    if (last != null) {
      w.append(keyAfter(key, last, params));
    }
    return w.toString();
  }

  /** The search of {@link #list}; {@code budget} in ms, Long.MAX_VALUE for a complete one (bulk actions). */
  private Page search(Connection c, Filter f, Cursor after, int limit, int timeoutSeconds, long budget) throws SQLException {
    boolean key = keyOrder(f);
    long t0 = System.nanoTime();
    List<Row> found = new ArrayList<>();
    long scanned = 0;
    int slice = firstSlice;
    Cursor last = after;
    while (true) {
      long s0 = System.nanoTime();
      Slice sl = readSlice(c, f, key, last, slice, limit + 1 - found.size(), timeoutSeconds);
      if (sl.bound() == null) {
        return new Page(found, null, false, scanned); // nothing after the last row read: the end
      }
      List<Row> rows = sl.matches();
      Cursor end = sl.bound().last();
      long read = sl.bound().rows();
      long sliceNanos = System.nanoTime() - s0;
      scanned += read; // when the page fills within the slice, an upper bound
      for (Row r : rows) {
        found.add(r);
        if (found.size() > limit) {
          // The page is full and a further match exists: the next page starts after the last row shown.
          return new Page(found.subList(0, limit), found.get(limit - 1).cursor(), false, scanned);
        }
      }
      last = end;
      if (read < slice) {
        return new Page(found, null, false, scanned); // the slice ended before its limit: the end
      }
      long spentMs = (System.nanoTime() - t0) / 1_000_000;
      if (spentMs >= budget) {
        return new Page(found, last, true, scanned);
      }
      // Size the next slice to the rate measured, within what the budget has left.
      double rowsPerMs = read / Math.max(0.05, sliceNanos / 1e6);
      long fit = (long) (rowsPerMs * (budget - spentMs) * 0.8);
      slice = (int) Math.max(firstSlice / 4, Math.min(Math.min(MAX_SLICE, (long) slice * 4), fit));
    }
  }

  /** One slice of a search: where it ends and how many rows it holds (null past the end), and its matches. */
  private record Slice(Bound bound, List<Row> matches) {}

  private Slice readSlice(Connection c, Filter f, boolean key, Cursor last, int slice, int want, int timeoutSeconds)
      throws SQLException {
    // Both statements read one snapshot (REPEATABLE READ), so a row inserted between them cannot
    // shift the second's LIMIT short of the end the first found.
    boolean auto = c.getAutoCommit();
    int isolation = c.getTransactionIsolation();
    c.setAutoCommit(false);
    c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
    try {
      // 1. Where the slice ends: the slice-th key after the last one read (an index-only walk), and how many rows that is.
      String keyCols = key ? "queue, priority, run_at, " + id : "id";
      List<Object> bp = new ArrayList<>();
      String conds = sliceConditions(f, key, last, bp);
      bp.add(slice);
      String bq = "SELECT " + keyCols + ", n FROM (SELECT s.*, row_number() OVER (ORDER BY " + keyCols + ") AS rn, count(*) OVER () AS n"
          + " FROM (SELECT " + keyCols + " FROM que_jobs WHERE " + conds + order(key) + " LIMIT ?) s) b WHERE rn = n";
      List<Bound> bound = query(c, bq, bp, timeoutSeconds, rs -> key
          ? new Bound(new Cursor(rs.getString(1), rs.getInt(2), instant(rs, 3), rs.getLong(4)), rs.getLong(5))
          : new Bound(new Cursor("", 0, Instant.EPOCH, rs.getLong(1)), rs.getLong(2)));
      if (bound.isEmpty()) {
        c.commit();
        return new Slice(null, List.of());
      }
      // 2. Its matches in key order, as many as the page still takes. The slice is walked again
      // with the same LIMIT rather than bounded by its last key: a btree ends a walk at a
      // row-comparison upper bound only on its first column, so on schema 3 that bound would let
      // the walk run through the whole (queue, priority) group.
      List<Object> params = new ArrayList<>();
      params.add(LOCKED);
      String inner = "SELECT * FROM que_jobs WHERE " + sliceConditions(f, key, last, params) + order(key) + " LIMIT ?";
      params.add(slice);
      String pred = where(f, params).substring(" WHERE ".length());
      String mq = "SELECT " + columns(160) + " FROM (" + inner + ") s WHERE " + pred + order(key) + " LIMIT ?";
      params.add(want);
      List<Row> rows = query(c, mq, params, timeoutSeconds, JobsSql::row);
      c.commit();
      return new Slice(bound.get(0), rows);
    } finally {
      c.rollback(); // after the commit a no-op; after a failure it ends the transaction
      c.setTransactionIsolation(isolation);
      c.setAutoCommit(auto);
    }
  }

  /** Ids of up to {@code max} jobs matching the filter, for a bulk action. */
  List<Long> ids(Connection c, Filter f, int max, int timeoutSeconds) throws SQLException {
    List<Long> out = new ArrayList<>();
    Cursor after = null;
    while (out.size() < max) {
      int n = Math.min(1000, max - out.size());
      // A bulk action takes every match: the search has no budget here (each statement keeps its timeout).
      Page p = unindexed(f) ? search(c, f, after, n, timeoutSeconds, Long.MAX_VALUE) : list(c, f, after, n, timeoutSeconds);
      for (Row r : p.rows()) {
        out.add(r.id());
      }
      if (!p.more()) {
        break;
      }
      after = p.next();
    }
    return out;
  }

  /**
   * One job by its id. On schema 3 the primary key is (queue, priority, run_at, job_id), so an id
   * alone is found by a scan; {@code hint}, the key a jobs-list link carries, finds it by the
   * primary key instead, and when the job's key has changed since (a retry moves run_at) the scan
   * still finds it.
   */
  Optional<Detail> find(Connection c, long jobId, Cursor hint) throws SQLException {
    if (!modern && hint != null && hint.id() == jobId) {
      Optional<Detail> d = find(c, jobId, " WHERE queue = ? AND priority = ? AND run_at = ? AND job_id = ?",
          List.of(hint.queue(), hint.priority(), hint.runAt().atOffset(ZoneOffset.UTC), jobId));
      if (d.isPresent()) {
        return d;
      }
    }
    return find(c, jobId, " WHERE " + id + " = ?", List.of(jobId));
  }

  private Optional<Detail> find(Connection c, long jobId, String where, List<Object> params) throws SQLException {
    String extra = (kwargs ? "kwargs::text" : "NULL::text") + ", " + (modern ? "data::text, last_error_backtrace" : "NULL::text, NULL::text");
    String q = "SELECT " + columns(0) + ", " + extra + " FROM que_jobs" + where;
    try (PreparedStatement ps = c.prepareStatement(q)) {
      ps.setArray(1, c.createArrayOf("bigint", lockedIds(c)));
      int i = 2;
      for (Object p : params) {
        ps.setObject(i++, p);
      }
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        Row row = row(rs);
        return Optional.of(new Detail(row, rs.getString(6), rs.getString(12), rs.getString(13), rs.getString(8), rs.getString(14)));
      }
    }
  }

  /** The backend pid of the session holding the job's advisory lock, if any. */
  static Optional<Integer> holder(Connection c, long jobId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(HOLDER)) {
      ps.setLong(1, jobId);
      ps.setLong(2, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getInt(1)) : Optional.empty();
      }
    }
  }

  private interface Mapper<T> {
    T map(ResultSet rs) throws SQLException;
  }

  private <T> List<T> query(Connection c, String q, List<Object> params, int timeoutSeconds, Mapper<T> mapper) throws SQLException {
    Long[] locked = null;
    try (PreparedStatement ps = c.prepareStatement(q)) {
      ps.setQueryTimeout(timeoutSeconds);
      int i = 1;
      for (Object p : params) {
        if (p == LOCKED) {
          if (locked == null) {
            locked = lockedIds(c);
          }
          ps.setArray(i++, c.createArrayOf("bigint", locked));
        } else {
          ps.setObject(i++, p);
        }
      }
      List<T> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(mapper.map(rs));
        }
      }
      return out;
    }
  }

  private static Row row(ResultSet rs) throws SQLException {
    return new Row(rs.getLong(1), rs.getString(2), rs.getInt(3), instant(rs, 4), rs.getString(5), rs.getString(6),
        rs.getInt(7), rs.getString(8), instant(rs, 9), instant(rs, 10), rs.getBoolean(11));
  }

  static Long[] lockedIds(Connection c) throws SQLException {
    List<Long> ids = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(LOCKED_IDS); ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        ids.add(rs.getLong(1));
      }
    }
    return ids.toArray(new Long[0]);
  }

  private static Instant instant(ResultSet rs, int i) throws SQLException {
    OffsetDateTime t = rs.getObject(i, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }
}
