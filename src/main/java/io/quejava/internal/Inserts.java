package io.quejava.internal;

import io.quejava.NewJob;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;

/** Reading back what a batch insert returned, shared by the dialects. */
final class Inserts {
  private Inserts() {}

  /** Builds the row of one inserted job from what was sent and what the database chose. */
  interface RowMaker {
    JobRow make(NewJob job, long id, OffsetDateTime runAt);
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
