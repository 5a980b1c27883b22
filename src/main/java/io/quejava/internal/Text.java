package io.quejava.internal;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Text that goes into the database: NUL stripped, lengths counted in code points as PostgreSQL does. */
public final class Text {
  private Text() {}

  private static final java.time.format.DateTimeFormatter PG_TIMESTAMP =
      java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSxxx");

  /**
   * A timestamptz as PostgreSQL reads it back exactly: microseconds and offset, years before 1 as
   * "BC" (PostgreSQL has no year 0: proleptic year 0 is 1 BC), and the driver's MAX/MIN for
   * ±infinity.
   */
  public static String pgTimestamp(java.time.OffsetDateTime t) {
    if (t.equals(java.time.OffsetDateTime.MAX)) {
      return "infinity";
    }
    if (t.equals(java.time.OffsetDateTime.MIN)) {
      return "-infinity";
    }
    String s = PG_TIMESTAMP.format(t); // yyyy is the year of era
    return t.getYear() <= 0 ? s + " BC" : s;
  }

  /**
   * Refuses a string holding a UTF-16 surrogate without its pair: it has no UTF-8 form, so the
   * driver would store it as {@code ?} (or the server refuse its JSON escape), and the stored value
   * would differ from the one given.
   *
   * @throws IllegalArgumentException naming {@code field}, the code unit and its position
   */
  public static void requireWellFormed(String field, String s) {
    int bad = unpairedSurrogate(s);
    if (bad >= 0) {
      throw new IllegalArgumentException(String.format(
          "%s: contains an unpaired UTF-16 surrogate (U+%04X at index %d), which has no UTF-8 form and cannot be stored",
          field, (int) s.charAt(bad), bad));
    }
  }

  /** The index of the first surrogate without its pair, or -1. */
  public static int unpairedSurrogate(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return i;
        }
      } else if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  /** {@code s} with every unpaired surrogate replaced by U+FFFD (for error texts, which are never refused). */
  public static String replaceUnpairedSurrogates(String s) {
    int bad = unpairedSurrogate(s);
    if (bad < 0) {
      return s;
    }
    StringBuilder b = new StringBuilder(s);
    while (bad >= 0) {
      b.setCharAt(bad, '\uFFFD');
      bad = unpairedSurrogate(b.toString());
    }
    return b.toString();
  }

  /**
   * {@code s} as PostgreSQL can store it: NUL removed and unpaired surrogates replaced by U+FFFD
   * (for texts that are recorded, never refused: error messages, worker names).
   */
  public static String stripNul(String s) {
    String t = s.indexOf('\0') < 0 ? s : s.replace("\0", "");
    return replaceUnpairedSurrogates(t);
  }

  /** The first {@code max} code points of {@code s} (PostgreSQL's char_length counts code points). */
  public static String truncate(String s, int max) {
    if (s.length() <= max) {
      return s;
    }
    if (s.codePointCount(0, s.length()) <= max) {
      return s;
    }
    return s.substring(0, s.offsetByCodePoints(0, max));
  }

  /**
   * Que 0.14's last_error: {@code "<class>: <message>"} (no {@code ": "} when the message is blank),
   * cut to 500 characters, then a newline and the stack trace; NUL removed.
   */
  public static String classicLastError(Throwable t) {
    String message = t.getMessage();
    String head = t.getClass().getName();
    if (message != null && !message.isBlank()) {
      head = head + ": " + message;
    }
    return stripNul(truncate(head, 500) + "\n" + stackTrace(t));
  }

  /** The stack trace as printed by the JVM, without its first line (the exception itself). */
  public static String stackTrace(Throwable t) {
    StringWriter out = new StringWriter();
    t.printStackTrace(new PrintWriter(out));
    String full = out.toString();
    int headerEnd = full.indexOf("\n\tat ");
    String frames = headerEnd >= 0 ? full.substring(headerEnd + 1) : "";
    StringBuilder b = new StringBuilder(frames.length());
    for (String line : frames.split("\\R")) {
      if (b.length() > 0) {
        b.append('\n');
      }
      b.append(line.startsWith("\t") ? line.substring(1) : line);
    }
    return b.toString();
  }

  /**
   * {@code s} in double quotes with {@code "}, {@code \} and control characters escaped, printable
   * Unicode kept: the text que-go's {@code %q} writes into {@code unknown job type: "..."}.
   */
  public static String goQuote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    s.codePoints().forEach(cp -> {
      switch (cp) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        case '\r' -> b.append("\\r");
        default -> {
          if (Character.isISOControl(cp)) {
            b.append(cp < 0x80 ? String.format("\\x%02x", cp) : String.format("\\u%04x", cp));
          } else {
            b.appendCodePoint(cp);
          }
        }
      }
    });
    return b.append('"').toString();
  }
}
