package io.quejava.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link Dashboard} served on the JDK's {@code com.sun.net.httpserver.HttpServer}: four request
 * threads and a queue of 64 requests (past that the accepting thread answers them itself). Close it
 * to stop serving.
 */
public final class DashboardServer implements AutoCloseable {
  private static final int THREADS = 4;
  private static final int MAX_BODY = 1 << 20;

  private final HttpServer server;
  private final ThreadPoolExecutor executor;

  private DashboardServer(HttpServer server, ThreadPoolExecutor executor) {
    this.server = server;
    this.executor = executor;
  }

  static DashboardServer start(Dashboard dashboard, InetSocketAddress address) throws IOException {
    HttpServer server = HttpServer.create(address, 64);
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor executor = new ThreadPoolExecutor(THREADS, THREADS, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(64), r -> {
          Thread t = new Thread(r, "que-dashboard-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
    server.setExecutor(executor);
    server.createContext("/", exchange -> serve(dashboard, exchange));
    server.start();
    return new DashboardServer(server, executor);
  }

  private static void serve(Dashboard dashboard, HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readNBytes(MAX_BODY + 1);
      }
      DashboardResponse response;
      if (body.length > MAX_BODY) {
        response = new DashboardResponse(413, Map.of("Content-Type", List.of("text/plain; charset=utf-8")),
            "request body too large".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      } else {
        URI uri = exchange.getRequestURI();
        response = dashboard.handle(new DashboardRequest(exchange.getRequestMethod(), uri.getRawPath(),
            uri.getRawQuery(), exchange.getRequestHeaders(), body,
            exchange.getRemoteAddress() == null ? "" : exchange.getRemoteAddress().toString()));
      }
      response.headers().forEach((k, v) -> exchange.getResponseHeaders().put(k, v));
      boolean head = exchange.getRequestMethod().equalsIgnoreCase("HEAD");
      exchange.sendResponseHeaders(response.status(), head || response.body().length == 0 ? -1 : response.body().length);
      if (!head && response.body().length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(response.body());
        }
      }
    }
  }

  /** The address it listens on (the port chosen when 0 was asked). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** {@code http://host:port} of {@link #address()}, plus the dashboard's base path. */
  public String url(Dashboard dashboard) {
    InetSocketAddress a = address();
    String host = a.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + a.getPort() + dashboard.basePath();
  }

  /** Stops accepting requests, lets running ones end (at most one second), and stops the threads. */
  @Override
  public void close() {
    server.stop(1);
    executor.shutdownNow();
  }
}
