package io.quejava.cli;

import io.quejava.testing.TestSql;
import io.quejava.Migrator;
import io.quejava.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A schema of its own at {@link #schemaVersion()} on the test PostgreSQL, and a way to run {@code
 * que} against it: in-process here ({@link #que}), as a child process through the built jar in
 * {@link QueJarIT}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class CliTestBase {
  PGSimpleDataSource ds;
  String schema;
  String url;

  int schemaVersion() {
    return 3;
  }

  boolean modern() {
    return schemaVersion() >= 4;
  }

  String idColumn() {
    return modern() ? "id" : "job_id";
  }

  @BeforeAll
  void createSchema() throws SQLException {
    ds = (PGSimpleDataSource) TestDatabase.newSchema(getClass().getSimpleName());
    schema = ds.getCurrentSchema();
    url = TestDatabase.endpoint().libpqUrl();
    if (schemaVersion() == 3) {
      Migrator.create(ds).migrate();
    } else {
      Migrator.create(ds).migrateTo(schemaVersion());
    }
    exec("SELECT setval(pg_get_serial_sequence('que_jobs', '" + idColumn() + "'), 2000000000 + (random() * 1e15)::bigint)");
  }

  @BeforeEach
  void empty() throws SQLException {
    exec("TRUNCATE que_jobs");
  }

  /** What one run of que left. */
  record Run(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
    }
  }

  /** The environment a run gets: the database through QUE_* variables. */
  Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("QUE_DATABASE_URL", url);
    env.put("QUE_SCHEMA", schema);
    return env;
  }

  Run que(String... args) {
    return queWith(env(), "", args);
  }

  Run queWith(Map<String, String> env, String stdin, String... args) {
    return queOn(false, env, stdin, args);
  }

  /** {@code terminal}: as if a person watched (progress lines on stderr). */
  Run queOn(boolean terminal, Map<String, String> env, String stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = Que.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8),
        new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), terminal);
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  void exec(String sql, Object... params) throws SQLException {
    new TestSql(ds).exec(sql, params);
  }

  List<Object[]> rows(String sql, Object... params) throws SQLException {
    return new TestSql(ds).rows(sql, params);
  }

  long count(String sql, Object... params) throws SQLException {
    return new TestSql(ds).count(sql, params);
  }

  static final com.fasterxml.jackson.databind.ObjectMapper M = new com.fasterxml.jackson.databind.ObjectMapper();

  static Path jar() {
    String p = System.getProperty("que.cli.jar");
    if (p == null) {
      throw new IllegalStateException("que.cli.jar is not set: run through failsafe (mvn verify)");
    }
    return Path.of(p);
  }

  /** Runs the jar (or, with {@code launcher}, bin/que) with the environment given. */
  Run jar(Map<String, String> env, boolean launcher, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    if (launcher) {
      cmd.add(Path.of("bin", "que").toAbsolutePath().toString());
    } else {
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-jar");
      cmd.add(jar().toString());
    }
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("QUE_") || k.startsWith("PG") || k.equals("DATABASE_URL"));
    pb.environment().putAll(env);
    if (launcher) {
      pb.environment().put("QUE_CLI_JAR", jar().toString());
      pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
    Path out = Files.createTempFile("que-it", ".out");
    Path err = Files.createTempFile("que-it", ".err");
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("que " + String.join(" ", args) + " did not finish in 60 s");
    }
    Run r = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  Run jar(String... args) throws Exception {
    return jar(env(), false, args);
  }

  /** Inserts a job row; returns its id. */
  long insert(String queue, String jobClass, String runAtSql, int errorCount) throws SQLException {
    String jsv = schemaVersion() >= 6 ? ", job_schema_version" : "";
    String jsvV = schemaVersion() >= 6 ? ", 2" : "";
    return ((Number) rows("INSERT INTO que_jobs (queue, job_class, run_at, error_count" + jsv + ") VALUES (?, ?, " + runAtSql
        + ", ?" + jsvV + ") RETURNING " + idColumn(), queue, jobClass, errorCount).get(0)[0]).longValue();
  }

  /** A catalog-and-data fingerprint of que_jobs, to prove a command changed nothing. */
  List<String> snapshot() throws SQLException {
    List<String> out = new ArrayList<>();
    for (Object[] r : rows("SELECT " + idColumn() + "::text || ' ' || queue || ' ' || run_at::text || ' ' || error_count"
        + " FROM que_jobs ORDER BY 1")) {
      out.add((String) r[0]);
    }
    out.add("comment " + rows("SELECT obj_description(to_regclass('que_jobs'), 'pg_class')").get(0)[0]);
    return out;
  }
}
