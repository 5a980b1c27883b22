package io.quejava.dashboard;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One HTTP request as {@link Dashboard#handle} takes it, independent of any server: whatever
 * serves the dashboard (its own {@link DashboardServer}, a servlet, a Spring controller, another
 * framework's handler) copies these fields from its own request.
 *
 * @param method the HTTP method, e.g. {@code GET} or {@code POST}
 * @param path the full path of the request, the dashboard's base path included (e.g.
 *     {@code /que/jobs}), not decoded; no query string
 * @param query the raw query string without its {@code ?}, or an empty string
 * @param headers the request headers; names are matched case-insensitively
 * @param body the request body (the form of a POST), empty for none
 * @param remoteAddress the client's address as text, for logs; may be empty
 */
public record DashboardRequest(
    String method,
    String path,
    String query,
    Map<String, List<String>> headers,
    byte[] body,
    String remoteAddress) {

  /** Checks the fields and keeps the headers in a case-insensitive copy. */
  public DashboardRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    query = query == null ? "" : query;
    Map<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    if (headers != null) {
      headers.forEach((k, v) -> {
        if (k != null && v != null) {
          copy.put(k, List.copyOf(v));
        }
      });
    }
    headers = java.util.Collections.unmodifiableMap(copy);
    body = body == null ? new byte[0] : body;
    remoteAddress = remoteAddress == null ? "" : remoteAddress;
  }

  /** A request without body and headers, e.g. {@code DashboardRequest.of("GET", "/jobs", "state=ready")}. */
  public static DashboardRequest of(String method, String path, String query) {
    return new DashboardRequest(method, path, query, Map.of(), new byte[0], "");
  }

  /** The first value of a header, if the request has it. */
  public Optional<String> header(String name) {
    List<String> values = headers.get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  /** The method in upper case. */
  String verb() {
    return method.toUpperCase(Locale.ROOT);
  }
}
