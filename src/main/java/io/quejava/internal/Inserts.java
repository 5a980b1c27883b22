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
}
