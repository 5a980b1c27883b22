package io.quejava.spring;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A tiny HTTP client for the mounted dashboard's tests: the JDK's HttpClient, no redirects, no cookie jar. */
final class DashboardHttp {
  private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([A-Za-z0-9_-]+)\"");
  private static final Pattern SESSION = Pattern.compile("que_dashboard_session=([A-Za-z0-9_-]+)");

  private final HttpClient http = HttpClient.newBuilder()
      .followRedirects(HttpClient.Redirect.NEVER)
      .connectTimeout(Duration.ofSeconds(10))
      .build();
  private final String base;
  private String authorization;

  DashboardHttp(int port) {
    this.base = "http://127.0.0.1:" + port;
  }

  DashboardHttp basic(String user, String password) {
    authorization = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    return this;
  }

  HttpResponse<String> get(String path) throws Exception {
    return send(request(path).GET().build());
  }

  HttpResponse<String> head(String path) throws Exception {
    return send(request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
  }

  HttpResponse<String> post(String path, String cookie, String form) throws Exception {
    HttpRequest.Builder b = request(path)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form, StandardCharsets.UTF_8));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return send(b.build());
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return b;
  }

  private HttpResponse<String> send(HttpRequest request) throws Exception {
    return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  /** The session cookie a page set, as a Cookie header value. */
  static String sessionCookie(HttpResponse<String> page) {
    String setCookie = page.headers().firstValue("Set-Cookie").orElseThrow(() -> new AssertionError("no Set-Cookie"));
    Matcher m = SESSION.matcher(setCookie);
    assertTrue(m.find(), setCookie);
    return "que_dashboard_session=" + m.group(1);
  }

  /** The CSRF token in a page's forms. */
  static String csrfToken(HttpResponse<String> page) {
    Matcher m = CSRF.matcher(page.body());
    assertTrue(m.find(), "a form with a CSRF token on the page");
    return m.group(1);
  }
}
