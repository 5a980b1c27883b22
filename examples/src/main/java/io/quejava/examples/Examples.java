package io.quejava.examples;

import io.quejava.Client;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * What the example programs share and none of them is about: the database they run on, and two
 * small SQL helpers. Each example is a {@code run(DataSource, PrintStream)} that prints what happens
 * and returns true when everything it shows did happen; ExampleTest calls it on the test database.
 */
final class Examples {
  /** An example's body. */
  @FunctionalInterface
  interface Example {
    boolean run(DataSource dataSource, PrintStream out) throws Exception;
  }

  /**
   * Runs the example on {@code DATABASE_URL} ({@code postgres://user:pw@host:port/db} or a
   * {@code jdbc:postgresql:} URL) when it is set, else on an embedded PostgreSQL started for the
   * run; exits with status 1 when the example says it failed.
   */
  static void main(Example example) throws Exception {
    String url = System.getenv("DATABASE_URL");
    boolean ok;
    if (url != null && !url.isBlank()) {
      System.out.println("Using DATABASE_URL");
      ok = example.run(dataSource(url), System.out);
    } else {
      System.out.println("No DATABASE_URL: starting an embedded PostgreSQL");
      try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
        ok = example.run(pg.getPostgresDatabase(), System.out);
      }
    }
    if (!ok) {
      System.exit(1);
    }
  }

  /** A data source from a libpq-style URL: {@code postgres://user:password@host:port/dbname}. */
  static DataSource dataSource(String url) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    if (url.startsWith("jdbc:")) {
      ds.setUrl(url);
      return ds;
    }
    URI uri = URI.create(url.replaceFirst("^postgresql:", "postgres:"));
    ds.setServerNames(new String[] {uri.getHost() == null ? "localhost" : uri.getHost()});
    ds.setPortNumbers(new int[] {uri.getPort() > 0 ? uri.getPort() : 5432});
    ds.setDatabaseName(uri.getPath() == null || uri.getPath().length() <= 1 ? "postgres" : uri.getPath().substring(1));
    if (uri.getUserInfo() != null) {
      String[] userInfo = uri.getUserInfo().split(":", 2);
      ds.setUser(userInfo[0]);
      if (userInfo.length > 1) {
        ds.setPassword(userInfo[1]);
      }
    }
    return ds;
  }

  /**
   * The same database, with {@code schema} as the search_path of every connection: how an example
   * keeps a que_jobs table of its own beside the one it was given. (With HikariCP you would set the
   * pool's {@code schema} instead.)
   */
  static DataSource inSchema(DataSource dataSource, String schema) {
    return (DataSource) Proxy.newProxyInstance(Examples.class.getClassLoader(), new Class<?>[] {DataSource.class},
        (proxy, method, args) -> {
          Object result;
          try {
            result = method.invoke(dataSource, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (result instanceof Connection c) {
            c.setSchema(schema);
          }
          return result;
        });
  }

  /**
   * Deletes the jobs of {@code queue}. Each example works a queue of its own and empties it first,
   * so that jobs an earlier run left behind on the same database (a failed job waits for its retry)
   * do not change what it shows.
   */
  static void emptyQueue(DataSource dataSource, String queue) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("DELETE FROM que_jobs WHERE queue = ?")) {
      ps.setString(1, queue);
      ps.executeUpdate();
    }
  }

  /** A job's row as the examples show it: failures so far, the last error's first line, seconds to its next run. */
  record JobRow(int errorCount, String lastError, long runsInSeconds) {}

  /**
   * Reads one job's row, or empty when it is gone. que-java has no call that reads a job by id, so
   * this is plain SQL: {@code job_id} and {@code last_error} on schema 3, {@code id} and
   * {@code last_error_message} on 4 to 7.
   */
  static Optional<JobRow> jobRow(Client client, long id) throws SQLException {
    String sql = client.schemaVersion() == 3
        ? "SELECT error_count, last_error, extract(epoch FROM run_at - now()) FROM que_jobs WHERE job_id = ?"
        : "SELECT error_count, last_error_message, extract(epoch FROM run_at - now()) FROM que_jobs WHERE id = ?";
    try (Connection c = client.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        String error = rs.getString(2) == null ? "" : rs.getString(2).lines().findFirst().orElse("");
        return Optional.of(new JobRow(rs.getInt(1), error, Math.round(rs.getDouble(3))));
      }
    }
  }

  /**
   * Reads {@code read} every 50 ms until {@code done} accepts what it returned or {@code timeout}
   * passes; returns the last value read. For states no latch can signal, such as a row another
   * thread writes.
   */
  static <T> T poll(Callable<T> read, Predicate<T> done, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    T value = read.call();
    while (!done.test(value) && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(50);
      value = read.call();
    }
    return value;
  }

  private Examples() {}
}
