package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Migrator;
import io.quejava.dashboard.Authenticator;
import io.quejava.dashboard.Dashboard;
import io.quejava.dashboard.DashboardRequest;
import io.quejava.testing.TestDatabase;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.web.servlet.function.RouterFunction;

/** When the dashboard is mounted, and the safety rule that keeps it from being mounted open. */
class QueSpringDashboardConditionsTest {
  private static final DataSource DS = migrated();

  private static DataSource migrated() {
    DataSource ds = TestDatabase.newSchema("spring_dashboard_cond");
    Migrator.create(ds).migrate();
    return ds;
  }

  private final WebApplicationContextRunner web = new WebApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(QueAutoConfiguration.class, QueDashboardAutoConfiguration.class))
      .withPropertyValues("que.worker.enabled=false")
      .withBean(DataSource.class, () -> DS);

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null) {
      c = c.getCause();
    }
    return c.getMessage();
  }

  @Test
  void offByDefault() {
    web.run(context -> {
      assertNull(context.getStartupFailure());
      assertTrue(context.getBeansOfType(Dashboard.class).isEmpty());
      assertTrue(context.getBeansOfType(RouterFunction.class).isEmpty(), "no route");
    });
  }

  @Test
  void enabledWithoutAuthenticationRefusesToStart() {
    web.withPropertyValues("que.dashboard.enabled=true").run(context -> {
      assertNotNull(context.getStartupFailure());
      String message = rootMessage(context.getStartupFailure());
      assertTrue(message.contains("at /que on this application's port to anyone who can reach it"), message);
      for (String p : List.of("que.dashboard.basic-auth.username", "que.dashboard.basic-auth.password",
          "que.dashboard.insecure=true", "io.quejava.dashboard.Authenticator")) {
        assertTrue(message.contains(p), p + " in: " + message);
      }
    });
  }

  @Test
  void halfOfBasicAuthNamesTheMissingProperty() {
    web.withPropertyValues("que.dashboard.enabled=true", "que.dashboard.basic-auth.username=ops").run(context -> {
      String message = rootMessage(context.getStartupFailure());
      assertTrue(message.contains("que.dashboard.basic-auth.password") && message.contains("password is missing"), message);
    });
  }

  @Test
  void aBadPathNamesTheProperty() {
    web.withPropertyValues("que.dashboard.enabled=true", "que.dashboard.insecure=true", "que.dashboard.path=que/")
        .run(context -> {
          String message = rootMessage(context.getStartupFailure());
          assertTrue(message.contains("que.dashboard.path must look like /que"), message);
        });
  }

  @Test
  void theApplicationsAuthenticatorIsUsed() {
    Authenticator byHeader = request -> request.header("X-Ops-User");
    web.withPropertyValues("que.dashboard.enabled=true")
        .withBean(Authenticator.class, () -> byHeader)
        .run(context -> {
          assertNull(context.getStartupFailure());
          Dashboard dashboard = context.getBean(Dashboard.class);
          assertEquals(401, dashboard.handle(DashboardRequest.of("GET", "/que/assets/dashboard.css", "")).status());
          assertEquals(200, dashboard.handle(new DashboardRequest("GET", "/que/assets/dashboard.css", "",
              Map.of("X-Ops-User", List.of("ann")), null, "")).status());
          assertEquals(1, context.getBeansOfType(RouterFunction.class).size());
        });
  }

  @Test
  void anAuthenticatorBeanAndBasicAuthTogetherAreRefused() {
    web.withPropertyValues("que.dashboard.enabled=true", "que.dashboard.basic-auth.username=ops",
            "que.dashboard.basic-auth.password=pw")
        .withBean(Authenticator.class, () -> request -> Optional.of("x"))
        .run(context -> {
          String message = rootMessage(context.getStartupFailure());
          assertTrue(message.contains("keep one of them"), message);
        });
  }

  @Test
  void notInANonWebApplication() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(QueAutoConfiguration.class, QueDashboardAutoConfiguration.class))
        .withPropertyValues("que.worker.enabled=false", "que.dashboard.enabled=true", "que.dashboard.insecure=true")
        .withBean(DataSource.class, () -> DS)
        .run(context -> {
          assertNull(context.getStartupFailure());
          assertTrue(context.getBeansOfType(Dashboard.class).isEmpty());
        });
  }

  @Test
  void theApplicationsOwnDashboardIsMountedWhenItsPathAgrees() {
    web.withPropertyValues("que.dashboard.enabled=true", "que.dashboard.path=/ops")
        .withBean(Dashboard.class, () -> Dashboard.builder(DS).basePath("/ops").readOnly(true).build())
        .run(context -> {
          assertNull(context.getStartupFailure());
          assertTrue(context.getBean(Dashboard.class).readOnly());
          assertEquals(1, context.getBeansOfType(RouterFunction.class).size());
        });
    web.withPropertyValues("que.dashboard.enabled=true", "que.dashboard.path=/ops")
        .withBean(Dashboard.class, () -> Dashboard.builder(DS).basePath("/que").build())
        .run(context -> {
          String message = rootMessage(context.getStartupFailure());
          assertTrue(message.contains("basePath must be /ops"), message);
        });
  }
}
