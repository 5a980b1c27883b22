package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.dashboard.Dashboard;
import io.quejava.dashboard.DashboardRequest;
import io.quejava.dashboard.DashboardResponse;
import io.quejava.dashboard.DashboardServer;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The web dashboard (io.quejava:que-java-dashboard), two ways: served on its own (the JDK's HTTP
 * server on 127.0.0.1, a free port, under /que with basic auth) and called directly through
 * {@link Dashboard#handle}, which is how an application mounts it in a server of its own.
 */
public final class DashboardExample {
  static final String QUEUE = "examples-dashboard";

  public static void main(String[] args) throws Exception {
    Examples.main(DashboardExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    Examples.emptyQueue(dataSource, QUEUE);
    Client client = Client.create(dataSource);
    client.enqueue(NewJob.of("SendInvoice", 1042, "EUR").queue(QUEUE));
    client.enqueue(NewJob.of("SendInvoice", 1043, "USD").queue(QUEUE));
    out.println("enqueued 2 jobs on " + QUEUE);

    Dashboard dashboard = Dashboard.builder(client)
        .basePath("/que")                         // links and forms carry it
        .basicAuth("ops", "example-password")     // required for any address but loopback
        .build();
    String auth = "Basic " + Base64.getEncoder().encodeToString("ops:example-password".getBytes(StandardCharsets.UTF_8));

    // 1. Standalone: the dashboard's own server (what `que dashboard` runs), here on a free port.
    boolean listed;
    try (DashboardServer server = dashboard.start(0)) {
      String url = server.url(dashboard);
      out.println("serving " + url.replaceFirst(":\\d+", ":<port>") + "/");
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(URI.create(url + "/")).build(),
          HttpResponse.BodyHandlers.ofString());
      out.println("GET /que/ without credentials: " + anonymous.statusCode());
      HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(url + "/jobs?queue=" + QUEUE))
          .header("Authorization", auth).build(), HttpResponse.BodyHandlers.ofString());
      listed = page.body().split("class=\"job\"").length - 1 == 2;
      out.println("GET /que/jobs?queue=" + QUEUE + " as ops: " + page.statusCode() + ", jobs listed: "
          + (page.body().split("class=\"job\"").length - 1));
    }

    // 2. Mounted: any server copies its request into a DashboardRequest and the answer back.
    DashboardResponse r = dashboard.handle(new DashboardRequest("GET", "/que/", "",
        Map.of("Authorization", List.of(auth)), null, "127.0.0.1"));
    out.println("handle(GET /que/): " + r.status() + " " + r.header("Content-Type").orElse("") + ", CSP: "
        + r.header("Content-Security-Policy").orElse("none").split(";")[0]);
    boolean shown = r.status() == 200 && r.bodyText().contains(QUEUE);
    out.println("overview shows " + QUEUE + ": " + shown);

    Examples.emptyQueue(dataSource, QUEUE);
    return listed && shown;
  }

  private DashboardExample() {}
}
