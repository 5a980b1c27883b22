package io.quejava.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Durations on the command line: 500ms, 30s, 5m, 2h, 7d, or ISO-8601 (PT1M30S). */
final class Durations implements CommandLine.ITypeConverter<Duration> {
  private static final Pattern SHORT = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  static Duration parse(String s) {
    Matcher m = SHORT.matcher(s.trim());
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    }
    try {
      return Duration.parse(s.trim());
    } catch (DateTimeParseException e) {
      throw new CommandLine.TypeConversionException("'" + Text.safe(s) + "' is not a duration (500ms, 30s, 5m, 2h, 7d or PT1M)");
    }
  }

  @Override
  public Duration convert(String value) {
    return parse(value);
  }
}
