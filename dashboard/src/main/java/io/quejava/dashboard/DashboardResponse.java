package io.quejava.dashboard;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@link Dashboard#handle} answers: a status, headers and a body, for whatever serves the
 * dashboard to copy into its own response.
 *
 * @param status the HTTP status
 * @param headers response headers, each with one or more values (e.g. two {@code Set-Cookie})
 * @param body the body bytes (UTF-8 text for pages)
 */
public record DashboardResponse(int status, Map<String, List<String>> headers, byte[] body) {

  /** Copies the headers. */
  public DashboardResponse {
    headers = Map.copyOf(headers);
    body = body == null ? new byte[0] : body;
  }

  /** The first value of a header (names as the dashboard writes them, e.g. {@code Content-Type}). */
  public Optional<String> header(String name) {
    for (Map.Entry<String, List<String>> e : headers.entrySet()) {
      if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
        return Optional.of(e.getValue().get(0));
      }
    }
    return Optional.empty();
  }

  /** The body as UTF-8 text. */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }
}
