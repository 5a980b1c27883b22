package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.testing.TestDatabase;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * que-java's migrations 4 to 7 against Ruby Que's own, live: Ruby's {@code Que.migrate!} runs on
 * databases of the test PostgreSQL, and the catalogs and scenario transcripts of both sides must
 * agree, and agree with the recorded {@link RubyQueExpectations}.
 *
 * <p>Runs only when {@code QUE_RUBY2_LIB} names the {@code lib} directory of a que 2.x checkout
 * (e.g. tag v2.4.1) and {@code ruby} with the {@code pg} gem is on the PATH; skipped otherwise.
 * With {@code QUE_RECORD_RUBY_EXPECTATIONS=1} it also rewrites the recorded files from Ruby's side.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MigratorRubyParityTest {
  /** Runs Que.migrate! on one connection; Que 2.x takes a raw PG connection through a proc. */
  private static final String MIGRATE_RB = String.join("\n",
      "require 'pg'",
      "require 'que'",
      "conn = PG.connect(ARGV.fetch(0))",
      "conn.exec('SET client_min_messages TO warning')",
      "Que.connection_proc = proc { |&block| block.call(conn) }",
      "Que.migrate!(version: Integer(ARGV.fetch(1)))",
      "puts Que::Migrations.db_version");

  private String skipReason;
  private String lib;
  private String queVersion;
  private boolean record;
  private final List<ScratchDatabase> databases = new ArrayList<>();
  private List<String> header;

  @BeforeAll
  void findRuby() throws Exception {
    skipReason = rubyUnavailable();
    if (skipReason != null) {
      System.err.println("[ruby-parity] skipped: " + skipReason);
      return;
    }
    record = "1".equals(setting("QUE_RECORD_RUBY_EXPECTATIONS"));
    String server;
    try (Connection c = TestDatabase.endpoint().connect(); Statement st = c.createStatement();
        var rs = st.executeQuery("SHOW server_version")) {
      rs.next();
      server = rs.getString(1);
    }
    header = List.of(
        "Recorded by MigratorRubyParityTest from Ruby Que " + queVersion + " (Que.migrate!) on PostgreSQL " + server
            + ".",
        "Facts about the schema Ruby Que leaves, listed by test code; do not edit by hand.");
  }

  /** Why Ruby Que 2.x cannot run here, or null when it can (then {@link #lib} and the version are set). */
  private String rubyUnavailable() throws IOException, InterruptedException {
    String dir = setting("QUE_RUBY2_LIB");
    if (dir == null) {
      return "QUE_RUBY2_LIB is not set: point it at the lib directory of a que 2.x checkout to compare with Ruby live";
    }
    if (!Files.isRegularFile(Path.of(dir, "que.rb"))) {
      return "QUE_RUBY2_LIB=" + dir + " has no que.rb";
    }
    if (!onPath("ruby")) {
      return "ruby is not on the PATH";
    }
    String[] probe = run(List.of("ruby", "-I" + dir, "-e", "require 'pg'; require 'que'; puts Que::VERSION"));
    if (!probe[0].equals("0")) {
      return "ruby cannot load pg and que from " + dir + ": " + probe[1].strip();
    }
    String version = probe[1].strip();
    if (!version.startsWith("2.")) {
      return "QUE_RUBY2_LIB holds que " + version + ", not 2.x";
    }
    lib = dir;
    queVersion = version;
    return null;
  }

  @BeforeEach
  void requireRuby() {
    Assumptions.assumeTrue(skipReason == null, skipReason);
  }

  @AfterAll
  void dropDatabases() {
    databases.forEach(ScratchDatabase::close);
  }

  @Test
  void catalogsAgreeAtEveryVersionUpAndDown() throws Exception {
    TestDatabase.Endpoint ruby = database("ruby_catalog");
    DataSource java = TestDatabase.newSchema("java_catalog");
    String javaSchema = QueCatalog.currentSchema(java);
    Migrator m = Migrator.create(java);
    Map<Integer, List<String>> up = new HashMap<>();
    for (int v = 3; v <= 7; v++) {
      migrateRuby(ruby, v);
      m.migrateTo(v);
      List<String> rubyCatalog = QueCatalog.list(ruby.dataSource(), "public");
      check("catalog-" + v, rubyCatalog);
      up.put(v, rubyCatalog);
      assertEquals(rubyCatalog, QueCatalog.list(java, javaSchema), "catalog at " + v + " on the way up");
    }
    // Ruby's 7 down to 6 keeps the skip condition on que_state_notify, and no later step down touches
    // that trigger again; que-java restores it, so only that line differs until the trigger goes.
    for (int v = 6; v >= 4; v--) {
      migrateRuby(ruby, v);
      m.migrateTo(v);
      List<String> rubyDown = QueCatalog.list(ruby.dataSource(), "public");
      List<String> javaDown = QueCatalog.list(java, javaSchema);
      assertEquals(up.get(v), javaDown, "que-java at " + v + " after 7 equals Ruby's fresh " + v);
      List<String> onlyRuby = new ArrayList<>(rubyDown);
      onlyRuby.removeAll(javaDown);
      List<String> onlyJava = new ArrayList<>(javaDown);
      onlyJava.removeAll(rubyDown);
      assertEquals(1, onlyRuby.size(), "Ruby at " + v + " after 7 differs in one line: " + onlyRuby);
      assertEquals(1, onlyJava.size(), "que-java at " + v + " after 7 differs in one line: " + onlyJava);
      assertTrue(onlyRuby.get(0).startsWith("trigger que_jobs.que_state_notify ")
          && onlyRuby.get(0).contains("que.skip_notify"), onlyRuby.get(0));
      assertEquals(onlyRuby.get(0).replaceAll(" WHEN \\(.*\\) EXECUTE", " EXECUTE"), onlyJava.get(0));
    }
    migrateRuby(ruby, 3);
    m.migrateTo(3);
    List<String> rubyAt3 = QueCatalog.list(ruby.dataSource(), "public");
    check("catalog-3-after-down", rubyAt3);
    assertEquals(rubyAt3, QueCatalog.list(java, javaSchema), "catalog at 3 after coming down from 7");
  }

  @Test
  void behaviourAgreesAtEveryVersion() throws Exception {
    for (int v = 4; v <= 7; v++) {
      TestDatabase.Endpoint ruby = database("ruby_behaviour_" + v);
      migrateRuby(ruby, v);
      List<String> rubyTranscript = QueScenarios.behaviour(ruby.dataSource(), v);
      check("behaviour-" + v, rubyTranscript);
      try (ScratchDatabase java = new ScratchDatabase("java_behaviour_" + v)) {
        Migrator.create(java.dataSource).migrateTo(v);
        assertEquals(rubyTranscript, QueScenarios.behaviour(java.dataSource, v), "behaviour at " + v);
      }
    }
  }

  @Test
  void rowsAgreeThroughMigrationsUpAndDown() throws Exception {
    TestDatabase.Endpoint ruby = database("ruby_rows");
    List<String> rubyTranscript = QueScenarios.dataRoundTrip(ruby.dataSource(), v -> migrateRuby(ruby, v));
    check("data-round-trip", rubyTranscript);
    DataSource java = TestDatabase.newSchema("java_rows");
    Migrator m = Migrator.create(java);
    assertEquals(rubyTranscript, QueScenarios.dataRoundTrip(java, m::migrateTo));
  }

  /** Records Ruby's side, or checks that the recorded file still says what Ruby does. */
  private void check(String name, List<String> fromRuby) {
    if (record) {
      RubyQueExpectations.record(name, header, fromRuby);
    } else {
      assertEquals(RubyQueExpectations.load(name), fromRuby,
          name + ".txt no longer matches Ruby Que " + queVersion + " (re-record with QUE_RECORD_RUBY_EXPECTATIONS=1)");
    }
  }

  /** A database of Ruby's own (Que 2.x wants public), dropped after the class. */
  private TestDatabase.Endpoint database(String prefix) {
    ScratchDatabase db = new ScratchDatabase(prefix);
    databases.add(db);
    return db.endpoint;
  }

  private void migrateRuby(TestDatabase.Endpoint db, int version) throws IOException, InterruptedException {
    String[] r = run(List.of("ruby", "-I" + lib, "-e", MIGRATE_RB, db.libpqUrl(), Integer.toString(version)));
    assertEquals("0", r[0], "Que.migrate!(version: " + version + ") failed: " + r[1]);
    assertEquals(Integer.toString(version), r[1].strip(), "Ruby's own reading of the version");
  }

  /** Exit code and combined output of a child process, which gets two minutes. */
  private static String[] run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(2, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      return new String[] {"timeout", out};
    }
    return new String[] {Integer.toString(p.exitValue()), out};
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  private static String setting(String key) {
    String v = System.getProperty(key, System.getenv(key));
    return v == null || v.isBlank() ? null : v.trim();
  }
}
