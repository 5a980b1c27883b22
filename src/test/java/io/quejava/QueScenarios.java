package io.quejava;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Scripted uses of a modern que_jobs table whose outcome is written down as text, so that a table
 * Ruby Que migrated and one que-java migrated can be compared by what they do rather than by the
 * text of their functions: which NOTIFY each insert, update and delete sends (channel and payload),
 * what {@code que_determine_job_state} answers, which rows each CHECK accepts or rejects, and what a
 * migration up and down does to existing rows.
 *
 * <p>Each step writes a line {@code > label}, then the rows a query returned, {@code ok <count>} or
 * {@code error <SQLSTATE> <constraint or column>}, then the notifications the step caused (sorted).
 * The connection LISTENs itself, and PostgreSQL delivers a session's own notifications with the
 * reply to the committing statement, so no waiting is needed. The {@code time} field of que_state
 * payloads (the clock) is replaced by {@code <now>} once its format is checked.
 */
final class QueScenarios {
  static final String PAST = "2020-01-02 03:04:05.123456+00";
  static final String FUTURE = "2999-01-01 00:00:00+00";
  static final String WRAPPER = "ActiveJob::QueueAdapters::QueAdapter::JobWrapper";
  /** The fake locker pids of {@link #behaviour}; nothing runs behind them. */
  static final int[] LOCKER_PIDS = {101, 202, 303, 404};

  private static final Object OMIT = new Object();
  private static final Pattern TIME =
      Pattern.compile("\"time\":\"\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z\"");
  private static final Pattern RUN_AT =
      Pattern.compile("\"run_at\":\"\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z\"");
  /** A JSON string (possessive, so that long ones do not recurse deeply). */
  private static final Pattern JSON_STRING = Pattern.compile("\"((?:[^\"\\\\]++|\\\\.)*+)\"");
  /** Strings this long (escapes counted as written) are shortened in transcripts. */
  private static final int LONG = 80;

  /** Moves the database under test to a schema version: que-java's Migrator or Ruby's Que.migrate!. */
  @FunctionalInterface
  interface Migration {
    void to(int version) throws Exception;
  }

  private QueScenarios() {}

  /**
   * Lockers, jobs, updates, deletes, skip_notify, CHECKs and the job-state function on a table at
   * {@code version} (4 to 7) that has no rows yet; the data source's search_path finds it.
   */
  static List<String> behaviour(DataSource ds, int version) throws SQLException {
    try (Connection c = ds.getConnection()) {
      Script s = new Script(c, version);
      for (int pid : LOCKER_PIDS) {
        s.raw("LISTEN que_listener_" + pid);
      }
      s.raw("LISTEN que_state");

      // A locker with one worker on default, one with three on default and mail, one not listening,
      // and (from 5) one for job schema version 1; the others take version 2.
      s.locker(101, 1, "{1}", "{default}", true, 2);
      s.locker(202, 3, "{NULL,NULL,5}", "{default,mail}", true, 2);
      s.locker(303, 2, "{10}", "{mail}", false, 2);
      s.locker(404, 2, "{NULL}", "{default,mail}", true, 1);

      for (long id = 1; id <= 12; id++) {
        s.job("job " + id + ": default, due", id, "default", 100, PAST, "Work", "[]", "{}", OMIT, 2);
      }
      s.job("job 13: mail, version 2", 13, "mail", 50, PAST, "Mail", "[\"x\"]", "{}", OMIT, 2);
      s.job("job 14: mail, version 1", 14, "mail", 50, PAST, "Mail", "[]", "{}", OMIT, 1);
      s.job("job 15: a queue no locker takes", 15, "other", 100, PAST, "Work", "[]", "{}", OMIT, 2);
      s.job("job 16: due in the future", 16, "default", 100, FUTURE, "Later", "[]", "{}", OMIT, 2);
      s.job("job 17: ActiveJob wrapper with tags", 17, "default", 10, PAST, WRAPPER,
          "[{\"job_class\":\"SendMail\",\"arguments\":[]}]", "{\"tags\":[\"a\",\"b\"]}", OMIT, 2);
      s.job("job 18: ActiveJob wrapper without an inner class", 18, "other", 10, PAST, WRAPPER, "[1]", "{}",
          OMIT, 2);
      s.job("job 19: no job_schema_version given", 19, "default", 100, PAST, "Work", "[]", "{}", OMIT, OMIT);
      s.job("job 20: NULL job_schema_version", 20, "default", 100, PAST, "Work", "[]", "{}", OMIT, null);
      s.job("job 21: version 1, with kwargs", 21, "default", 1, PAST, "Kw", "[]", "{}", "{\"k\":1}", 1);

      s.step("priority change, same state", "UPDATE que_jobs SET priority = 5 WHERE id = ?", 1L);
      s.step("ready to errored", "UPDATE que_jobs SET error_count = 1, last_error_message = ? WHERE id = ?",
          "boom", 1L);
      s.step("ready to finished", "UPDATE que_jobs SET finished_at = ?::timestamptz WHERE id = ?", PAST, 2L);
      s.step("ready to expired", "UPDATE que_jobs SET expired_at = ?::timestamptz WHERE id = ?", PAST, 3L);
      s.step("scheduled to ready", "UPDATE que_jobs SET run_at = ?::timestamptz WHERE id = ?", PAST, 16L);
      s.step("ready to scheduled", "UPDATE que_jobs SET run_at = ?::timestamptz WHERE id = ?", FUTURE, 9L);
      s.step("errored and scheduled is errored", "UPDATE que_jobs SET error_count = 2 WHERE id = ?", 9L);
      s.step("finished and expired is expired",
          "UPDATE que_jobs SET finished_at = ?::timestamptz, expired_at = ?::timestamptz WHERE id = ?",
          PAST, PAST, 11L);
      s.step("delete one", "DELETE FROM que_jobs WHERE id = ?", 4L);
      s.step("delete two", "DELETE FROM que_jobs WHERE id IN (?, ?)", 5L, 6L);
      s.step("states", "SELECT id, que_determine_job_state(j) FROM que_jobs j ORDER BY id");

      s.transaction("SET LOCAL que.skip_notify TO true: insert, update, delete",
          new Stmt("SET LOCAL que.skip_notify TO true"),
          s.jobStmt(30, "default", 100, PAST, "Quiet", "[]", "{}", OMIT, 2),
          new Stmt("UPDATE que_jobs SET error_count = 1 WHERE id = ?", 7L),
          new Stmt("DELETE FROM que_jobs WHERE id = ?", 8L));
      s.transaction("SET LOCAL que.skip_notify TO false",
          new Stmt("SET LOCAL que.skip_notify TO false"),
          s.jobStmt(31, "default", 100, PAST, "Loud", "[]", "{}", OMIT, 2));

      String tag98 = "t".repeat(98);
      s.job("98-character tag", 100, "other", 100, PAST, "C", "[]", "{\"tags\":[\"" + tag98 + "\"]}", OMIT, 2);
      s.job("99-character tag", 101, "other", 100, PAST, "C", "[]", "{\"tags\":[\"" + tag98 + "t\"]}", OMIT, 2);
      s.job("five tags", 102, "other", 100, PAST, "C", "[]", "{\"tags\":[\"1\",\"2\",\"3\",\"4\",\"5\"]}", OMIT, 2);
      s.job("six tags", 103, "other", 100, PAST, "C", "[]", "{\"tags\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"]}",
          OMIT, 2);
      s.job("a tag that is a number", 104, "other", 100, PAST, "C", "[]", "{\"tags\":[1]}", OMIT, 2);
      s.job("no tags", 105, "other", 100, PAST, "C", "[]", "{\"tags\":[]}", OMIT, 2);
      s.job("tags not an array", 106, "other", 100, PAST, "C", "[]", "{\"tags\":\"x\"}", OMIT, 2);
      s.job("tags null", 107, "other", 100, PAST, "C", "[]", "{\"tags\":null}", OMIT, 2);
      s.job("data an array", 108, "other", 100, PAST, "C", "[]", "[]", OMIT, 2);
      s.job("args an object", 109, "other", 100, PAST, "C", "{\"a\":1}", "{}", OMIT, 2);
      s.job("args a number", 110, "other", 100, PAST, "C", "1", "{}", OMIT, 2);
      s.job("queue of 100", 111, "q".repeat(100), 100, PAST, "C", "[]", "{}", OMIT, 2);
      s.job("queue of 101", 112, "q".repeat(101), 100, PAST, "C", "[]", "{}", OMIT, 2);
      s.job("job_class of 200", 113, "other", 100, PAST, "c".repeat(200), "[]", "{}", OMIT, 2);
      s.job("job_class of 201", 114, "other", 100, PAST, "c".repeat(201), "[]", "{}", OMIT, 2);
      s.job("wrapped class of 200", 115, "other", 100, PAST, WRAPPER,
          "[{\"job_class\":\"" + "w".repeat(200) + "\"}]", "{}", OMIT, 2);
      s.job("wrapped class of 201", 116, "other", 100, PAST, WRAPPER,
          "[{\"job_class\":\"" + "w".repeat(201) + "\"}]", "{}", OMIT, 2);
      s.job("kwargs an array", 117, "other", 100, PAST, "C", "[]", "{}", "[]", 2);
      s.step("error message of 500", "UPDATE que_jobs SET last_error_message = repeat('m', ?) WHERE id = ?",
          500, 100L);
      s.step("error message of 501", "UPDATE que_jobs SET last_error_message = repeat('m', ?) WHERE id = ?",
          501, 100L);
      s.step("backtrace of 10000", "UPDATE que_jobs SET last_error_backtrace = repeat('b', ?) WHERE id = ?",
          10000, 100L);
      s.step("backtrace of 10001", "UPDATE que_jobs SET last_error_backtrace = repeat('b', ?) WHERE id = ?",
          10001, 100L);
      s.step("que_validate_tags",
          "SELECT que_validate_tags(?::jsonb), que_validate_tags(?::jsonb), que_validate_tags(?::jsonb),"
              + " que_validate_tags(?::jsonb), que_validate_tags(?::jsonb)",
          "[]", "[\"a\"]", "[1]", "[\"" + tag98 + "\"]", "[\"" + tag98 + "t\"]");

      s.step("defaults", "SELECT setval('que_jobs_id_seq', ?)", 1000L);
      s.minimalJob("a job with every default");

      s.step("que_values object", "INSERT INTO que_values (key, value) VALUES (?, ?::jsonb)", "a", "{\"x\":1}");
      s.step("que_values default", "INSERT INTO que_values (key) VALUES (?)", "b");
      s.step("que_values array", "INSERT INTO que_values (key, value) VALUES (?, ?::jsonb)", "c", "[]");
      s.step("que_values same key", "INSERT INTO que_values (key, value) VALUES (?, ?::jsonb)", "a", "{}");
      s.step("que_values", "SELECT key, value FROM que_values ORDER BY key");
      s.lockerRaw("locker without priorities", 505, "{}", "{default}");
      s.lockerRaw("locker without queues", 506, "{1}", "{}");
      s.lockerRaw("locker with 2-d queues", 507, "{1}", "{{a},{b}}");
      s.lockerRaw("locker with a taken pid", 101, "{1}", "{default}");
      if (version >= 5) {
        s.step("locker without job_schema_version",
            "INSERT INTO que_lockers (pid, worker_count, worker_priorities, ruby_pid, ruby_hostname, queues, listening)"
                + " VALUES (?, 1, '{1}', 1, 'h', '{x}', false) RETURNING job_schema_version", 508);
      }
      s.step("states at the end", "SELECT id, que_determine_job_state(j) FROM que_jobs j ORDER BY id");
      return s.out;
    }
  }

  /**
   * Rows through migrations: seeds a table at 3 with the edge cases of step 4's rewrite, goes to 7,
   * adds rows only 7 can hold, goes back to 3 and up again, and lists the rows (and the sequence)
   * after each move. {@code migration} starts from no table.
   */
  static List<String> dataRoundTrip(DataSource ds, Migration migration) throws Exception {
    List<String> out = new ArrayList<>();
    migration.to(3);
    try (Connection c = ds.getConnection()) {
      Script s = new Script(c, 3);
      s.step("sequence far past 2^32", "SELECT setval('que_jobs_job_id_seq', ?)", 4294967295L);
      String insert = "INSERT INTO que_jobs (queue, priority, run_at, job_class, args, error_count, last_error)"
          + " VALUES (?, ?::smallint, ?::timestamptz, ?, ?::json, ?, ?) RETURNING job_id";
      s.step("no error, array args", insert, "", 100, PAST, "A", "[1,\"a\"]", 0, null);
      s.step("object args, one-line error", insert, "mail", 5, PAST, "B", "{\"a\":1}", 1, "boom");
      s.step("string args, multi-line error", insert, "", 100, PAST, "C", "\"str\"", 2, "msg\nline1\nline2");
      s.step("null args, error starting with a newline", insert, "", 100, PAST, "D", "null", 1,
          "\nleading newline");
      s.step("empty error", insert, "", 100, PAST, "E", "[]", 1, "");
      s.step("number args, error ending with a newline", insert, "", 100, PAST, "F", "42", 1, "trailing\n");
      s.step("long first line and long rest", insert, "", 100, PAST, "G",
          "[{\"k\":\"\u00fc\u00e9 \u2603\"}, 1.50, true]", 3, "x".repeat(600) + "\n" + "y".repeat(20000));
      s.step("queue already named default, duplicate keys, CRLF", insert, "default", 1, FUTURE, "H",
          "{\"a\":1,\"a\":2}", 0, "crlf\r\nnext");
      s.step("ActiveJob wrapper, empty second line", insert, "other", 32767, PAST, WRAPPER,
          "[{\"job_class\":\"Inner\"}]", 0, "a\n\nb");
      s.step("spaced json, error that is one newline", insert, "", 100, PAST, "J", "  [ 1 , 2 ]  ", 0, "\n");
      s.step("one line of 501", insert, "", 100, PAST, "K", "[]", 1, "z".repeat(501));
      s.step("short line, rest of 10001", insert, "", 100, PAST, "L", "[]", 1, "line\n" + "b".repeat(10001));
      out.addAll(s.out);
      out.addAll(dump(c, 3, "seeded at 3"));
    }
    migration.to(7);
    try (Connection c = ds.getConnection()) {
      out.addAll(dump(c, 7, "up to 7"));
      Script s = new Script(c, 7);
      String insert = "INSERT INTO que_jobs (queue, priority, run_at, job_class, args, kwargs, data,"
          + " job_schema_version, error_count, last_error_message, last_error_backtrace, finished_at, expired_at)"
          + " VALUES (?, ?::smallint, ?::timestamptz, ?, ?::jsonb, ?::jsonb, ?::jsonb, ?, ?, ?, ?,"
          + " ?::timestamptz, ?::timestamptz) RETURNING id";
      s.step("finished", insert, "default", 100, PAST, "M", "[1]", "{\"x\":1}", "{\"tags\":[\"t1\"]}", 2, 0,
          null, null, PAST, null);
      s.step("expired", insert, "default", 100, PAST, "N", "[]", "{}", "{}", 2, 5, "gone", null, null, PAST);
      s.step("message and backtrace", insert, "default", 100, PAST, "O", "[]", "{}", "{}", 2, 1, "msg",
          "bt1\nbt2", null, null);
      s.step("backtrace without message", insert, "default", 100, PAST, "P", "[]", "{}", "{}", 1, 1, null, "bt",
          null, null);
      s.step("kwargs and tags", insert, "critical", 100, PAST, "Q", "[]", "{\"a\":[1]}", "{\"tags\":[\"x\"]}",
          2, 0, null, null, null, null);
      out.addAll(s.out);
      out.addAll(dump(c, 7, "rows added at 7"));
    }
    migration.to(3);
    try (Connection c = ds.getConnection()) {
      out.addAll(dump(c, 3, "down to 3"));
    }
    migration.to(7);
    try (Connection c = ds.getConnection()) {
      out.addAll(dump(c, 7, "up to 7 again"));
      Script s = new Script(c, 7);
      s.step("the sequence continues", "INSERT INTO que_jobs (job_class, run_at, job_schema_version)"
          + " VALUES (?, ?::timestamptz, ?) RETURNING id", "R", PAST, 2);
      out.addAll(s.out);
    }
    return out;
  }

  /** Rows in id order, long strings as a length and digest, then the sequence and the comment. */
  private static List<String> dump(Connection c, int version, String label) throws SQLException {
    boolean classic = version < 4;
    Script s = new Script(c, version);
    s.raw("SET TimeZone TO 'UTC'");
    s.out.add("# " + label);
    s.step("rows", "SELECT row_to_json(j)::text FROM que_jobs j ORDER BY " + (classic ? "job_id" : "id"));
    s.step("sequence", "SELECT last_value, is_called FROM " + (classic ? "que_jobs_job_id_seq" : "que_jobs_id_seq"));
    s.step("version", "SELECT obj_description('que_jobs'::regclass, 'pg_class')");
    return s.out;
  }

  record Stmt(String sql, Object... params) {}

  /** One connection in autocommit that runs steps and writes down what they did. */
  private static final class Script {
    final Connection c;
    final int version;
    final List<String> out = new ArrayList<>();

    Script(Connection c, int version) throws SQLException {
      this.c = c;
      this.version = version;
      c.setAutoCommit(true);
    }

    void raw(String sql) throws SQLException {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.execute();
      }
    }

    void step(String label, String sql, Object... params) throws SQLException {
      out.add("> " + label);
      run(new Stmt(sql, params));
      notifications();
    }

    void transaction(String label, Stmt... statements) throws SQLException {
      out.add("> " + label);
      c.setAutoCommit(false);
      try {
        for (Stmt st : statements) {
          run(st);
        }
        c.commit();
      } finally {
        c.setAutoCommit(true);
      }
      notifications();
    }

    void locker(int pid, int workers, String priorities, String queues, boolean listening, int jobSchemaVersion)
        throws SQLException {
      String label = "locker " + pid;
      if (version >= 5) {
        step(label, "INSERT INTO que_lockers (pid, worker_count, worker_priorities, ruby_pid, ruby_hostname,"
                + " queues, listening, job_schema_version) VALUES (?, ?, ?::integer[], ?, ?, ?::text[], ?, ?)",
            pid, workers, priorities, pid * 10, "host-" + pid, queues, listening, jobSchemaVersion);
      } else {
        step(label, "INSERT INTO que_lockers (pid, worker_count, worker_priorities, ruby_pid, ruby_hostname,"
                + " queues, listening) VALUES (?, ?, ?::integer[], ?, ?, ?::text[], ?)",
            pid, workers, priorities, pid * 10, "host-" + pid, queues, listening);
      }
    }

    void lockerRaw(String label, int pid, String priorities, String queues) throws SQLException {
      step(label, "INSERT INTO que_lockers (pid, worker_count, worker_priorities, ruby_pid, ruby_hostname,"
          + " queues, listening) VALUES (?, 1, ?::integer[], 1, 'h', ?::text[], false)", pid, priorities, queues);
    }

    /** A job with these columns; kwargs from 6 and job_schema_version from 5 unless {@link #OMIT}. */
    Stmt jobStmt(long id, String queue, int priority, String runAt, String jobClass, String args, String data,
        Object kwargs, Object jobSchemaVersion) {
      StringBuilder cols = new StringBuilder("id, queue, priority, run_at, job_class, args, data");
      StringBuilder vals = new StringBuilder("?, ?, ?::smallint, ?::timestamptz, ?, ?::jsonb, ?::jsonb");
      List<Object> params = new ArrayList<>(List.of(id, queue, priority, runAt, jobClass, args, data));
      if (version >= 6 && kwargs != OMIT) {
        cols.append(", kwargs");
        vals.append(", ?::jsonb");
        params.add(kwargs);
      }
      if (version >= 5 && jobSchemaVersion != OMIT) {
        cols.append(", job_schema_version");
        vals.append(", ?::integer");
        params.add(jobSchemaVersion);
      }
      return new Stmt("INSERT INTO que_jobs (" + cols + ") VALUES (" + vals + ")", params.toArray());
    }

    void job(String label, long id, String queue, int priority, String runAt, String jobClass, String args,
        String data, Object kwargs, Object jobSchemaVersion) throws SQLException {
      Stmt st = jobStmt(id, queue, priority, runAt, jobClass, args, data, kwargs, jobSchemaVersion);
      step(label, st.sql(), st.params());
    }

    /** Only job_class (and from 6 the job_schema_version that has no default): run_at is now. */
    void minimalJob(String label) throws SQLException {
      String sql = version >= 6
          ? "INSERT INTO que_jobs (job_class, job_schema_version) VALUES (?, 2)"
          : "INSERT INTO que_jobs (job_class) VALUES (?)";
      String cols = "id, queue, priority, run_at <= now() AS due, args, data, error_count, last_error_message,"
          + " last_error_backtrace, finished_at, expired_at"
          + (version >= 5 ? ", job_schema_version" : "") + (version >= 6 ? ", kwargs" : "");
      out.add("> " + label);
      run(new Stmt(sql + " RETURNING " + cols, "Min"));
      for (String n : drain()) {
        out.add("  notify " + RUN_AT.matcher(n).replaceAll("\"run_at\":\"<now>\""));
      }
    }

    private void run(Stmt st) throws SQLException {
      try (PreparedStatement ps = c.prepareStatement(st.sql())) {
        for (int i = 0; i < st.params().length; i++) {
          ps.setObject(i + 1, st.params()[i]);
        }
        if (ps.execute()) {
          try (ResultSet rs = ps.getResultSet()) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
              List<String> cells = new ArrayList<>();
              for (int i = 1; i <= md.getColumnCount(); i++) {
                cells.add(md.getColumnLabel(i) + "=" + rs.getString(i));
              }
              out.add("  row " + shorten(String.join(" | ", cells)));
            }
          }
        } else if (!st.sql().startsWith("SET ")) {
          out.add("  ok " + ps.getUpdateCount());
        }
      } catch (PSQLException e) {
        if (!c.getAutoCommit()) {
          throw e;
        }
        ServerErrorMessage m = e.getServerErrorMessage();
        String what = m == null ? "" : m.getConstraint() != null ? m.getConstraint()
            : m.getColumn() != null ? "column " + m.getColumn() : "";
        out.add("  error " + e.getSQLState() + " " + what);
      }
    }

    private void notifications() throws SQLException {
      for (String n : drain()) {
        out.add("  notify " + n);
      }
    }

    /** The notifications received so far, sorted, with que_state's clock field checked and hidden. */
    private List<String> drain() throws SQLException {
      List<String> got = new ArrayList<>();
      PGNotification[] ns = c.unwrap(PGConnection.class).getNotifications();
      if (ns != null) {
        for (PGNotification n : ns) {
          got.add(n.getName() + " " + TIME.matcher(n.getParameter()).replaceAll("\"time\":\"<now>\""));
        }
      }
      got.sort(null);
      return got;
    }
  }

  /** Long JSON strings become their length and a digest, so that transcripts stay readable. */
  static String shorten(String text) {
    Matcher m = JSON_STRING.matcher(text);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String s = m.group(1);
      m.appendReplacement(sb, Matcher.quoteReplacement(s.length() < LONG ? m.group()
          : "\"<" + s.length() + " chars, sha256 " + sha256(s).substring(0, 16) + ">\""));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
