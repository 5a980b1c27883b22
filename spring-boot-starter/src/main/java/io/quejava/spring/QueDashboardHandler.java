package io.quejava.spring;

import io.quejava.dashboard.Dashboard;
import io.quejava.dashboard.DashboardRequest;
import io.quejava.dashboard.DashboardResponse;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;

/**
 * Adapts one Spring MVC request to {@link Dashboard#handle} and its answer back: method, raw path
 * (context path included, not decoded), raw query, every header, the body bytes as the client sent
 * them, the remote address; then status, every header value and the body bytes.
 *
 * <p>The body is the servlet's input stream, byte for byte. Only when a filter has parsed the form
 * already (a {@code getParameter} call on a form POST, e.g. by {@code HiddenHttpMethodFilter}), the
 * stream is empty and the form is rebuilt from the request's parameters minus those of the query
 * string, UTF-8 encoded as the dashboard reads it.
 */
final class QueDashboardHandler {
  /** Largest request body taken, as the dashboard's own server: 1 MiB. */
  static final int MAX_BODY = 1 << 20;

  private final Dashboard dashboard;

  QueDashboardHandler(Dashboard dashboard) {
    this.dashboard = dashboard;
  }

  ServerResponse handle(ServerRequest request) throws IOException {
    HttpServletRequest servlet = request.servletRequest();
    long declared = servlet.getContentLengthLong();
    if (declared > MAX_BODY) {
      return text(413, "request body too large");
    }
    byte[] body;
    try (InputStream in = servlet.getInputStream()) {
      body = in.readNBytes(MAX_BODY + 1);
    }
    if (body.length > MAX_BODY) {
      return text(413, "request body too large");
    }
    if (body.length == 0 && isFormPost(servlet)) {
      body = formFromParameters(servlet);
    } else if (declared > 0 && body.length < declared) {
      return text(400, "request body shorter than its Content-Length");
    }
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String name : Collections.list(servlet.getHeaderNames())) {
      headers.put(name, new ArrayList<>(Collections.list(servlet.getHeaders(name))));
    }
    DashboardResponse response = dashboard.handle(new DashboardRequest(servlet.getMethod(), servlet.getRequestURI(),
        servlet.getQueryString(), headers, body, servlet.getRemoteAddr()));
    byte[] out = response.body();
    return ServerResponse.status(response.status())
        .headers(h -> response.headers().forEach((name, values) -> h.addAll(name, values)))
        .build((req, res) -> {
          res.setContentLength(out.length);
          if (!"HEAD".equalsIgnoreCase(req.getMethod()) && out.length > 0) {
            res.getOutputStream().write(out);
          }
          return null;
        });
  }

  private static boolean isFormPost(HttpServletRequest servlet) {
    String type = servlet.getContentType();
    return "POST".equalsIgnoreCase(servlet.getMethod()) && type != null
        && type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded");
  }

  /**
   * The form of a POST whose body a filter has consumed: the request's parameters without the
   * query string's (the servlet container lists those first under each name), re-encoded in UTF-8.
   */
  static byte[] formFromParameters(HttpServletRequest servlet) {
    Charset charset = StandardCharsets.UTF_8;
    if (servlet.getCharacterEncoding() != null) {
      try {
        charset = Charset.forName(servlet.getCharacterEncoding());
      } catch (IllegalArgumentException e) {
        // unknown name: the container decoded with its default, UTF-8 in Spring Boot
      }
    }
    Map<String, Integer> inQuery = new HashMap<>();
    String query = servlet.getQueryString();
    if (query != null) {
      for (String pair : query.split("&")) {
        if (!pair.isEmpty()) {
          int eq = pair.indexOf('=');
          inQuery.merge(decode(eq < 0 ? pair : pair.substring(0, eq), charset), 1, Integer::sum);
        }
      }
    }
    StringBuilder form = new StringBuilder();
    for (Map.Entry<String, String[]> e : servlet.getParameterMap().entrySet()) {
      String[] values = e.getValue();
      for (int i = inQuery.getOrDefault(e.getKey(), 0); i < values.length; i++) {
        if (form.length() > 0) {
          form.append('&');
        }
        form.append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)).append('=')
            .append(URLEncoder.encode(values[i], StandardCharsets.UTF_8));
      }
    }
    return form.toString().getBytes(StandardCharsets.US_ASCII);
  }

  private static String decode(String s, Charset charset) {
    try {
      return URLDecoder.decode(s, charset);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  private static ServerResponse text(int status, String message) {
    byte[] out = message.getBytes(StandardCharsets.UTF_8);
    return ServerResponse.status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("Cache-Control", "no-store")
        .build((req, res) -> {
          res.setContentLength(out.length);
          res.getOutputStream().write(out);
          return null;
        });
  }
}
