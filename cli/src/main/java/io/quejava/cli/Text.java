package io.quejava.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Untrusted text on a terminal. Job classes, args, queue names and error texts come from other
 * languages and other teams: a control character (an ANSI escape, a carriage return, a bidi
 * override) could rewrite what the operator sees. Every such code point is shown as a visible
 * escape instead.
 */
final class Text {
  private Text() {}

  /** {@code s} with every control, bidi-control and line/paragraph separator shown as an escape. */
  static String safe(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints().forEach(cp -> {
      if (cp == '\n') {
        b.append("\\n");
      } else if (cp == '\t') {
        b.append("\\t");
      } else if (cp == '\r') {
        b.append("\\r");
      } else if (Character.isISOControl(cp)) {
        b.append(String.format("\\x%02x", cp));
      } else if (isInvisibleControl(cp)) {
        b.append(String.format("\\u%04x", cp));
      } else {
        b.appendCodePoint(cp);
      }
    });
    return b.toString();
  }

  /** Multi-line text (a backtrace): each line made safe, the line breaks kept. */
  static List<String> safeLines(String s) {
    List<String> out = new ArrayList<>();
    if (s == null) {
      return out;
    }
    for (String line : s.split("\r?\n", -1)) {
      out.add(safe(line));
    }
    return out;
  }

  private static boolean isInvisibleControl(int cp) {
    return cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)
        || cp == 0x2028 || cp == 0x2029 || cp == 0x061C || cp == 0xFEFF
        || Character.getType(cp) == Character.FORMAT && cp != 0x200C && cp != 0x200D; // joiners shape scripts and emoji
  }

  /** At most {@code max} code points, an ellipsis marking the cut. */
  static String cut(String s, int max) {
    if (s.codePointCount(0, s.length()) <= max) {
      return s;
    }
    return s.substring(0, s.offsetByCodePoints(0, max - 1)) + "…";
  }

  /** A text table: headers, rows (already safe), numbers right-aligned. */
  static String table(List<String> headers, List<List<String>> rows, int maxWidth) {
    int n = headers.size();
    int[] w = new int[n];
    boolean[] numeric = new boolean[n];
    for (int i = 0; i < n; i++) {
      w[i] = headers.get(i).length();
      numeric[i] = !rows.isEmpty();
    }
    List<List<String>> cut = new ArrayList<>();
    for (List<String> r : rows) {
      List<String> c = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String v = cut(r.get(i), maxWidth);
        c.add(v);
        w[i] = Math.max(w[i], v.codePointCount(0, v.length()));
        if (!v.isEmpty() && !v.matches("~?[0-9][0-9a-z,.]*")) {
          numeric[i] = false;
        }
      }
      cut.add(c);
    }
    StringBuilder b = new StringBuilder();
    line(b, headers, w, numeric);
    for (List<String> r : cut) {
      line(b, r, w, numeric);
    }
    return b.toString();
  }

  private static void line(StringBuilder b, List<String> cells, int[] w, boolean[] numeric) {
    StringBuilder l = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String v = cells.get(i);
      int pad = w[i] - v.codePointCount(0, v.length());
      if (i > 0) {
        l.append("  ");
      }
      if (numeric[i]) {
        l.append(" ".repeat(pad)).append(v);
      } else {
        l.append(v);
        if (i < cells.size() - 1) {
          l.append(" ".repeat(pad));
        }
      }
    }
    b.append(l.toString().stripTrailing()).append('\n');
  }

  /** A duration as an operator reads it: 850ms, 42s, 3m12s, 5h03m, 2d04h. */
  static String age(java.time.Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + "ms";
    }
    long s = ms / 1000;
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return (s / 60) + "m" + String.format("%02ds", s % 60);
    }
    if (s < 86400) {
      return (s / 3600) + "h" + String.format("%02dm", (s % 3600) / 60);
    }
    return (s / 86400) + "d" + String.format("%02dh", (s % 86400) / 3600);
  }
}
