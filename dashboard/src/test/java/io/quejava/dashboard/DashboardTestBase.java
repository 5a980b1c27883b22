package io.quejava.dashboard;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.testing.TestDatabase;
import io.quejava.testing.TestSql;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.postgresql.ds.PGSimpleDataSource;

/** A schema of its own at {@link #schemaVersion()} on the test PostgreSQL, with que_jobs emptied before each test. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DashboardTestBase {
  PGSimpleDataSource ds;
  Client client;
  TestSql sql;

  int schemaVersion() {
    return 7;
  }

  String errorColumn() {
    return schemaVersion() >= 4 ? "last_error_message" : "last_error";
  }

  String idColumn() {
    return schemaVersion() >= 4 ? "id" : "job_id";
  }

  @BeforeAll
  void createSchema() throws SQLException {
    ds = (PGSimpleDataSource) TestDatabase.newSchema(getClass().getSimpleName());
    if (schemaVersion() == 3) {
      Migrator.create(ds).migrate();
    } else {
      Migrator.create(ds).migrateTo(schemaVersion());
    }
    client = Client.create(ds);
    sql = new TestSql(ds);
  }

  @BeforeEach
  void empty() throws SQLException {
    sql.exec("TRUNCATE que_jobs");
  }

  DataSource ds() {
    return ds;
  }

  static DashboardRequest get(String path) {
    int q = path.indexOf('?');
    return DashboardRequest.of("GET", q < 0 ? path : path.substring(0, q), q < 0 ? "" : path.substring(q + 1));
  }

  /** A POST with the session cookie and the body given. */
  static DashboardRequest post(String path, String cookie, String body) {
    return new DashboardRequest("POST", path, "", Map.of(
        "Cookie", cookie == null ? List.of() : List.of(cookie),
        "Content-Type", List.of("application/x-www-form-urlencoded")),
        body.getBytes(StandardCharsets.UTF_8), "127.0.0.1");
  }

  /** The session cookie a response sets, as a Cookie header value. */
  static String cookie(DashboardResponse r) {
    String set = r.headers().getOrDefault("Set-Cookie", List.of()).stream().findFirst().orElseThrow(
        () -> new AssertionError("no Set-Cookie in " + r.headers()));
    return set.substring(0, set.indexOf(';'));
  }

  /** The CSRF token in a page's forms. */
  static String token(DashboardResponse r) {
    Matcher m = Pattern.compile("name=\"_csrf\" value=\"([A-Za-z0-9_-]+)\"").matcher(r.bodyText());
    if (!m.find()) {
      throw new AssertionError("no CSRF field in " + r.bodyText());
    }
    return m.group(1);
  }
}
