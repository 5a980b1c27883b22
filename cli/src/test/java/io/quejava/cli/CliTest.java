package io.quejava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quejava.testing.TestDatabase;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every command in-process, on schema 3 ({@link ModernCliTest}: 7). */
class CliTest extends CliTestBase {
  static JsonNode json(Run r) throws Exception {
    assertEquals(0, r.exit(), r.toString());
    return M.readTree(r.out());
  }

  @Test
  void versionAndHelp() {
    Run v = que("version");
    assertEquals(0, v.exit(), v.toString());
    assertTrue(v.out().startsWith("que-java "), v.out());
    Run h = que("--help");
    assertEquals(0, h.exit());
    assertTrue(h.out().contains("status") && h.out().contains("Exit codes"), h.out());
    // Every command answers --help with its own usage (the parse error's hint points there).
    Run w = que("work", "--help");
    assertEquals(0, w.exit(), w.toString());
    assertTrue(w.out().contains("--batched-completion") && w.out().contains("--queue"), w.out());
    Run l = que("jobs", "list", "-h");
    assertEquals(0, l.exit(), l.toString());
    assertTrue(l.out().contains("Usage: que jobs list"), l.out());
  }

  @Test
  void unknownCommandsAndFlagsAreUsageErrors() throws Exception {
    List<String> before = snapshot();
    Run a = que("frobnicate");
    assertEquals(2, a.exit(), a.toString());
    assertTrue(a.err().contains("frobnicate"), a.err());
    Run b = que("status", "--no-such-flag");
    assertEquals(2, b.exit(), b.toString());
    assertTrue(b.err().contains("--no-such-flag"), b.err());
    Run c = que();
    assertEquals(2, c.exit(), c.toString());
    assertEquals(before, snapshot());
  }

  @Test
  void schemaSaysVersionAndDialect() throws Exception {
    Run r = que("schema");
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("version:    " + schemaVersion()), r.out());
    JsonNode j = json(que("schema", "--json"));
    assertEquals(schemaVersion(), j.get("version").asInt());
    assertEquals(modern() ? "modern" : "classic", j.get("dialect").asText());
  }

  @Test
  void migrateDryRunShowsStepsAndChangesNothing() throws Exception {
    List<String> before = snapshot();
    Run r = que("migrate", "--to", "7", "--dry-run", "--show-sql");
    assertEquals(0, r.exit(), r.toString());
    if (!modern()) {
      assertTrue(r.out().contains("4.up.sql") && r.out().contains("7.up.sql"), r.out());
      assertTrue(r.out().contains("rewrites every row"), r.out());
    }
    assertEquals(before, snapshot());
    Run plain = que("migrate");
    assertEquals(0, plain.exit(), plain.toString());
    assertTrue(plain.out().contains("nothing to do"), plain.out());
    Run bad = que("migrate", "--to", "99");
    assertEquals(2, bad.exit(), bad.toString());
    assertEquals(before, snapshot());
  }

  @Test
  void aSchemaVersionItDoesNotKnowIsRefusedAndNothingChanges() throws Exception {
    exec("COMMENT ON TABLE que_jobs IS '9'");
    try {
      List<String> before = snapshot();
      for (String[] args : List.of(new String[] {"status"}, new String[] {"migrate"}, new String[] {"jobs", "list"},
          new String[] {"enqueue", "X"})) {
        Run r = que(args);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().contains("9") && r.err().lines().count() == 1, r.err());
      }
      assertEquals(before, snapshot());
    } finally {
      exec("COMMENT ON TABLE que_jobs IS '" + schemaVersion() + "'");
    }
  }

  @Test
  void enqueueListShowAndStatus() throws Exception {
    Run e = que("enqueue", "Billing::Charge", "42", "EUR", "{\"copy\":true}", "--queue", "billing", "--priority", "5");
    assertEquals(0, e.exit(), e.toString());
    JsonNode list = json(que("jobs", "list", "--queue", "billing", "--json"));
    assertEquals(1, list.size());
    JsonNode job = list.get(0);
    assertEquals("Billing::Charge", job.get("job_class").asText());
    assertEquals(M.readTree("[42, \"EUR\", {\"copy\": true}]"), job.get("args"));
    assertEquals(5, job.get("priority").asInt());
    assertEquals("ready", job.get("state").asText());
    long id = job.get("id").asLong();

    Run show = que("jobs", "show", Long.toString(id));
    assertEquals(0, show.exit(), show.toString());
    assertTrue(show.out().contains("Billing::Charge"), show.out());

    que("enqueue", "Later", "--args", "[1]", "--queue", "billing", "--run-at", "+1h");
    Run status = que("status");
    assertEquals(0, status.exit(), status.toString());
    assertTrue(status.out().contains("billing"), status.out());
    JsonNode st = json(que("status", "--json"));
    JsonNode billing = st.get("queues").get(0);
    assertEquals("billing", billing.get("queue").asText());
    assertEquals(1, billing.get("ready").asInt());
    assertEquals(1, billing.get("scheduled").asInt());
    JsonNode byClass = json(que("status", "--queue", "billing", "--json"));
    assertEquals(2, byClass.size());
    Run table = que("jobs", "list");
    assertTrue(table.out().contains("Later") && table.out().contains("scheduled"), table.out());
  }

  @Test
  void malformedJsonIsAUsageErrorAndEnqueuesNothing() throws Exception {
    for (String[] args : List.of(new String[] {"enqueue", "X", "--args", "[1,"}, new String[] {"enqueue", "X", "--args", "{\"a\":1}"},
        new String[] {"enqueue", "X", "1", "--args", "[1]"}, new String[] {"enqueue", "X", "--run-at", "tomorrow"},
        new String[] {"enqueue", "X", "--priority", "many"})) {
      Run r = que(args);
      assertEquals(2, r.exit(), r.toString());
      assertTrue(r.err().startsWith("que: "), r.err());
    }
    if (!modern()) {
      Run k = que("enqueue", "X", "--kwargs", "{\"a\":1}");
      assertEquals(2, k.exit(), "kwargs on schema 3: " + k);
    }
    assertEquals(0, count("SELECT count(*) FROM que_jobs"));
  }

  @Test
  void retryAndDeleteSkipAJobAnotherSessionHoldsAndSaySo() throws Exception {
    long free = insert("q", "A", "now() + interval '1 hour'", 1);
    long held = insert("q", "A", "now() + interval '1 hour'", 1);
    try (Connection worker = ds.getConnection(); PreparedStatement ps = worker.prepareStatement("SELECT pg_advisory_lock(?)")) {
      ps.setLong(1, held);
      ps.execute();
      Run r = que("jobs", "retry", Long.toString(free), Long.toString(held));
      assertEquals(3, r.exit(), r.toString());
      assertTrue(r.out().contains("retried 1 job(s): " + free), r.out());
      assertTrue(r.out().contains("a worker holds") && r.out().contains(Long.toString(held)), r.out());
      assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE run_at > now()"), "the held job keeps its run_at");

      Run d = que("jobs", "delete", "--queue", "q", "--yes", "--json");
      assertEquals(3, d.exit(), d.toString());
      JsonNode j = M.readTree(d.out());
      assertEquals(List.of(free), List.of(j.get("done").get(0).asLong()));
      assertEquals(held, j.get("held").get(0).asLong());
      assertEquals(1, count("SELECT count(*) FROM que_jobs"));
      try (PreparedStatement unlock = worker.prepareStatement("SELECT pg_advisory_unlock(?)")) {
        unlock.setLong(1, held); // the worker is done (a closed session lets go only a moment later)
        unlock.execute();
      }
    }
    Run after = que("jobs", "delete", Long.toString(held));
    assertEquals(0, after.exit(), after.toString());
    assertEquals(0, count("SELECT count(*) FROM que_jobs"));
  }

  @Test
  void idsThatDoNotExistChangeNothing() throws Exception {
    long real = insert("q", "A", "now() + interval '1 hour'", 0);
    List<String> before = snapshot();
    Run r = que("jobs", "retry", Long.toString(real), "1");
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("no job with id 1") && r.err().contains("nothing changed"), r.err());
    Run s = que("jobs", "show", "1");
    assertEquals(1, s.exit(), s.toString());
    Run d = que("jobs", "delete", "1");
    assertEquals(1, d.exit(), d.toString());
    Run n = que("jobs", "delete", "abc");
    assertEquals(2, n.exit(), n.toString());
    assertEquals(before, snapshot());
  }

  @Test
  void bulkFormsAskFirst() throws Exception {
    insert("q", "A", "now()", 0);
    insert("q", "A", "now()", 0);
    List<String> before = snapshot();
    Run no = queWith(env(), "n\n", "jobs", "delete", "--queue", "q");
    assertEquals(1, no.exit(), no.toString());
    assertTrue(no.err().contains("delete 2 job(s)"), no.err());
    Run none = que("jobs", "delete", "--queue", "q");
    assertEquals(1, none.exit(), "no answer on stdin is no: " + none);
    assertEquals(before, snapshot());
    Run neither = que("jobs", "delete");
    assertEquals(2, neither.exit(), neither.toString());
    Run yes = queWith(env(), "y\n", "jobs", "delete", "--queue", "q");
    assertEquals(0, yes.exit(), yes.toString());
    assertEquals(0, count("SELECT count(*) FROM que_jobs"));
  }

  @Test
  void aLoginThatFailsIsOneLineWithoutThePassword() throws Exception {
    // The throwaway test cluster trusts every local login, so a wrong password would get in: a role
    // that does not exist fails authentication the same way (SQLSTATE class 28) on any server.
    // PasswordLoginTest checks a real wrong password, on a cluster of its own that asks for one.
    TestDatabase.Endpoint e = TestDatabase.endpoint();
    String secret = "s3cret-Pa55word";
    Map<String, String> env = new HashMap<>();
    env.put("QUE_DATABASE_URL", "postgres://que_cli_pw:" + secret + "@" + e.host() + ":" + e.port() + "/" + e.database());
    Run r = queWith(env, "", "status");
    assertEquals(1, r.exit(), r.toString());
    assertFalse(r.err().contains(secret) || r.out().contains(secret), r.toString());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().startsWith("que: cannot connect to que_cli_pw@"), r.err());
  }

  @Test
  void anUnreachablePortFailsFastInOneLine() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Map<String, String> env = new HashMap<>();
    env.put("PGHOST", "127.0.0.1");
    env.put("PGPORT", Integer.toString(port));
    env.put("PGUSER", "nobody");
    env.put("PGPASSWORD", "hunter2-secret");
    env.put("PGDATABASE", "nowhere");
    long t0 = System.nanoTime();
    Run r = queWith(env, "", "status", "--connect-timeout", "3");
    assertTrue(System.nanoTime() - t0 < 10_000_000_000L);
    assertEquals(1, r.exit(), r.toString());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().contains("cannot connect to nobody@127.0.0.1:" + port + "/nowhere"), r.err());
    assertFalse(r.err().contains("hunter2"), r.err());
    Run badUrl = queWith(Map.of("DATABASE_URL", "mysql://x:hunter2@h/db"), "", "status");
    assertEquals(2, badUrl.exit(), badUrl.toString());
    assertFalse(badUrl.err().contains("hunter2"), badUrl.err());
  }

  @Test
  void theLibpqVariablesAndDatabaseUrlAreUsedInThatOrder() throws Exception {
    TestDatabase.Endpoint e = TestDatabase.endpoint();
    Map<String, String> env = new HashMap<>();
    env.put("PGHOST", e.host());
    env.put("PGPORT", Integer.toString(e.port()));
    env.put("PGUSER", e.user());
    if (e.password() != null) {
      env.put("PGPASSWORD", e.password());
    }
    env.put("PGDATABASE", e.database());
    env.put("QUE_SCHEMA", schema);
    assertEquals(0, queWith(env, "", "status").exit());
    env.put("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none");
    assertEquals(1, queWith(env, "", "status").exit(), "DATABASE_URL comes before PG*");
    Run flag = queWith(env, "", "status", "--database-url", url);
    assertEquals(0, flag.exit(), "--database-url comes first: " + flag);
  }

  @Test
  void untrustedTextIsShownWithoutItsControlCharacters() throws Exception {
    String evil = "Evil\u001b[2J\u001b]0;pwned\u0007\r\u202eclass";
    insert("q\u001b[31m", evil, "now()", 1);
    exec("UPDATE que_jobs SET " + (modern() ? "last_error_message" : "last_error") + " = ?", "boom\u001b[1m\nline two");
    for (String[] args : List.of(new String[] {"jobs", "list"}, new String[] {"status"},
        new String[] {"status", "--queue", "q\u001b[31m"})) {
      Run r = que(args);
      assertEquals(0, r.exit(), r.toString());
      assertFalse(r.out().contains("\u001b") || r.out().contains("\u202e") || r.out().contains("\r") || r.out().contains("\u0007"),
          r.out());
    }
    long id = (long) count("SELECT " + idColumn() + " FROM que_jobs");
    Run show = que("jobs", "show", Long.toString(id));
    assertFalse(show.out().contains("\u001b"), show.out());
    assertTrue(show.out().contains("\\x1b"), show.out());
    JsonNode j = json(que("jobs", "list", "--json"));
    assertEquals(evil, j.get(0).get("job_class").asText(), "JSON keeps the text exactly (escaped by JSON)");
  }

  @Test
  void listFiltersByStateClassAndError() throws Exception {
    insert("q", "A", "now()", 0);
    insert("q", "B", "now() + interval '1 hour'", 2);
    exec("UPDATE que_jobs SET " + (modern() ? "last_error_message" : "last_error") + " = 'Net::Timeout: slow' WHERE job_class = 'B'");
    assertEquals(1, json(que("jobs", "list", "--state", "failing", "--json")).size());
    assertEquals(1, json(que("jobs", "list", "--state", "ready", "--json")).size());
    assertEquals(1, json(que("jobs", "list", "--class", "A", "--json")).size());
    assertEquals(1, json(que("jobs", "list", "--error", "TIMEOUT", "--json")).size());
    Run bad = que("jobs", "list", "--state", "sleepy");
    assertEquals(2, bad.exit(), bad.toString());
  }

  @Test
  void flagsComeFromQueVariables() throws Exception {
    insert("fromenv", "A", "now()", 0);
    insert("other", "A", "now()", 0);
    Map<String, String> env = env();
    env.put("QUE_QUEUE", "fromenv");
    env.put("QUE_JSON", "true");
    Run r = queWith(env, "", "jobs", "list");
    assertEquals(0, r.exit(), r.toString());
    assertEquals(1, M.readTree(r.out()).size());
  }

  @Test
  void deadLettersAndSchedules() throws Exception {
    Run m = que("migrate", "--extension", "deadletter", "--extension", "schedule");
    assertEquals(0, m.exit(), m.toString());
    assertTrue(que("schema").out().contains("deadletter 1"));
    long id;
    if (modern()) {
      id = insert("q", "Dead", "now()", 16);
      exec("UPDATE que_jobs SET expired_at = now(), last_error_message = 'boom' WHERE id = ?", id);
    } else {
      id = 77;
      exec("INSERT INTO que_dead_jobs (priority, run_at, job_id, job_class, args, error_count, last_error, queue, reason)"
          + " VALUES (100, now(), 77, 'Dead', '[]', 5, 'boom', 'q', 'max_attempts')");
    }
    JsonNode dead = json(que("dead", "list", "--json"));
    assertEquals(1, dead.size());
    Run status = que("status");
    assertTrue(status.out().contains("DEAD"), status.out());
    List<String> before = snapshot();
    Run unknown = que("dead", "replay", Long.toString(id), "5");
    assertEquals(1, unknown.exit(), unknown.toString());
    assertTrue(unknown.err().contains("no dead job with id 5; nothing changed"), unknown.err());
    assertEquals(1, que("dead", "purge", "5").exit());
    assertEquals(before, snapshot());
    assertEquals(1, json(que("dead", "list", "--json")).size());
    Run replay = que("dead", "replay", Long.toString(id));
    assertEquals(0, replay.exit(), replay.toString());
    assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE " + idColumn() + " = ?", id));
    assertEquals(0, json(que("dead", "list", "--json")).size());
    Run purge = que("dead", "purge", "--older-than", "30d", "--yes");
    assertEquals(0, purge.exit(), purge.toString());

    io.quejava.ext.schedule.Schedules.create(ds)
        .upsert(io.quejava.ext.schedule.Schedule.every("tick", "every hour", "Tick").args(1).queue("sched"));
    Run list = que("schedules", "list");
    assertEquals(0, list.exit(), list.toString());
    assertTrue(list.out().contains("tick"), list.out());
    assertEquals(0, que("schedules", "disable", "tick").exit());
    assertEquals(1, que("schedules", "disable", "nope").exit());
    assertEquals(0, que("schedules", "enable", "tick").exit());
    Run now = que("schedules", "run-now", "tick");
    assertEquals(0, now.exit(), now.toString());
    assertEquals(1, count("SELECT count(*) FROM que_jobs WHERE job_class = 'Tick' AND queue = 'sched'"));
  }

  @Test
  void inflightListsAJobAnotherSessionHolds() throws Exception {
    long held = insert("q", "A", "now()", 0);
    try (Connection worker = ds.getConnection(); PreparedStatement ps = worker.prepareStatement("SELECT pg_advisory_lock(?)")) {
      ps.setLong(1, held);
      ps.execute();
      Run r = que("inflight");
      assertEquals(0, r.exit(), r.toString());
      assertTrue(r.out().contains(Long.toString(held)), r.out());
      JsonNode j = json(que("status", "--holders", "--json"));
      assertEquals(1, j.get("queues").get(0).get("running").asInt());
      assertTrue(j.get("holders").size() >= 1);
    }
  }

  @Test
  void longWritesShowProgressOnATerminalOnly() throws Exception {
    exec("INSERT INTO que_jobs (queue, job_class" + (schemaVersion() >= 6 ? ", job_schema_version" : "")
        + ") SELECT 'bulk', 'B'" + (schemaVersion() >= 6 ? ", 2" : "") + " FROM generate_series(1, 300)");
    Run quiet = que("jobs", "retry", "--queue", "bulk", "--yes");
    assertEquals(0, quiet.exit(), quiet.toString());
    assertFalse(quiet.err().contains("retry: "), quiet.err());
    Run shown = queOn(true, env(), "", "jobs", "delete", "--queue", "bulk", "--yes");
    assertEquals(0, shown.exit(), shown.toString());
    assertTrue(shown.err().contains("delete: 300/300"), shown.err());
    assertTrue(shown.out().contains("deleted 300 job(s)"), shown.out());
  }

  @Test
  void withoutATableItSaysToMigrate() throws Exception {
    Map<String, String> env = env();
    env.put("QUE_SCHEMA", "que_cli_no_table");
    exec("CREATE SCHEMA IF NOT EXISTS que_cli_no_table");
    Run r = queWith(env, "", "status");
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("que_jobs does not exist: create it with que migrate"), r.err());
    Run s = queWith(env, "", "schema");
    assertEquals(0, s.exit(), s.toString());
    assertTrue(s.out().contains("version:    0"), s.out());
  }
}
