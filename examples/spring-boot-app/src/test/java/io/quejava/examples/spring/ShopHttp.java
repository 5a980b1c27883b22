package io.quejava.examples.spring;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The example's HTTP API as the tests call it: real requests to the running server. */
final class ShopHttp {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private ShopHttp() {}

  static HttpResponse<String> post(int port, String pathAndQuery, String json) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
        .timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json))
        .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(20)).GET().build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** A GET with HTTP Basic credentials. */
  static HttpResponse<String> get(int port, String path, String user, String password) throws Exception {
    String credentials = java.util.Base64.getEncoder()
        .encodeToString((user + ":" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(20)).header("Authorization", "Basic " + credentials).GET().build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
