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
 * kwargs on 6 and 7), which reads rows until a page is full.
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

  JobsSql(int schemaVersion) {
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
      try {
        String[] p = new String(Base64.getUrlDecoder().decode(s), StandardCharsets.UTF_8).split("\n", -1);
        if (p.length != 5) {
          throw new IllegalArgumentException("5 parts expected");
        }
        return new Cursor(p[0], Integer.parseInt(p[1]), Instant.ofEpochSecond(Long.parseLong(p[2]), Long.parseLong(p[3])),
            Long.parseLong(p[4]));
      } catch (IllegalArgumentException e) {
        throw new Form.BadRequest("after: not a page cursor of this dashboard");
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
  private boolean keyOrder(Filter f) {
    return !modern || (pollIndexByQueue && !f.state().isEmpty() && !f.state().equals("finished") && !f.state().equals("expired"));
  }

  private String columns(int preview) {
    String args = preview > 0 ? "left(args::text, " + preview + ")" : "args::text";
    String err = modern ? "last_error_message" : "last_error";
    String error = preview > 0 ? "left(" + err + ", " + preview + ")" : err;
    return id + ", queue, priority, run_at, job_class, " + args + ", error_count, " + error + ", "
        + (modern ? "finished_at, expired_at" : "NULL::timestamptz, NULL::timestamptz") + ", " + id + " = ANY(?)";
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

  /** A page of at most {@code limit} rows after {@code after}, plus whether there are more. */
  record Page(List<Row> rows, boolean more) {}

  Page list(Connection c, Filter f, Cursor after, int limit, int timeoutSeconds) throws SQLException {
    List<Object> params = new ArrayList<>();
    params.add(LOCKED);
    StringBuilder q = new StringBuilder("SELECT ").append(columns(160)).append(" FROM que_jobs").append(where(f, params));
    boolean key = keyOrder(f);
    if (after != null) {
      if (key) {
        q.append(" AND (queue, priority, run_at, ").append(id).append(") > (?, ?, ?, ?)");
        params.add(after.queue());
        params.add(after.priority());
        params.add(after.runAt().atOffset(ZoneOffset.UTC));
        params.add(after.id());
      } else {
        q.append(" AND id > ?");
        params.add(after.id());
      }
    }
    q.append(key ? " ORDER BY queue, priority, run_at, " + id : " ORDER BY id").append(" LIMIT ?");
    params.add(limit + 1);
    List<Row> rows = query(c, q.toString(), params, timeoutSeconds);
    boolean more = rows.size() > limit;
    return new Page(more ? rows.subList(0, limit) : rows, more);
  }

  /** Ids of up to {@code max} jobs matching the filter, for a bulk action. */
  List<Long> ids(Connection c, Filter f, int max, int timeoutSeconds) throws SQLException {
    List<Long> out = new ArrayList<>();
    Cursor after = null;
    while (out.size() < max) {
      Page p = list(c, f, after, Math.min(1000, max - out.size()), timeoutSeconds);
      for (Row r : p.rows()) {
        out.add(r.id());
      }
      if (!p.more() || p.rows().isEmpty()) {
        break;
      }
      after = p.rows().get(p.rows().size() - 1).cursor();
    }
    return out;
  }

  Optional<Detail> find(Connection c, long jobId) throws SQLException {
    String extra = (kwargs ? "kwargs::text" : "NULL::text") + ", " + (modern ? "data::text, last_error_backtrace" : "NULL::text, NULL::text");
    String q = "SELECT " + columns(0) + ", " + extra + " FROM que_jobs WHERE " + id + " = ?";
    try (PreparedStatement ps = c.prepareStatement(q)) {
      ps.setArray(1, c.createArrayOf("bigint", lockedIds(c)));
      ps.setLong(2, jobId);
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

  private List<Row> query(Connection c, String q, List<Object> params, int timeoutSeconds) throws SQLException {
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
      List<Row> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(row(rs));
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
