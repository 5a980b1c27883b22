package io.quejava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The built jar as a user runs it: {@code java -jar target/que-java-cli-*.jar ...} as a child
 * process, environment and exit code included, on schema 3 ({@link ModernQueJarIT}: 7). Runs in
 * the integration-test phase, after package.
 */
class QueJarIT extends CliTestBase {
  @Test
  void theJarRunsEveryReadCommandAndTheLauncherRunsTheJar() throws Exception {
    Run v = jar(Map.of(), true, "version");
    assertEquals(0, v.exit(), v.toString());
    assertTrue(v.out().startsWith("que-java "), v.out());
    assertEquals(0, jar("enqueue", "Report", "7", "--queue", "reports").exit());
    Run st = jar("status");
    assertEquals(0, st.exit(), st.toString());
    assertTrue(st.out().contains("reports"), st.out());
    JsonNode list = M.readTree(jar("jobs", "list", "--json").out());
    assertEquals(1, list.size());
    assertEquals(0, jar("jobs", "show", list.get(0).get("id").asText()).exit());
    Run schemaRun = jar("schema", "--json");
    assertEquals(schemaVersion(), M.readTree(schemaRun.out()).get("version").asInt(), schemaRun.toString());
    assertEquals(0, jar("inflight").exit());
    assertEquals(0, jar("migrate", "--dry-run").exit());
  }

  @Test
  void retryAndDeleteSkipAHeldJobThroughTheJar() throws Exception {
    long free = insert("q", "A", "now() + interval '1 hour'", 1);
    long held = insert("q", "A", "now() + interval '1 hour'", 1);
    try (Connection worker = ds.getConnection(); PreparedStatement ps = worker.prepareStatement("SELECT pg_advisory_lock(?)")) {
      ps.setLong(1, held);
      ps.execute();
      Run r = jar("jobs", "retry", "--queue", "q", "--yes");
      assertEquals(3, r.exit(), r.toString());
      assertTrue(r.out().contains("retried 1 job(s): " + free) && r.out().contains("a worker holds"), r.out());
      Run d = jar("jobs", "delete", Long.toString(held));
      assertEquals(3, d.exit(), d.toString());
      assertEquals(2, count("SELECT count(*) FROM que_jobs"));
    }
  }

  @Test
  void badInputExitsNonZeroInOneLine() throws Exception {
    List<String> before = snapshot();
    assertEquals(2, jar("nope").exit());
    assertEquals(2, jar("status", "--bogus").exit());
    Run json = jar("enqueue", "X", "--args", "[oops");
    assertEquals(2, json.exit(), json.toString());
    Run missing = jar("jobs", "retry", "12345");
    assertEquals(1, missing.exit(), missing.toString());
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", "postgres://someone:Hush-hush@127.0.0.1:1/nowhere");
    Run down = jar(env, false, "status");
    assertEquals(1, down.exit(), down.toString());
    assertEquals(1, down.err().lines().count(), down.err());
    assertFalse(down.err().contains("Hush-hush") || down.err().contains("Exception"), down.err());
    assertEquals(before, snapshot());
  }

  @Test
  void deadLettersSchedulesAndInflightThroughTheJar() throws Exception {
    assertEquals(0, jar("migrate", "--extension", "deadletter", "--extension", "schedule").exit());
    long id = insert("q", "Dead", "now()", 16);
    if (modern()) {
      exec("UPDATE que_jobs SET expired_at = now() WHERE id = ?", id);
    } else {
      exec("INSERT INTO que_dead_jobs (priority, run_at, job_id, job_class, args, error_count, last_error, queue, reason)"
          + " SELECT priority, run_at, job_id, job_class, args, error_count, 'boom', queue, 'max_attempts' FROM que_jobs");
      exec("DELETE FROM que_jobs");
    }
    Run list = jar("dead", "list", "--json");
    assertEquals(0, list.exit(), list.toString());
    assertEquals(id, M.readTree(list.out()).get(0).get("id").asLong());
    assertEquals(0, jar("dead", "replay", Long.toString(id)).exit());
    assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ? AND error_count = 0", id));
    assertEquals(0, jar("dead", "purge", "--older-than", "1d", "--yes").exit());
    io.quejava.ext.schedule.Schedules.create(ds)
        .upsert(io.quejava.ext.schedule.Schedule.every("hourly", "every hour", "Tick").queue("s"));
    Run sl = jar("schedules", "list", "--json");
    assertEquals("hourly", M.readTree(sl.out()).get(0).get("name").asText(), sl.toString());
    assertEquals(0, jar("schedules", "disable", "hourly").exit());
    assertEquals(1, jar("schedules", "enable", "nope").exit());
    assertEquals(0, jar("schedules", "run-now", "hourly").exit());
    assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE job_class = 'Tick'"));
    assertEquals(0, jar("inflight", "--hung", "--json").exit());
  }
}
