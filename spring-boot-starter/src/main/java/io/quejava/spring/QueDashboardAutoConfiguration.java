package io.quejava.spring;

import io.quejava.Client;
import io.quejava.dashboard.Authenticator;
import io.quejava.dashboard.Dashboard;
import jakarta.servlet.ServletContext;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.web.servlet.DispatcherServletPath;
import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpMethod;
import org.springframework.web.servlet.function.RequestPredicates;
import org.springframework.web.servlet.function.RouterFunction;
import org.springframework.web.servlet.function.RouterFunctions;
import org.springframework.web.servlet.function.ServerResponse;

/**
 * The que-java web dashboard ({@link Dashboard}) mounted into a servlet web application at
 * {@code que.dashboard.path} (default {@code /que}) through Spring MVC functional routing, over the
 * starter's {@link Client}. Only when que-java-dashboard is on the class path, the application is a
 * servlet web application and {@code que.dashboard.enabled=true}.
 *
 * <p>The dashboard's pages retry and delete jobs, and the application's port may be public, so it
 * refuses to start without one of: an {@link Authenticator} bean of the application,
 * {@code que.dashboard.basic-auth.username} and {@code .password}, or
 * {@code que.dashboard.insecure=true} (something in front of it, such as a reverse proxy or the
 * application's Spring Security filter chain, authenticates the path). The dashboard checks its own
 * CSRF token on every POST.
 *
 * <p>When the starter runs a worker pool, the dashboard's {@link Dashboard#jobListener() job
 * listener} is registered on it, so the overview's throughput chart counts this application's jobs.
 */
@AutoConfiguration(after = QueAutoConfiguration.class)
@ConditionalOnClass({Dashboard.class, RouterFunction.class})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnProperty(prefix = "que.dashboard", name = "enabled", havingValue = "true")
@ConditionalOnBean(Client.class)
public class QueDashboardAutoConfiguration {
  private static final Logger LOG = LoggerFactory.getLogger(QueDashboardAutoConfiguration.class);

  /**
   * The dashboard, under the path browsers see: the servlet context path, the DispatcherServlet's
   * prefix ({@code spring.mvc.servlet.path}) and {@code que.dashboard.path}.
   *
   * @throws IllegalStateException when it would have no authentication and is not insecure, or the
   *     authentication settings contradict each other
   */
  @Bean
  @ConditionalOnMissingBean
  public Dashboard queDashboard(Client client, QueProperties properties, ObjectProvider<Authenticator> authenticators,
      ObjectProvider<ServletContext> servletContext, ObjectProvider<DispatcherServletPath> servletPath) {
    QueProperties.Dashboard settings = properties.getDashboard();
    String mount = browserPath(settings.getPath(), servletContext, servletPath);
    Dashboard.Builder builder = Dashboard.builder(client)
        .basePath(mount)
        .readOnly(settings.isReadOnly())
        .refreshSeconds(settings.getRefreshSeconds())
        .insecure(settings.isInsecure());
    String auth = configureAuthentication(builder, settings, authenticators.orderedStream().toList(), mount);
    LOG.info("que-java: dashboard at {}{} ({})", mount, settings.isReadOnly() ? " read-only" : "", auth);
    return builder.build();
  }

  /** Applies the safety rule; answers how the dashboard authenticates, for the start-up log. */
  static String configureAuthentication(Dashboard.Builder builder, QueProperties.Dashboard settings,
      List<Authenticator> authenticators, String mount) {
    QueProperties.BasicAuth basic = settings.getBasicAuth();
    boolean hasUser = basic.getUsername() != null && !basic.getUsername().isEmpty();
    boolean hasPassword = basic.getPassword() != null && !basic.getPassword().isEmpty();
    if (authenticators.size() > 1) {
      throw new IllegalStateException("que.dashboard: " + authenticators.size()
          + " beans of type io.quejava.dashboard.Authenticator; the dashboard takes exactly one");
    }
    if (!authenticators.isEmpty() && (hasUser || hasPassword)) {
      throw new IllegalStateException("que.dashboard: both an io.quejava.dashboard.Authenticator bean and"
          + " que.dashboard.basic-auth.* are set; keep one of them");
    }
    if (hasUser != hasPassword) {
      throw new IllegalStateException("que.dashboard.basic-auth: set both que.dashboard.basic-auth.username and"
          + " que.dashboard.basic-auth.password (" + (hasUser ? "password" : "username") + " is missing)");
    }
    if (!authenticators.isEmpty()) {
      builder.authenticator(authenticators.get(0));
      return "authenticated by the application's Authenticator bean";
    }
    if (hasUser) {
      try {
        builder.basicAuth(basic.getUsername(), basic.getPassword());
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException("que.dashboard.basic-auth: " + e.getMessage(), e);
      }
      return "HTTP Basic authentication as '" + basic.getUsername() + "'";
    }
    if (settings.isInsecure()) {
      LOG.warn("que-java: the dashboard at {} authenticates nobody (que.dashboard.insecure=true): whatever is in"
          + " front of it (a proxy, a Spring Security filter chain) must authenticate {}/**", mount, mount);
      return "no authentication of its own: que.dashboard.insecure=true";
    }
    throw new IllegalStateException("que.dashboard.enabled=true would serve the dashboard, whose pages retry and"
        + " delete jobs, at " + mount + " on this application's port to anyone who can reach it. Set"
        + " que.dashboard.basic-auth.username and que.dashboard.basic-auth.password, define a bean of type"
        + " io.quejava.dashboard.Authenticator, or set que.dashboard.insecure=true if a reverse proxy or the"
        + " application's Spring Security filter chain authenticates " + mount + "/** (or set"
        + " que.dashboard.read-only=true as well to keep it from changing anything)");
  }

  private static String browserPath(String path, ObjectProvider<ServletContext> servletContext,
      ObjectProvider<DispatcherServletPath> servletPath) {
    ServletContext context = servletContext.getIfAvailable();
    String contextPath = context == null || context.getContextPath() == null ? "" : context.getContextPath();
    DispatcherServletPath dispatcher = servletPath.getIfAvailable();
    String prefix = dispatcher == null ? "" : dispatcher.getPrefix();
    return contextPath + prefix + path;
  }

  /**
   * Routes GET, HEAD and POST on {@code que.dashboard.path} and everything under it to the
   * dashboard, ahead of the application's controllers.
   */
  @Bean
  public RouterFunction<ServerResponse> queDashboardRoutes(Dashboard dashboard, QueProperties properties,
      ObjectProvider<ServletContext> servletContext, ObjectProvider<DispatcherServletPath> servletPath) {
    String path = properties.getDashboard().getPath();
    String mount = browserPath(path, servletContext, servletPath);
    if (!dashboard.basePath().equals(mount)) {
      throw new IllegalStateException("que.dashboard.path is " + path + ", so the Dashboard bean's basePath must be "
          + mount + " (context path and DispatcherServlet prefix included), not '" + dashboard.basePath() + "'");
    }
    QueDashboardHandler handler = new QueDashboardHandler(dashboard);
    return RouterFunctions.route(
        RequestPredicates.path(path).or(RequestPredicates.path(path + "/**"))
            .and(RequestPredicates.methods(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST)),
        handler::handle);
  }

  /** Counts the starter pool's attempts in the overview's throughput chart. */
  @Bean
  public QueWorkerPoolCustomizer queDashboardThroughput(Dashboard dashboard) {
    return pool -> pool.listener(dashboard.jobListener());
  }
}
