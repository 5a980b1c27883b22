package io.quejava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Migrator;
import io.quejava.cli.CliTestBase.Run;
import io.quejava.testing.LocalCluster;
import io.quejava.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Logins the server really checks. The shared test cluster trusts every local login, so this class
 * starts a cluster of its own whose pg_hba.conf asks every role but {@code postgres} for a password
 * (SCRAM); {@code postgres} keeps a trusted path to set things up and look. A role {@value #ROLE}
 * with the password {@value #RIGHT} owns the database {@value #DB}, which holds que_jobs at schema 3.
 * Then {@code que} runs with a wrong password (in the URL, in its query, in PGPASSWORD): exit 1, one
 * line naming the failed authentication, neither password anywhere in the output, nothing changed;
 * and with the right one: the commands work. In-process ({@link PasswordLoginTest}) and through the
 * built jar ({@link PasswordLoginJarIT}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PasswordLoginTestBase {
  static final String ROLE = "que_pw";
  static final String DB = "que_pw_db";
  static final String RIGHT = "Right-Kestrel-7f3q9";
  static final String WRONG = "Wrong-Marmoset-4k8z2";
  static final String HBA = String.join("\n",
      "# que-java test: a password for everyone but the superuser, which sets up the test",
      "local all postgres trust",
      "host  all postgres 127.0.0.1/32 trust",
      "host  all all      127.0.0.1/32 scram-sha-256",
      "");

  LocalCluster.Cluster cluster;
  int port;

  /** Runs {@code que} with exactly this environment. */
  abstract Run que(Map<String, String> env, String... args) throws Exception;

  @BeforeAll
  void startCluster() throws Exception {
    cluster = LocalCluster.start(List.of("password_encryption=scram-sha-256"), HBA);
    Assumptions.assumeTrue(cluster != null,
        "no PostgreSQL server binaries to start a cluster that checks passwords (set QUE_TEST_PG_BIN)");
    port = cluster.endpoint().port();
    try (Connection c = superuser("postgres").getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE ROLE " + ROLE + " LOGIN PASSWORD '" + RIGHT + "'");
      s.execute("CREATE DATABASE " + DB + " OWNER " + ROLE);
    }
    PGSimpleDataSource asRole = superuser(DB);
    asRole.setOptions("-c role=" + ROLE); // the role owns what the migration creates
    Migrator.create(asRole).migrate();
    try (Connection c = superuser(DB).getConnection(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT tableowner FROM pg_tables WHERE tablename = 'que_jobs'")) {
      assertTrue(rs.next(), "que_jobs was created");
      assertEquals(ROLE, rs.getString(1));
    }
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** The trusted path: postgres over TCP, no password. */
  PGSimpleDataSource superuser(String database) {
    TestDatabase.Endpoint e = cluster.endpoint().withDatabase(database);
    PGSimpleDataSource ds = e.dataSource();
    ds.setSslMode("disable");
    return ds;
  }

  String url(String password) {
    return "postgres://" + ROLE + ":" + password + "@127.0.0.1:" + port + "/" + DB + "?sslmode=disable";
  }

  Map<String, String> urlEnv(String url) {
    Map<String, String> env = new HashMap<>();
    env.put("QUE_DATABASE_URL", url);
    return env;
  }

  Map<String, String> pgEnv(String password) {
    Map<String, String> env = new HashMap<>();
    env.put("PGHOST", "127.0.0.1");
    env.put("PGPORT", Integer.toString(port));
    env.put("PGUSER", ROLE);
    env.put("PGDATABASE", DB);
    env.put("PGSSLMODE", "disable");
    env.put("PGPASSWORD", password);
    return env;
  }

  /** What the role's database holds, read over the trusted path: its jobs, its schema version, its tables. */
  List<String> snapshot() throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = superuser(DB).getConnection(); Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT job_id || ' ' || queue || ' ' || job_class || ' ' || run_at FROM que_jobs ORDER BY 1")) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
      try (ResultSet rs = s.executeQuery("SELECT obj_description('que_jobs'::regclass, 'pg_class')")) {
        rs.next();
        out.add("version " + rs.getString(1));
      }
      try (ResultSet rs = s.executeQuery(
          "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace")) {
        rs.next();
        out.add("relations " + rs.getString(1));
      }
    }
    return out;
  }

  /** A login the server refused: exit 1, one line that says so, no password shown, nothing on stdout. */
  static void refused(Run r) {
    assertEquals(1, r.exit(), r.toString());
    assertEquals(1, r.err().lines().count(), r.toString());
    assertTrue(r.err().startsWith("que: cannot connect to " + ROLE + "@127.0.0.1:"), r.toString());
    assertTrue(r.err().contains("password authentication failed for user \"" + ROLE + "\""), r.toString());
    assertEquals("", r.out(), r.toString());
    noPassword(r);
  }

  static void noPassword(Run r) {
    for (String pw : List.of(WRONG, RIGHT)) {
      assertFalse(r.out().contains(pw) || r.err().contains(pw), "a password was shown: " + r);
    }
  }

  @Test
  void aWrongPasswordIsRefusedInOneLineAndChangesNothing() throws Exception {
    List<String> before = snapshot();
    String wrongInUrl = url(WRONG);
    String wrongInQuery = "postgres://" + ROLE + "@127.0.0.1:" + port + "/" + DB + "?sslmode=disable&password=" + WRONG;
    for (String url : List.of(wrongInUrl, wrongInQuery)) {
      refused(que(urlEnv(url), "status"));
      refused(que(urlEnv(url), "schema"));
      refused(que(urlEnv(url), "enqueue", "Billing::Charge", "42", "--queue", "pw"));
      refused(que(urlEnv(url), "migrate", "--to", "7"));
      refused(que(Map.of(), "migrate", "--to", "4", "--database-url", url));
    }
    // The right password in PGPASSWORD does not rescue a wrong one in the URL: the URL's comes first.
    Map<String, String> both = urlEnv(wrongInUrl);
    both.put("PGPASSWORD", RIGHT);
    refused(que(both, "enqueue", "Billing::Charge", "--queue", "pw"));
    assertEquals(before, snapshot());
  }

  @Test
  void aWrongPgpasswordIsRefusedInOneLineAndChangesNothing() throws Exception {
    List<String> before = snapshot();
    refused(que(pgEnv(WRONG), "status"));
    refused(que(pgEnv(WRONG), "enqueue", "Billing::Charge", "--queue", "pw"));
    refused(que(pgEnv(WRONG), "migrate", "--to", "7"));
    Map<String, String> urlWithoutPassword = urlEnv("postgres://" + ROLE + "@127.0.0.1:" + port + "/" + DB + "?sslmode=disable");
    urlWithoutPassword.put("PGPASSWORD", WRONG);
    refused(que(urlWithoutPassword, "enqueue", "Billing::Charge", "--queue", "pw"));
    assertEquals(before, snapshot());
  }

  @Test
  void theRightPasswordWorks() throws Exception {
    Run schema = que(urlEnv(url(RIGHT)), "schema");
    assertEquals(0, schema.exit(), schema.toString());
    assertTrue(schema.out().contains("version:    3"), schema.toString());
    noPassword(schema);
    Run status = que(pgEnv(RIGHT), "status");
    assertEquals(0, status.exit(), status.toString());
    noPassword(status);

    List<String> before = snapshot();
    Run enqueue = que(urlEnv(url(RIGHT)), "enqueue", "Billing::Charge", "42", "--queue", "pw-right");
    assertEquals(0, enqueue.exit(), enqueue.toString());
    noPassword(enqueue);
    List<String> after = snapshot();
    assertEquals(before.size() + 1, after.size(), "the role can write, so a refused login really wrote nothing: " + after);
    try (Connection c = superuser(DB).getConnection(); Statement s = c.createStatement()) {
      s.execute("DELETE FROM que_jobs WHERE queue = 'pw-right'");
    }
  }
}
