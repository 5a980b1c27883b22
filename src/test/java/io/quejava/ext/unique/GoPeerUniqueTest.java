package io.quejava.ext.unique;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.UniqueOptions;
import io.quejava.testing.GoPeer;
import io.quejava.testing.QueJobsListing;
import io.quejava.testing.TestSql;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The real que-go (the compat suite's Go peer, v1.0.1) on a table it created, with the unique
 * extension installed: Go enqueues and works as before, its delete of a job Java enqueued as unique
 * releases the key, and its error update (an absolute error count and a new run_at) is followed by
 * the key's copy, so Java still finds the failing holder by its full key.
 */
@Tag("compat")
@Timeout(600)
class GoPeerUniqueTest {
  static final Duration PEER = Duration.ofMinutes(5); // the first run may build the peer

  @Test
  void goWorksUniqueJobsAndItsDeletesReleaseTheKeys() throws Exception {
    try (GoPeer.Db db = GoPeer.Db.create("unique_go")) {
      String url = db.url("go-peer");
      GoPeer.run(PEER, "migrate", "--url", url).ok();
      PGSimpleDataSource ds = db.endpoint().dataSource();
      List<String> catalog = QueJobsListing.of(ds);
      UniqueJobs.install(ds);
      assertEquals(catalog, QueJobsListing.without(QueJobsListing.of(ds), l -> l.startsWith("trigger que_java_unique_")));
      GoPeer.run(PEER, "migrate", "--url", url).ok(); // que-go's schema.sql again: nothing it minds
      TestSql sql = new TestSql(ds);
      Client client = Client.create(ds);
      UniqueOptions once = UniqueOptions.byArgs();

      Job record = client.enqueue(NewJob.of("CompatRecord", "once").queue("go").unique(once));
      assertTrue(client.enqueue(NewJob.of("CompatRecord", "once").queue("go").unique(once)).isDuplicate());
      Job failing = client.enqueue(NewJob.of("CompatFail", "fails").queue("go").unique(once));
      GoPeer.run(PEER, "enqueue", "--url", url, "--class", "CompatRecord", "--args", "[\"from go\"]", "--queue", "go").ok();
      assertEquals(2, sql.count("SELECT count(*) FROM que_unique_jobs"));

      GoPeer.Result r = GoPeer.run(PEER, "work", "--url", url, "--queue", "go", "--until-empty").ok();
      assertTrue(r.stdout().contains("worked=2 failed=1"), r.stdout());
      assertEquals(1, sql.count("SELECT count(*) FROM compat_runs WHERE job_id = ?", record.id()));

      // Go deleted the CompatRecord job: its key is gone. It recorded the CompatFail job's error: the
      // key's copy follows the new run_at and error count.
      assertEquals(1, sql.count("SELECT count(*) FROM que_unique_jobs"));
      assertEquals(1, sql.count("SELECT count(*) FROM que_unique_jobs u JOIN que_jobs j ON j.queue = u.queue"
          + " AND j.priority = u.priority AND j.run_at = u.run_at AND j.job_id = u.job_id"
          + " WHERE u.job_id = ? AND u.error_count = 1 AND j.error_count = 1", failing.id()));
      Job again = client.enqueue(NewJob.of("CompatRecord", "once").queue("go").unique(once));
      assertFalse(again.isDuplicate(), "que-go's delete released the key");
      assertNotEquals(record.id(), again.id());
      Job stillFailing = client.enqueue(NewJob.of("CompatFail", "fails").queue("go").unique(once));
      assertTrue(stillFailing.isDuplicate());
      assertEquals(failing.id(), stillFailing.id());
      assertEquals(1, stillFailing.errorCount());

      r = GoPeer.run(PEER, "work", "--url", url, "--queue", "go", "--until-empty").ok();
      assertTrue(r.stdout().contains("worked=1 failed=0"), r.stdout());
      assertEquals(1, sql.count("SELECT count(*) FROM que_unique_jobs"), "only the failing job's key is left");
    }
  }
}
