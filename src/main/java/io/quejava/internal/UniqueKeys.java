package io.quejava.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.quejava.NewJob;
import io.quejava.UniqueOptions;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;

/**
 * The key a unique job claims: its explicit key, or one derived from class, queue, args and kwargs
 * compared as JSON values (a SHA-256 of a canonical form: object keys sorted, numbers by value, so
 * {@code {"a":1,"b":2.0}} and {@code { "b" : 2, "a" : 1 }} give one key).
 */
public final class UniqueKeys {
  private UniqueKeys() {}

  /** The key of a rendered job (args and kwargs are JSON text); {@code queue} is the resolved queue. */
  public static String keyOf(NewJob job, String queue) {
    UniqueOptions u = job.unique().orElseThrow();
    if (u.explicitKey().isPresent()) {
      return u.explicitKey().get();
    }
    StringBuilder canonical = new StringBuilder();
    canonical.append('[');
    writeString(canonical, job.jobClass());
    canonical.append(',');
    writeString(canonical, queue);
    canonical.append(',');
    write(canonical, Json.parse(job.argsJson()));
    canonical.append(',');
    write(canonical, Json.parse(job.kwargsJson().orElse("{}")));
    canonical.append(']');
    return UniqueOptions.DERIVED_PREFIX + "args:" + sha256(canonical.toString());
  }

  /** The canonical text of a JSON value: sorted keys, no spacing, numbers by value. */
  static String canonical(JsonNode node) {
    StringBuilder sb = new StringBuilder();
    write(sb, node);
    return sb.toString();
  }

  private static void write(StringBuilder sb, JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      sb.append("null");
    } else if (node.isObject()) {
      List<String> names = new ArrayList<>();
      Iterator<String> it = node.fieldNames();
      while (it.hasNext()) {
        names.add(it.next());
      }
      Collections.sort(names);
      sb.append('{');
      for (int i = 0; i < names.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        writeString(sb, names.get(i));
        sb.append(':');
        write(sb, node.get(names.get(i)));
      }
      sb.append('}');
    } else if (node.isArray()) {
      sb.append('[');
      for (int i = 0; i < node.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        write(sb, node.get(i));
      }
      sb.append(']');
    } else if (node.isNumber()) {
      BigDecimal d = node.decimalValue();
      sb.append(d.signum() == 0 ? "0" : d.stripTrailingZeros().toString());
    } else if (node.isBoolean()) {
      sb.append(node.booleanValue());
    } else {
      writeString(sb, node.asText());
    }
  }

  private static void writeString(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    sb.append('"');
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
