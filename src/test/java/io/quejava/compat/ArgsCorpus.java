package io.quejava.compat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The job args the fidelity scenarios send across languages. */
final class ArgsCorpus {
  private ArgsCorpus() {}

  /**
   * Hand-written JSON, so that the number spellings are ours: Unicode (accents, CJK, emoji with ZWJ
   * and flags, Hebrew and Arabic with direction marks), integers around and beyond 2^53 and 2^64,
   * decimals (one beyond double precision), nested objects and arrays, null, empty containers,
   * escapes.
   */
  static final String VALUES = "["
      + "\"café naïve Ünïcödé ß ñ Ωμέγα Привет\","
      + "\"日本語のテキスト 中文 한국어\","
      + "\"emoji 😀🎉 👩‍👩‍👧‍👦 🇯🇵 🏳️‍🌈\","
      + "\"עברית \u200fمرحبا بالعالم\u200e end\","
      + "9007199254740993,"
      + "-9007199254740993,"
      + "9223372036854775807,"
      + "18446744073709551616,"
      + "123456789012345678901234567890,"
      + "3.14159,"
      + "0.1,"
      + "-2.5e-10,"
      + "6.02214076E23,"
      + "1e300,"
      + "1.10,"
      + "3.14159265358979323846264338327950288,"
      + "{\"nested\":{\"a\":[1,[2,[3,{\"deep\":null}]]],\"b\":\"x\",\"ключ\":\"значение\",\"emoji 🔑\":[]},\"n\":-0.5},"
      + "null,"
      + "[],"
      + "{},"
      + "true,"
      + "false,"
      + "\"\","
      + "\"quote \\\" backslash \\\\ slash \\/ tab \\t newline \\n ctrl \\u0001\","
      + "\"\\u00e9 escaped \\ud83d\\ude00 surrogates\""
      + "]";

  /** A short Unicode array to pass on the command line (--args). */
  static final String INLINE = "[\"inline ünïcödé 日本 😀 עברית\",9007199254740993,{\"k\":[null,1.5]}]";

  /**
   * Keyword arguments (schema 6-7, Que 2.x's {@code run(*args, **kwargs)}): Unicode keys and values,
   * integers beyond 2^53 and 2^64, decimals, nesting, null, empty containers.
   */
  static final String KWARGS = "{"
      + "\"text\":\"ünï 日本 😀 👩‍👩‍👧‍👦 \u200fעברית\","
      + "\"big\":9007199254740993,"
      + "\"huge\":123456789012345678901234567890,"
      + "\"dec\":1.10,"
      + "\"pi\":3.14159265358979323846264338327950288,"
      + "\"nested\":{\"ключ 🔑\":[1,[2,{\"deep\":null}]],\"empty\":{},\"list\":[]},"
      + "\"flag\":false,"
      + "\"none\":null,"
      + "\"escapes\":\"quote \\\" backslash \\\\ tab \\t \\u00e9\""
      + "}";

  /** Keyword arguments as Java values, written by Jackson through {@code NewJob.kwargs(...)}. */
  static Map<String, Object> javaKwargs() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("when", "2024-01-02T03:04:05.123456Z");
    map.put("amount", new BigDecimal("12345.678901234567890123"));
    map.put("count", Long.MAX_VALUE);
    map.put("ids", List.of(9007199254740993L, new BigInteger("18446744073709551616")));
    map.put("ünï", Arrays.asList("çödé 😀", null, Map.of()));
    return map;
  }

  /** Java values written by Jackson through {@code NewJob.of(...)}. */
  static List<Object> javaValues() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("big", new BigInteger("98765432109876543210987654321"));
    map.put("dec", new BigDecimal("12345.678901234567890123"));
    map.put("list", Arrays.asList(1, "two", null, List.of(), Map.of()));
    map.put("ünï", "çödé 😀");
    List<Object> values = new ArrayList<>();
    values.add("Java → 日本語 😀 عربى");
    values.add(Long.MAX_VALUE);
    values.add(Long.MIN_VALUE);
    values.add(9007199254740993L);
    values.add(0.1d);
    values.add(-1.5e-7d);
    values.add(map);
    values.add(null);
    values.add(List.of());
    values.add(true);
    return values;
  }

  private static volatile String big;

  /** {@code ["<about 1 MB of mixed ASCII and multi-byte characters>"]}. */
  static String bigJson() {
    String b = big;
    if (b == null) {
      String unit = "0123456789 abcdef éàü € 日本 😀 \\\"q\\\" ";
      StringBuilder s = new StringBuilder(1 << 21);
      s.append("[\"");
      int i = 0;
      while (s.length() < (1 << 20)) {
        s.append(unit).append(i++).append(' ');
      }
      s.append("\"]");
      b = s.toString();
      big = b;
    }
    return b;
  }

  /** Writes {@code json} plus a final newline (peers trim it) to a temporary file. */
  static Path file(String json) {
    try {
      Path p = Files.createTempFile("compat-args-", ".json");
      Files.writeString(p, json + "\n", StandardCharsets.UTF_8);
      p.toFile().deleteOnExit();
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
