package io.quejava.internal;

import io.quejava.NewJob;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Reading back what an insert returned ({@code RETURNING <id>, run_at}), shared by the dialects. */
final class Inserts {
  private Inserts() {}

  /** Builds the row of one inserted job from what was sent and what the database chose. */
  interface RowMaker {
    JobRow make(NewJob job, long id, OffsetDateTime runAt);
  }

  /**
   * Reads the (id, run_at) pairs of a batch insert, in input order. Ids come from the sequence in
   * insertion order, which follows the input order (the insert orders by the ordinality), so sorted
   * ids line up with the input.
   */
  static List<JobRow> read(PreparedStatement ps, List<NewJob> jobs, RowMaker maker) throws SQLException {
    List<long[]> ids = new ArrayList<>(jobs.size());
    List<OffsetDateTime> runAts = new ArrayList<>(jobs.size());
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        ids.add(new long[] {rs.getLong(1), ids.size()});
        runAts.add(rs.getObject(2, OffsetDateTime.class));
      }
    }
    if (ids.size() != jobs.size()) {
      throw new IllegalStateException("batch insert returned " + ids.size() + " rows for " + jobs.size() + " jobs");
    }
    ids.sort(Comparator.comparingLong(a -> a[0]));
    List<JobRow> rows = new ArrayList<>(jobs.size());
    for (int i = 0; i < ids.size(); i++) {
      rows.add(maker.make(jobs.get(i), ids.get(i)[0], runAts.get((int) ids.get(i)[1])));
    }
    return rows;
  }
}
