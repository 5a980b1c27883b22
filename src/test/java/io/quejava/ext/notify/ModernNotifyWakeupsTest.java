package io.quejava.ext.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.NewJob;
import io.quejava.testing.QueJobsListing;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * The notify extension on the modern table (schema 7, Ruby Que 2.x), beside Que's own
 * que_job_notify and que_state_notify triggers.
 */
class ModernNotifyWakeupsTest extends NotifyWakeupsTest {
  @Override
  protected int schemaVersion() {
    return 7;
  }

  @Test
  void ourTriggerSitsBesideQuesOwnAndNamesTheIdColumn() throws Exception {
    List<String> catalog = QueJobsListing.of(ds);
    assertTrue(catalog.stream().anyMatch(l -> l.startsWith("trigger que_job_notify ")), catalog.toString());
    assertTrue(catalog.stream().anyMatch(l -> l.startsWith("trigger que_state_notify ")), catalog.toString());
    assertTrue(catalog.stream().anyMatch(l -> l.startsWith("trigger que_java_notify ")
        && l.contains("que_java_notify_job('que_java_jobs', 'id')")), catalog.toString());
  }

  /**
   * Que 2.x's que.skip_notify silences Que's two triggers, not ours: que-java's own enqueueAll sets
   * it on schema 7 (as Que's bulk insert does), and Java pools must still hear of those jobs.
   */
  @Test
  void quesSkipNotifyDoesNotSilenceOurs() throws Exception {
    try (Connection c = ds.getConnection(); Connection idlePool = askingFor("skipped")) {
      PGConnection pg = c.unwrap(PGConnection.class);
      try (Statement st = c.createStatement()) {
        st.execute("LISTEN que_java_jobs");
      }
      try (Connection w = ds.getConnection(); Statement st = w.createStatement()) {
        w.setAutoCommit(false);
        st.execute("SET LOCAL que.skip_notify TO true");
        client.enqueue(w, NewJob.of("Bulk").queue("skipped"));
        w.commit();
      }
      client.enqueueAll(List.of(NewJob.of("Bulk").queue("skipped"), NewJob.of("Bulk").queue("skipped")));
      List<String> payloads = drain(pg, 3, schema());
      assertEquals(3, payloads.size(), payloads.toString());
      assertTrue(payloads.stream().allMatch(p -> p.contains("\"queue\" : \"skipped\"")), payloads.toString());
    }
  }
}
