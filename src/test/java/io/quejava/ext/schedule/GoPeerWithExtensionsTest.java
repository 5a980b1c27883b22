package io.quejava.ext.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.RetryPolicy;
import io.quejava.WorkMap;
import io.quejava.Worker;
import io.quejava.WorkerConfig;
import io.quejava.ext.deadletter.DeadLetterInterceptor;
import io.quejava.ext.deadletter.DeadLetters;
import io.quejava.testing.TestDatabase;
import io.quejava.testing.TestSql;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The real que-go (compat-tests/go/peer) on a que_jobs table it created itself, with both
 * extensions installed: its migrate still accepts the schema, and its workers run a job Go
 * enqueued, a job a Java scheduler enqueued from que_schedules, and a job Java dead-lettered and
 * replayed (under its old id). Extensions add tables only, so Go never notices them.
 */
@Tag("compat")
@Timeout(900)
class GoPeerWithExtensionsTest {
  private static final Pattern SUMMARY = Pattern.compile("(?m)^worked=(\\d+) failed=(\\d+)");

  @Test
  void goWorksJobsOnATableWithTheExtensionsInstalled() throws Exception {
    TestDatabase.Endpoint db = TestDatabase.newDatabase("ext_go");
    try {
      DataSource ds = db.dataSource();
      String url = db.libpqUrl();
      TestSql sql = new TestSql(ds);
      peer(Duration.ofMinutes(10), "migrate", "--url", url);
      List<String> catalog = sql.queJobsCatalog();
      assertEquals(1, DeadLetters.migrator(ds).migrate());
      assertEquals(1, Schedules.migrator(ds).migrate());
      assertEquals(catalog, sql.queJobsCatalog(), "the extensions left que_jobs as que-go made it");
      peer(Duration.ofMinutes(2), "migrate", "--url", url);
      Client client = Client.create(ds);

      // 1. A Java worker lets a job die on its first failure (the only job yet); it is replayed for Go.
      Job doomed = client.enqueue(NewJob.of("CompatRecord", "replayed").queue("go"));
      Worker java = new Worker(client, WorkMap.of("CompatRecord", job -> {
        throw new IllegalStateException("java cannot do this one");
      }), WorkerConfig.custom().queue("go").retryPolicy(RetryPolicy.fixed(Duration.ZERO))
          .interceptor(DeadLetterInterceptor.builder(client).maxAttempts(1).build()).build());
      assertTrue(java.workOne());
      java.shutdown();
      DeadLetters dead = DeadLetters.create(client);
      assertEquals(1, dead.count());
      assertEquals(0, sql.count("SELECT count(*) FROM que_jobs WHERE job_id = ?", doomed.id()));
      assertTrue(dead.replay(doomed.id()));

      // 2. Go enqueues.
      peer(Duration.ofMinutes(2), "enqueue", "--url", url, "--class", "CompatRecord", "--args", "[\"from go\"]",
          "--queue", "go");

      // 3. A Java scheduler enqueues one tick (its run_at a minute in the past by the database clock).
      Instant dbNow = (Instant) sql.one("SELECT now()");
      MutableClock clock = new MutableClock(dbNow.minus(Duration.ofMinutes(3)));
      Schedules.create(ds, clock).upsert(Schedule.every("go-tick", "every minute", "CompatRecord")
          .args("from schedule").queue("go"));
      clock.advance(Duration.ofMinutes(2));
      assertEquals(1, Scheduler.builder(client).clock(clock).build().tick());

      String out = peer(Duration.ofMinutes(2), "work", "--url", url, "--queue", "go", "--until-empty");
      Matcher m = SUMMARY.matcher(out);
      assertTrue(m.find(), out);
      assertEquals("3", m.group(1), "worked\n" + out);
      assertEquals("0", m.group(2), "failed\n" + out);
      assertEquals(0, sql.count("SELECT count(*) FROM que_jobs"));
      Set<String> args = new HashSet<>();
      for (Object[] r : sql.rows("SELECT args FROM compat_runs")) {
        args.add(String.valueOf(r[0]).replace(" ", ""));
      }
      assertEquals(Set.of("[\"fromgo\"]", "[\"fromschedule\"]", "[\"replayed\"]"), args);
      assertEquals(1, sql.count("SELECT count(*) FROM compat_runs WHERE job_id = ?", doomed.id()),
          "the replayed job kept its id");
      assertEquals(0, dead.count());
      assertEquals(1, sql.count("SELECT count(*) FROM que_schedules"));
    } finally {
      try (Connection c = TestDatabase.endpoint().connect(); Statement st = c.createStatement()) {
        st.execute("DROP DATABASE IF EXISTS " + db.database() + " WITH (FORCE)");
      }
    }
  }

  /** Runs the Go peer; returns its stdout, failing the test on a non-zero exit or a timeout. */
  private static String peer(Duration timeout, String... args) throws Exception {
    Path exe = root().resolve("compat-tests/go/peer");
    List<String> command = new ArrayList<>();
    command.add(exe.toString());
    command.addAll(List.of(args));
    Path out = Files.createTempFile("ext-go-", ".out");
    Path err = Files.createTempFile("ext-go-", ".err");
    try {
      Process p = new ProcessBuilder(command).directory(root().toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("go peer did not finish in " + timeout + ": " + command);
      }
      String stdout = Files.readString(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new AssertionError("go peer exited " + p.exitValue() + ": " + command + "\n--- stdout:\n" + stdout
            + "\n--- stderr:\n" + Files.readString(err, StandardCharsets.UTF_8));
      }
      return stdout;
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  private static Path root() {
    Path p = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    for (Path q = p; q != null; q = q.getParent()) {
      if (Files.isDirectory(q.resolve("compat-tests")) && Files.exists(q.resolve("pom.xml"))) {
        return q;
      }
    }
    return p;
  }
}
