package io.quejava.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The jobs list's two plans for a filter no index serves: the walk in key order, and past its
 * budget the scan that sorts only the matches. Both must list the same rows in the same order,
 * page after page.
 */
class JobsSqlTest extends DashboardTestBase {
  @Test
  void theScanListsWhatTheWalkLists() throws Exception {
    String err = errorColumn();
    String array = schemaVersion() >= 4 ? "jsonb_build_array" : "json_build_array";
    String jsv = schemaVersion() >= 6 ? ", job_schema_version" : "";
    String jsvValue = schemaVersion() >= 6 ? ", 2" : "";
    // 60,000 plain jobs first in key order, then 25 rare ones of two classes at the end.
    sql.exec("INSERT INTO que_jobs (queue, priority, run_at, job_class, args, error_count" + jsv + ")"
        + " SELECT 'aaa', 100, now() + g * interval '1 ms', 'Plain', " + array + "(g), 0" + jsvValue
        + " FROM generate_series(1, 60000) g");
    sql.exec("INSERT INTO que_jobs (queue, priority, run_at, job_class, args, error_count, " + err + jsv + ")"
        + " SELECT 'zzz', 90 + g % 3, now() + g * interval '1 s', 'Rare', " + array + "('needle-' || g), 1, 'Boom: ' || g"
        + jsvValue + " FROM generate_series(1, 25) g");
    sql.exec("ANALYZE que_jobs");
    JobsSql walk = new JobsSql(schemaVersion(), 600_000);
    JobsSql scan = new JobsSql(schemaVersion(), 1);
    List<JobsSql.Filter> filters = List.of(
        new JobsSql.Filter("", "Rare", "", "", ""),
        new JobsSql.Filter("", "", "failing", "", ""),
        new JobsSql.Filter("", "", "", "boom: 1", ""),
        new JobsSql.Filter("", "", "", "", "NEEDLE-2"));
    try (Connection c = ds.getConnection()) {
      for (JobsSql.Filter f : filters) {
        List<Long> a = all(walk, c, f);
        List<Long> b = all(scan, c, f);
        assertTrue(!a.isEmpty(), f.toString());
        assertEquals(a, b, f.toString());
      }
      assertEquals(25, all(scan, c, filters.get(0)).size());
    }
    assertEquals(0, walk.scans.get());
    assertTrue(scan.scans.get() >= 4, "the 1 ms budget made the scan run: " + scan.scans.get());
  }

  private static List<Long> all(JobsSql sql, Connection c, JobsSql.Filter f) throws Exception {
    List<Long> ids = new ArrayList<>();
    JobsSql.Cursor after = null;
    while (true) {
      JobsSql.Page p = sql.list(c, f, after, 4, 30);
      p.rows().forEach(r -> ids.add(r.id()));
      if (!p.more()) {
        return ids;
      }
      after = p.rows().get(p.rows().size() - 1).cursor();
    }
  }
}
