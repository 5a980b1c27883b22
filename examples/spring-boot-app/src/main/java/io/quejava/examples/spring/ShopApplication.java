package io.quejava.examples.spring;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A small shop on que-java's Spring Boot starter. {@code POST /orders} writes an order and enqueues
 * its confirmation job in one transaction ({@link OrderService}); {@link Confirmations} works the
 * job and marks the order confirmed; {@code GET /orders/{id}} shows it.
 *
 * <p>The database is {@code DATABASE_URL} ({@code postgres://user:password@host:port/db}) when it is
 * set, else an embedded PostgreSQL started for the run and stopped with it. que_jobs is created at
 * start-up ({@code que.migrate=true}), the orders table by {@code schema.sql}. The que-java
 * dashboard is at {@code /que} for the user {@code ops}, password {@code QUE_DASHBOARD_PASSWORD} or
 * one drawn at start and printed.
 */
@SpringBootApplication
public class ShopApplication {
  public static void main(String[] args) throws Exception {
    SpringApplication app = new SpringApplication(ShopApplication.class);
    String url = System.getenv("DATABASE_URL");
    EmbeddedPostgres embedded = null;
    Map<String, Object> defaults = new HashMap<>();
    if (url != null && !url.isBlank()) {
      System.out.println("Using DATABASE_URL");
      defaults.putAll(dataSourceProperties(url));
    } else {
      System.out.println("No DATABASE_URL: starting an embedded PostgreSQL");
      // Its own shutdown hook would race ours and could stop the database under running jobs.
      embedded = EmbeddedPostgres.builder().setRegisterShutdownHook(false).start();
      defaults.put("spring.datasource.url", embedded.getJdbcUrl("postgres", "postgres"));
      defaults.put("spring.datasource.username", "postgres");
    }
    defaults.put("que.dashboard.basic-auth.password", dashboardPassword());
    app.setDefaultProperties(defaults);
    // Our own hook, so that the database stops only after the context (and its worker pool) has.
    app.setRegisterShutdownHook(false);
    ConfigurableApplicationContext context;
    try {
      context = app.run(args);
    } catch (RuntimeException e) {
      if (embedded != null) {
        embedded.close();
      }
      throw e;
    }
    EmbeddedPostgres db = embedded;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      context.close();
      if (db != null) {
        try {
          db.close();
        } catch (Exception e) {
          System.err.println("stopping the embedded PostgreSQL: " + e);
        }
      }
    }, "shop-shutdown"));
  }

  /** QUE_DASHBOARD_PASSWORD, or a random password printed for this run. */
  static String dashboardPassword() {
    String given = System.getenv("QUE_DASHBOARD_PASSWORD");
    if (given != null && !given.isBlank()) {
      System.out.println("Dashboard: /que, user ops, password from QUE_DASHBOARD_PASSWORD");
      return given;
    }
    byte[] random = new byte[15];
    new SecureRandom().nextBytes(random);
    String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    System.out.println("Dashboard: /que, user ops, password " + password + " (set QUE_DASHBOARD_PASSWORD to choose it)");
    return password;
  }

  /** spring.datasource.* from a libpq-style URL, or a jdbc:postgresql: one as it is. */
  static Map<String, Object> dataSourceProperties(String url) {
    Map<String, Object> p = new HashMap<>();
    if (url.startsWith("jdbc:")) {
      p.put("spring.datasource.url", url);
      return p;
    }
    URI uri = URI.create(url.replaceFirst("^postgresql:", "postgres:"));
    String host = uri.getHost() == null ? "localhost" : uri.getHost();
    int port = uri.getPort() > 0 ? uri.getPort() : 5432;
    String db = uri.getPath() == null || uri.getPath().length() <= 1 ? "postgres" : uri.getPath().substring(1);
    p.put("spring.datasource.url", "jdbc:postgresql://" + host + ":" + port + "/" + db
        + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
    if (uri.getUserInfo() != null) {
      String[] userInfo = uri.getUserInfo().split(":", 2);
      p.put("spring.datasource.username", userInfo[0]);
      if (userInfo.length > 1) {
        p.put("spring.datasource.password", userInfo[1]);
      }
    }
    return p;
  }
}
