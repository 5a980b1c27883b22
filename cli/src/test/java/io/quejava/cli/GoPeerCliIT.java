package io.quejava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quejava.testing.GoPeer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Jobs que-go enqueued (the compat peer, real que-go v1.0.1), seen and operated on through the
 * built jar: status counts them, list shows them, and a bulk delete skips the one a session holds.
 */
@Tag("compat")
class GoPeerCliIT extends CliTestBase {
  static final Duration PEER = Duration.ofMinutes(5); // the first run may build the peer

  @Test
  void jobsQueGoEnqueuedAreCountedListedAndDeletedExceptTheOneHeld() throws Exception {
    try (GoPeer.Db db = GoPeer.Db.create("cli_go")) {
      String peerUrl = db.url("go-peer");
      GoPeer.run(PEER, "migrate", "--url", peerUrl).ok();
      GoPeer.run(PEER, "enqueue", "--url", peerUrl, "--class", "GoJob", "--args", "[\"from go\", 7]", "--count", "3").ok();
      Map<String, String> env = new HashMap<>();
      env.put("DATABASE_URL", db.endpoint().libpqUrl());
      Run st = jar(env, false, "status", "--json");
      assertEquals(0, st.exit(), st.toString());
      JsonNode q = M.readTree(st.out()).get("queues").get(0);
      assertEquals("", q.get("queue").asText());
      assertEquals(3, q.get("ready").asInt());
      JsonNode jobs = M.readTree(jar(env, false, "jobs", "list", "--json").out());
      assertEquals(3, jobs.size());
      assertEquals("GoJob", jobs.get(0).get("job_class").asText());
      assertEquals(M.readTree("[\"from go\", 7]"), jobs.get(0).get("args"));
      long held = jobs.get(0).get("id").asLong();
      PGSimpleDataSource ds = db.endpoint().dataSource();
      try (Connection worker = ds.getConnection(); PreparedStatement ps = worker.prepareStatement("SELECT pg_advisory_lock(?)")) {
        ps.setLong(1, held);
        ps.execute();
        Run d = jar(env, false, "jobs", "delete", "--class", "GoJob", "--yes");
        assertEquals(3, d.exit(), d.toString());
        assertTrue(d.out().contains("deleted 2 job(s)") && d.out().contains(Long.toString(held)), d.out());
      }
      // que-go can still work what is left
      GoPeer.Result r = GoPeer.run(PEER, "work", "--url", peerUrl, "--workers", "1", "--seconds", "2").ok();
      assertTrue(r.stdout().contains("worked=") || r.stdout().contains("failed="), r.stdout());
    }
  }
}
