package io.quejava.dashboard;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/** Query strings and url-encoded form bodies. */
final class Form {
  private final Map<String, List<String>> values;

  private Form(Map<String, List<String>> values) {
    this.values = values;
  }

  static Form parse(String encoded) {
    Map<String, List<String>> values = new LinkedHashMap<>();
    if (encoded != null && !encoded.isEmpty()) {
      for (String pair : encoded.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String k = decode(eq < 0 ? pair : pair.substring(0, eq));
        String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
        values.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
      }
    }
    return new Form(values);
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new BadRequest("malformed url encoding: " + e.getMessage());
    }
  }

  /** The first value, trimmed; "" when absent. */
  String get(String name) {
    List<String> v = values.get(name);
    return v == null || v.isEmpty() ? "" : v.get(0).trim();
  }

  List<String> all(String name) {
    return values.getOrDefault(name, List.of());
  }

  static String encode(Map<String, String> params) {
    StringJoiner j = new StringJoiner("&");
    params.forEach((k, v) -> {
      if (v != null && !v.isEmpty()) {
        j.add(URLEncoder.encode(k, StandardCharsets.UTF_8) + "=" + URLEncoder.encode(v, StandardCharsets.UTF_8));
      }
    });
    return j.toString();
  }

  /** A request the dashboard refuses with 400 and this message. */
  static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BadRequest(String message) {
      super(message);
    }
  }
}
