package io.quejava.internal;

import io.quejava.NewJob;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** Reading back what a batch insert returned, shared by the dialects. */
final class Inserts {
  private Inserts() {}

  /** Builds the row of one inserted job from what was sent and what the database chose. */
  interface RowMaker {
    JobRow make(NewJob job, long id, OffsetDateTime runAt);
  }

  /** Which columns of a batch the statement takes after the five every schema has. */
  enum Extra { NONE, DATA, DATA_AND_KWARGS }

  /**
   * Binds the batch as column arrays, parameters 1 and on: queue, priority, run_at (text, so the
   * database reads microseconds and BC years exactly), job_class, args, then data and kwargs as
   * {@code extra} asks. Returns the arrays (to free) and the next parameter index is their count + 1.
   */
  static List<Array> bind(Connection c, PreparedStatement ps, List<NewJob> jobs, String defaultQueue, Extra extra)
      throws SQLException {
    int n = jobs.size();
    String[] queues = new String[n];
    Integer[] priorities = new Integer[n];
    String[] runAts = new String[n];
    String[] classes = new String[n];
    String[] args = new String[n];
    String[] data = new String[n];
    String[] kwargs = new String[n];
    for (int i = 0; i < n; i++) {
      NewJob job = jobs.get(i);
      queues[i] = job.queueOr(defaultQueue);
      priorities[i] = job.priority();
      runAts[i] = job.runAt().map(t -> Text.pgTimestamp(t.atOffset(ZoneOffset.UTC))).orElse(null);
      classes[i] = job.jobClass();
      args[i] = job.argsJson();
      if (extra != Extra.NONE) {
        data[i] = job.dataJson();
        kwargs[i] = job.kwargsJson().orElse("{}");
      }
    }
    List<Array> arrays = new ArrayList<>(7);
    arrays.add(c.createArrayOf("text", queues));
    arrays.add(c.createArrayOf("int4", priorities));
    arrays.add(c.createArrayOf("text", runAts));
    arrays.add(c.createArrayOf("text", classes));
    arrays.add(c.createArrayOf("text", args));
    if (extra != Extra.NONE) {
      arrays.add(c.createArrayOf("text", data));
    }
    if (extra == Extra.DATA_AND_KWARGS) {
      arrays.add(c.createArrayOf("text", kwargs));
    }
    for (int i = 0; i < arrays.size(); i++) {
      ps.setArray(i + 1, arrays.get(i));
    }
    return arrays;
  }

  static void free(List<Array> arrays) throws SQLException {
    for (Array a : arrays) {
      a.free();
    }
  }

  /** Reads the (n, id, run_at) triples of a batch insert (n is the 1-based input position). */
  static List<JobRow> read(PreparedStatement ps, List<NewJob> jobs, RowMaker maker) throws SQLException {
    JobRow[] rows = new JobRow[jobs.size()];
    int count = 0;
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        int i = (int) rs.getLong(1) - 1;
        rows[i] = maker.make(jobs.get(i), rs.getLong(2), rs.getObject(3, OffsetDateTime.class));
        count++;
      }
    }
    if (count != rows.length) {
      throw new IllegalStateException("batch insert returned " + count + " rows for " + rows.length + " jobs");
    }
    return Arrays.asList(rows);
  }

  /**
   * From this many jobs on, a batch is written with COPY ({@link #copy}); below it, with the one
   * multi-row INSERT. COPY costs two more round trips (the ids, then the data; in autocommit also the
   * commit of its own transaction) but writes each row several times faster; see bench/README.md.
   */
  static final int COPY_MIN_JOBS = 128;

  /** Whether this batch goes by COPY: large enough, and the connection is pgjdbc's (directly or wrapped). */
  static boolean copies(Connection c, List<NewJob> jobs) throws SQLException {
    return jobs.size() >= COPY_MIN_JOBS && c.isWrapperFor(PGConnection.class);
  }

  /** Which columns of a dialect a COPY writes, and how its rows come back. */
  record CopyShape(String idColumn, Extra extra, Integer jobSchemaVersion) {}

  /**
   * The ids of {@code $1} new jobs drawn from the table's sequence (found through the search_path,
   * as the INSERTs find the table), one per input position, and the transaction's now(), which is
   * the run_at every job without one gets. When the ids are one unbroken run (no other session drew
   * from the sequence meanwhile) only its first and last are sent back, else all of them (sorted
   * here, so that ids increase with the input; any order would do, as each id is tied to the job it
   * is written with). Measured here, 10,000 ids: 3.5 ms, against 5.1 ms for the
   * same with the ids sorted in a materialised CTE and 5.7 ms for one row per id.
   */
  private static final String RESERVE =
      "SELECT now(), min(id), max(id), count(*),\n"
          + "       CASE WHEN max(id) - min(id) + 1 = count(*) THEN NULL ELSE array_agg(id) END\n"
          + "FROM (SELECT nextval((SELECT pg_get_serial_sequence('que_jobs', %s)::regclass)) AS id\n"
          + "      FROM generate_series(1, ?)) AS r";

  /** "COPY que_jobs, line 12, column args: ..." (the 1-based data line is the job's position). */
  private static final Pattern COPY_LINE = Pattern.compile("COPY que_jobs, line (\\d+)");

  /** Characters written per CopyData message (then encoded as UTF-8 and sent). */
  private static final int CHUNK = 1 << 16;

  /**
   * Writes the batch with one COPY in text format: first its ids are reserved from the sequence and
   * the transaction's now() read (one statement), then every row goes with its id, so each returned
   * row is tied to its input position. Jobs without a run_at get that now(): when no job of the
   * batch has one, the column is left out and the table's default (now()) fills it; otherwise those
   * rows carry the value read, which is the same instant. Row triggers fire as for an INSERT.
   *
   * <p>In autocommit the two statements run in a transaction of their own (committed here); inside
   * the caller's transaction they are part of it. The COPY is one statement: a row the database
   * refuses leaves none of the batch; the error names the job's position ({@code jobs[i]}).
   */
  static List<JobRow> copy(Connection c, List<NewJob> jobs, String defaultQueue, CopyShape shape, RowMaker maker)
      throws SQLException {
    boolean ownTransaction = c.getAutoCommit();
    if (ownTransaction) {
      c.setAutoCommit(false);
    }
    boolean done = false;
    try {
      List<JobRow> rows = copyIn(c, jobs, defaultQueue, shape, maker);
      if (ownTransaction) {
        c.commit();
      }
      done = true;
      return rows;
    } finally {
      if (ownTransaction) {
        if (!done) {
          c.rollback();
        }
        c.setAutoCommit(true);
      }
    }
  }

  private static List<JobRow> copyIn(Connection c, List<NewJob> jobs, String defaultQueue, CopyShape shape,
      RowMaker maker) throws SQLException {
    int n = jobs.size();
    OffsetDateTime now;
    long[] ids = new long[n];
    try (PreparedStatement ps = c.prepareStatement(String.format(RESERVE, "'" + shape.idColumn() + "'"))) {
      ps.setInt(1, n);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        now = rs.getObject(1, OffsetDateTime.class);
        long first = rs.getLong(2);
        long last = rs.getLong(3);
        long count = rs.getLong(4);
        Array a = rs.getArray(5);
        if (count != n) {
          throw new IllegalStateException("the sequence gave " + count + " ids for " + n + " jobs");
        }
        if (a == null) {
          for (int i = 0; i < n; i++) {
            ids[i] = first + i;
          }
        } else {
          Object[] got = (Object[]) a.getArray();
          for (int i = 0; i < n; i++) {
            ids[i] = ((Number) got[i]).longValue();
          }
          a.free();
          Arrays.sort(ids); // in input order, whatever order the aggregate met them in
        }
        if (ids[n - 1] != last) {
          throw new IllegalStateException("the ids reserved do not end at " + last);
        }
      }
    }
    boolean anyRunAt = false;
    for (NewJob job : jobs) {
      if (job.runAt().isPresent()) {
        anyRunAt = true;
        break;
      }
    }
    String nowText = anyRunAt ? Text.pgTimestamp(now) : null;
    StringBuilder sql = new StringBuilder("COPY que_jobs (").append(shape.idColumn()).append(", queue, priority, ");
    if (anyRunAt) {
      sql.append("run_at, ");
    }
    sql.append("job_class, args");
    if (shape.extra() != Extra.NONE) {
      sql.append(", data");
    }
    if (shape.extra() == Extra.DATA_AND_KWARGS) {
      sql.append(", kwargs");
    }
    String jsv = null;
    if (shape.jobSchemaVersion() != null) {
      sql.append(", job_schema_version");
      jsv = shape.jobSchemaVersion().toString();
    }
    sql.append(") FROM STDIN");

    JobRow[] rows = new JobRow[n];
    CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql.toString());
    boolean ended = false;
    try {
      StringBuilder sb = new StringBuilder(Math.min(CHUNK * 2, 64 + n * 48));
      for (int i = 0; i < n; i++) {
        NewJob job = jobs.get(i);
        String queue = job.queueOr(defaultQueue);
        sb.append(ids[i]).append('\t');
        field(sb, queue).append('\t');
        sb.append(job.priority()).append('\t');
        OffsetDateTime runAt = job.runAt().map(t -> t.atOffset(ZoneOffset.UTC)).orElse(now);
        if (anyRunAt) {
          sb.append(job.runAt().isPresent() ? Text.pgTimestamp(runAt) : nowText).append('\t');
        }
        field(sb, job.jobClass()).append('\t');
        field(sb, job.argsJson());
        if (shape.extra() != Extra.NONE) {
          field(sb.append('\t'), job.dataJson());
        }
        if (shape.extra() == Extra.DATA_AND_KWARGS) {
          field(sb.append('\t'), job.kwargsJson().orElse("{}"));
        }
        if (jsv != null) {
          sb.append('\t').append(jsv);
        }
        sb.append('\n');
        rows[i] = maker.make(job, ids[i], runAt);
        if (sb.length() >= CHUNK) {
          send(in, sb);
        }
      }
      send(in, sb);
      long written = in.endCopy();
      ended = true;
      if (written != n) {
        throw new IllegalStateException("COPY wrote " + written + " rows for " + n + " jobs");
      }
    } catch (SQLException e) {
      throw named(e, jobs);
    } finally {
      if (!ended && in.isActive()) {
        in.cancelCopy();
      }
    }
    return Arrays.asList(rows);
  }

  private static void send(CopyIn in, StringBuilder sb) throws SQLException {
    byte[] bytes = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    in.writeToCopy(bytes, 0, bytes.length);
    sb.setLength(0);
  }

  /**
   * Appends a value in COPY's text format: backslash, tab, newline and carriage return escaped (NUL
   * never gets here: NewJob refuses it). Every other character, any Unicode, goes as it is.
   */
  static StringBuilder field(StringBuilder sb, String value) {
    int len = value.length();
    for (int i = 0; i < len; i++) {
      char ch = value.charAt(i);
      switch (ch) {
        case '\\' -> sb.append("\\\\");
        case '\t' -> sb.append("\\t");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        default -> sb.append(ch);
      }
    }
    return sb;
  }

  /** The database's error, naming the job of the line it refused when it says which. */
  private static SQLException named(SQLException e, List<NewJob> jobs) {
    ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
    String where = server == null ? null : server.getWhere();
    if (where == null) {
      return e;
    }
    Matcher m = COPY_LINE.matcher(where);
    if (!m.find()) {
      return e;
    }
    long line;
    try {
      line = Long.parseLong(m.group(1));
    } catch (NumberFormatException bad) {
      return e;
    }
    if (line < 1 || line > jobs.size()) {
      return e;
    }
    int i = (int) line - 1;
    return new SQLException("jobs[" + i + "] (" + jobs.get(i).jobClass() + "): " + server.getMessage(),
        e.getSQLState(), e);
  }
}
