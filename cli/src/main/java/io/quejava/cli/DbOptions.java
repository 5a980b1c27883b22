package io.quejava.cli;

import io.quejava.Client;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.Map;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import picocli.CommandLine.Option;

/**
 * Where the database is: {@code --database-url} (or {@code QUE_DATABASE_URL}), else
 * {@code DATABASE_URL}, else libpq's variables ({@code PGHOST}, {@code PGPORT}, {@code PGDATABASE},
 * {@code PGUSER}, {@code PGPASSWORD}, {@code PGSSLMODE}, {@code PGAPPNAME}, {@code PGCONNECT_TIMEOUT}).
 * URLs are {@code postgres://user:password@host:port/db?sslmode=...} (libpq's) or
 * {@code jdbc:postgresql://...}. The password never appears in any message.
 */
final class DbOptions {
  @Option(names = "--database-url", paramLabel = "URL",
      description = "postgres://user:pw@host:port/db or jdbc:postgresql://...; default: $QUE_DATABASE_URL, $DATABASE_URL, then the PG* variables")
  String url;

  @Option(names = "--schema", paramLabel = "NAME", description = "the schema that holds que_jobs (default: the search_path's)")
  String schema;

  @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "5",
      description = "give up connecting after this many seconds (default: ${DEFAULT-VALUE})")
  int connectTimeout;

  private String password;
  private String where = "the database";
  private PGSimpleDataSource dataSource;
  private Client client;

  /** The data source these options name; built once. */
  DataSource dataSource(Map<String, String> env) {
    if (dataSource != null) {
      return dataSource;
    }
    PGSimpleDataSource ds = new PGSimpleDataSource();
    String given = url != null ? url : blankToNull(env.get("DATABASE_URL"));
    String user = env.getOrDefault("PGUSER", System.getProperty("user.name"));
    password = blankToNull(env.get("PGPASSWORD"));
    String host = env.getOrDefault("PGHOST", "localhost");
    int port = parsePort(env.getOrDefault("PGPORT", "5432"), "PGPORT");
    String db = env.get("PGDATABASE");
    ds.setApplicationName(env.getOrDefault("PGAPPNAME", "que-cli"));
    try {
      if (env.containsKey("PGSSLMODE")) {
        ds.setSslMode(env.get("PGSSLMODE"));
      }
      if (given != null) {
        String u = given.trim();
        if (u.startsWith("jdbc:postgresql:")) {
          ds.setURL(u);
          if (ds.getPassword() != null) {
            password = ds.getPassword();
          }
          if (ds.getUser() != null) {
            user = ds.getUser();
          }
          host = ds.getServerNames().length > 0 ? ds.getServerNames()[0] : host;
          port = ds.getPortNumbers().length > 0 && ds.getPortNumbers()[0] > 0 ? ds.getPortNumbers()[0] : port;
          db = ds.getDatabaseName();
        } else if (u.startsWith("postgres://") || u.startsWith("postgresql://")) {
          URI uri;
          try {
            uri = new URI(u);
          } catch (URISyntaxException e) {
            throw new CliException(2, "the database URL is not a valid URL (" + e.getReason() + ")");
          }
          if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            if (!parts[0].isEmpty()) {
              user = decode(parts[0]);
            }
            if (parts.length > 1) {
              password = decode(parts[1]);
            }
          }
          if (uri.getHost() != null) {
            host = uri.getHost();
          }
          if (uri.getPort() > 0) {
            port = uri.getPort();
          }
          if (uri.getRawPath() != null && uri.getRawPath().length() > 1) {
            db = decode(uri.getRawPath().substring(1));
          }
          if (uri.getRawQuery() != null) {
            for (String kv : uri.getRawQuery().split("&")) {
              String[] p = kv.split("=", 2);
              String k = decode(p[0]);
              String v = p.length > 1 ? decode(p[1]) : "";
              switch (k) {
                case "user" -> user = v;
                case "password" -> password = v;
                case "application_name" -> ds.setApplicationName(v);
                case "connect_timeout" -> connectTimeout = parsePort(v, "connect_timeout");
                case "sslmode" -> ds.setSslMode(v);
                default -> {
                  try {
                    ds.setProperty(k, v);
                  } catch (SQLException e) {
                    throw new CliException(2, "the database URL has the parameter '" + Text.safe(k) + "', which is not known");
                  }
                }
              }
            }
          }
        } else {
          throw new CliException(2, "the database URL must start with postgres://, postgresql:// or jdbc:postgresql:");
        }
      }
    } catch (IllegalArgumentException e) {
      throw new CliException(2, "the database URL is not usable: " + Cli.redact(Text.safe(e.getMessage()), password));
    }
    if (db == null || db.isEmpty()) {
      db = user;
    }
    ds.setServerNames(new String[] {host});
    ds.setPortNumbers(new int[] {port});
    ds.setDatabaseName(db);
    ds.setUser(user);
    ds.setPassword(password);
    int timeout = env.containsKey("PGCONNECT_TIMEOUT") && url == null && given == null
        ? parsePort(env.get("PGCONNECT_TIMEOUT"), "PGCONNECT_TIMEOUT") : connectTimeout;
    ds.setConnectTimeout(Math.max(1, timeout));
    ds.setLoginTimeout(Math.max(1, timeout));
    if (schema != null) {
      ds.setCurrentSchema(schema);
    }
    where = user + "@" + host + ":" + port + "/" + db;
    dataSource = ds;
    return ds;
  }

  /** The client for the table (reads its version once). */
  Client client(Map<String, String> env) {
    if (client == null) {
      client = Client.create(dataSource(env));
    }
    return client;
  }

  /** The password given (from the URL or PGPASSWORD), to keep out of messages; null if none. */
  String password() {
    return password;
  }

  /** user@host:port/db, without the password, for messages. */
  String where() {
    return where;
  }

  private static int parsePort(String s, String what) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      throw new CliException(2, what + " must be a number, got '" + Text.safe(s) + "'");
    }
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
