package io.quejava.cli;

import io.quejava.Client;
import io.quejava.dashboard.Dashboard;
import io.quejava.dashboard.DashboardServer;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code que dashboard}: the web dashboard (io.quejava:que-java-dashboard) on the JDK's HTTP
 * server until SIGTERM or SIGINT. Loopback by default; another address needs a user and password
 * or {@code --insecure}.
 */
@Command(name = "dashboard", description = {
    "Serve the web dashboard (queues, jobs, failing jobs, dead letters, schedules, in-flight jobs) until",
    "SIGTERM or Ctrl-C. It binds 127.0.0.1 unless --bind says otherwise; any other address needs",
    "--dashboard-user and --dashboard-password (HTTP Basic: put TLS in front) or --insecure."})
final class DashboardCommand extends Cli {
  @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080", description = "the port (default: ${DEFAULT-VALUE}; 0: any free port, printed)")
  int port;

  @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "127.0.0.1", description = "the address to listen on (default: ${DEFAULT-VALUE})")
  String bind;

  @Option(names = "--dashboard-user", paramLabel = "USER", description = "require HTTP Basic authentication with this user (or $QUE_DASHBOARD_USER)")
  String user;

  @Option(names = "--dashboard-password", paramLabel = "PASSWORD",
      description = "the password of --dashboard-user; prefer $QUE_DASHBOARD_PASSWORD, which other users' ps does not show")
  String password;

  @Option(names = "--read-only", description = "refuse every change (retry, delete, replay, enable, ...) and show no buttons")
  boolean readOnly;

  @Option(names = "--insecure", description = "allow a non-loopback --bind without authentication")
  boolean insecure;

  @Option(names = "--base-path", paramLabel = "PATH", defaultValue = "", description = "serve under this path, e.g. /que (default: the root)")
  String basePath;

  @Option(names = "--refresh", paramLabel = "SECONDS", defaultValue = "5", description = "reload the overview every SECONDS, 0 for never (default: ${DEFAULT-VALUE})")
  int refresh;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65_535) {
      throw usage("--port: 0 to 65535, got " + port);
    }
    if ((user == null) != (password == null)) {
      throw usage("--dashboard-user and --dashboard-password go together");
    }
    InetAddress address;
    try {
      address = InetAddress.getByName(bind);
    } catch (UnknownHostException e) {
      throw usage("--bind: cannot resolve '" + bind + "'");
    }
    Client client = client(); // checks the table and its version first
    Dashboard.Builder b;
    try {
      b = Dashboard.builder(client).readOnly(readOnly).insecure(insecure).basePath(basePath).refreshSeconds(refresh);
      if (user != null) {
        b.basicAuth(user, password);
      }
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    Dashboard dashboard = b.build();
    DashboardServer server;
    try {
      server = dashboard.start(new InetSocketAddress(address, port));
    } catch (IllegalStateException e) {
      throw usage(e.getMessage().replace("basicAuth(user, password) or an authenticator", "--dashboard-user and --dashboard-password")
          .replace("insecure(true)", "--insecure"));
    } catch (UncheckedIOException e) {
      throw new CliException(Que.FAILED, e.getMessage());
    }
    CountDownLatch stop = new CountDownLatch(1);
    onSignal("TERM", stop);
    onSignal("INT", stop);
    app().err.println("que dashboard: serving " + server.url(dashboard) + "/ (schema " + client.schemaVersion()
        + (readOnly ? ", read-only" : "") + (user != null ? ", basic auth" : "") + "); Ctrl-C stops it");
    try {
      stop.await();
    } finally {
      server.close();
    }
    app().err.println("que dashboard: stopped");
    return Que.OK;
  }

  /** SIGTERM and SIGINT end the wait; where the JDK's signal API is missing, a shutdown hook does. */
  private static void onSignal(String name, CountDownLatch stop) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal(name), s -> stop.countDown());
    } catch (IllegalArgumentException | LinkageError e) {
      Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
    }
  }
}
