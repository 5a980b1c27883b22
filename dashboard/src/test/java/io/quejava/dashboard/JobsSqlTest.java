package io.quejava.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The time-bounded search of a filter no index serves: with a budget of 0 (one slice of 100 rows
 * per request) it answers partial pages, and following its continuations lists exactly the rows
 * the unbounded search lists, in the same order, each once; and exactly the rows SQL says match.
 */
class JobsSqlTest extends DashboardTestBase {
  @Test
  void continuationsOfAPartialSearchFindEveryMatch() throws Exception {
    String err = errorColumn();
    String array = schemaVersion() >= 4 ? "jsonb_build_array" : "json_build_array";
    String jsv = schemaVersion() >= 6 ? ", job_schema_version" : "";
    String jsvValue = schemaVersion() >= 6 ? ", 2" : "";
    // 4,000 plain jobs, and 25 rare ones of another class spread among them in key and id order.
    sql.exec("INSERT INTO que_jobs (queue, priority, run_at, job_class, args, error_count" + jsv + ")"
        + " SELECT 'aaa', 100, now() + g * interval '1 ms', 'Plain', " + array + "(g), 0" + jsvValue
        + " FROM generate_series(1, 2000) g");
    sql.exec("INSERT INTO que_jobs (queue, priority, run_at, job_class, args, error_count, " + err + jsv + ")"
        + " SELECT 'mmm', 90 + g % 3, now() + g * interval '1 s', 'Rare', " + array + "('needle-' || g), 1, 'Boom: ' || g"
        + jsvValue + " FROM generate_series(1, 25) g");
    sql.exec("INSERT INTO que_jobs (queue, priority, run_at, job_class, args, error_count" + jsv + ")"
        + " SELECT 'zzz', 100, now() + g * interval '1 ms', 'Plain', " + array + "(g), 0" + jsvValue
        + " FROM generate_series(1, 2000) g");
    sql.exec("ANALYZE que_jobs");
    JobsSql bounded = new JobsSql(schemaVersion(), 0, 100);
    JobsSql unbounded = new JobsSql(schemaVersion(), 600_000, 100);
    String id = idColumn();
    List<Object[]> cases = List.of(
        new Object[] {new JobsSql.Filter("", "Rare", "", "", ""), "job_class = 'Rare'"},
        new Object[] {new JobsSql.Filter("", "", "failing", "", ""), "error_count > 0"},
        new Object[] {new JobsSql.Filter("", "", "", "boom: 1", ""), "strpos(lower(" + err + "), 'boom: 1') > 0"},
        new Object[] {new JobsSql.Filter("", "", "", "", "NEEDLE-2"), "strpos(args::text, 'needle-2') > 0"},
        new Object[] {new JobsSql.Filter("mmm", "Rare", "", "", ""), "job_class = 'Rare'"});
    try (Connection c = ds.getConnection()) {
      for (Object[] k : cases) {
        JobsSql.Filter f = (JobsSql.Filter) k[0];
        assertTrue(bounded.unindexed(f), f.toString());
        List<Long> expected = sql.rows("SELECT " + id + " FROM que_jobs WHERE " + k[1]).stream()
            .map(r -> ((Number) r[0]).longValue()).toList();
        Walk b = all(bounded, c, f);
        Walk u = all(unbounded, c, f);
        assertFalse(expected.isEmpty(), f.toString());
        assertEquals(new HashSet<>(expected), new HashSet<>(b.ids), f.toString());
        assertEquals(expected.size(), b.ids.size(), "each match once: " + f);
        assertEquals(u.ids, b.ids, "same rows, same order: " + f);
        assertEquals(0, u.partials, "the unbounded search is never partial: " + f);
        if (f.queue().isEmpty() || schemaVersion() >= 4) {
          // 4,025 rows, 100 a request: the bounded search stopped short of a full page many times.
          assertTrue(b.partials >= 10, f + ": " + b.partials + " partial pages");
        }
      }
    }
  }

  @Test
  void anIndexedFilterIsNoSearch() throws Exception {
    client.enqueue(io.quejava.NewJob.of("X").queue("aaa"));
    JobsSql s = new JobsSql(schemaVersion(), 0, 1);
    try (Connection c = ds.getConnection()) {
      JobsSql.Page p = s.list(c, new JobsSql.Filter(schemaVersion() == 3 ? "aaa" : "", "", "", "", ""), null, 10, 30);
      assertEquals(1, p.rows().size());
      assertEquals(-1, p.scanned());
      assertFalse(p.partial());
    }
  }

  private static final class Walk {
    final List<Long> ids = new ArrayList<>();
    int partials;
  }

  private static Walk all(JobsSql sql, Connection c, JobsSql.Filter f) throws Exception {
    Walk w = new Walk();
    JobsSql.Cursor after = null;
    for (int requests = 0; requests < 10_000; requests++) {
      JobsSql.Page p = sql.list(c, f, after, 4, 30);
      p.rows().forEach(r -> w.ids.add(r.id()));
      if (p.partial()) {
        w.partials++;
        assertTrue(p.rows().size() <= 4);
      } else if (p.more()) {
        assertEquals(4, p.rows().size(), "a page that is not partial and has a next is full");
      }
      if (!p.more()) {
        return w;
      }
      after = p.next();
    }
    throw new AssertionError("no end after 10,000 requests");
  }
}
