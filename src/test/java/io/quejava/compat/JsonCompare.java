package io.quejava.compat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeSet;

/**
 * Compares job args as JSON values: numbers by value (BigDecimal/BigInteger, so 1.10 equals 1.1 and
 * integers beyond 2^53 stay exact), object keys in any order, everything else exactly.
 */
final class JsonCompare {
  static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  /** How strictly the args must survive the trip. */
  enum Mode {
    /** Byte for byte (both ends keep the stored text: que-java, que-go). */
    EXACT_TEXT,
    /** Same JSON value; decimals by exact value. */
    VALUE,
    /**
     * Same JSON value, but non-integral numbers only to double precision: Ruby Que 0.x parses args
     * with JSON.parse (Float) and writes them back with JSON.dump.
     */
    VALUE_FLOATS_AS_DOUBLE
  }

  private JsonCompare() {}

  static JsonNode parse(String json) {
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new AssertionError("not JSON: " + e.getOriginalMessage() + ": " + shorten(json), e);
    }
  }

  /** Throws an AssertionError naming the first difference. */
  static void assertSame(String what, String expected, String actual, Mode mode) {
    if (actual == null) {
      throw new AssertionError(what + ": args are missing (null)");
    }
    if (mode == Mode.EXACT_TEXT && !expected.equals(actual)) {
      int i = 0;
      while (i < expected.length() && i < actual.length() && expected.charAt(i) == actual.charAt(i)) {
        i++;
      }
      throw new AssertionError(what + ": args text differs at char " + i + " (expected length "
          + expected.length() + ", actual " + actual.length() + "): expected ..."
          + shorten(expected.substring(Math.max(0, i - 20))) + " but was ..."
          + shorten(actual.substring(Math.max(0, i - 20))));
    }
    String diff = diff("$", parse(expected), parse(actual), mode);
    if (diff != null) {
      throw new AssertionError(what + ": " + diff);
    }
  }

  /** The first difference as text, or null. */
  static String diff(String path, JsonNode e, JsonNode a, Mode mode) {
    if (e.isNumber() && a.isNumber()) {
      boolean floating = e.isFloatingPointNumber() || a.isFloatingPointNumber();
      if (mode == Mode.VALUE_FLOATS_AS_DOUBLE && floating) {
        if (Double.compare(e.decimalValue().doubleValue(), a.decimalValue().doubleValue()) != 0) {
          return path + ": expected " + e + " (as a double " + e.decimalValue().doubleValue() + ") but was " + a;
        }
        return null;
      }
      if (e.decimalValue().compareTo(a.decimalValue()) != 0) {
        return path + ": expected the number " + e + " but was " + a;
      }
      return null;
    }
    if (e.getNodeType() != a.getNodeType()) {
      return path + ": expected " + e.getNodeType() + " " + shorten(e.toString()) + " but was "
          + a.getNodeType() + " " + shorten(a.toString());
    }
    if (e.isArray()) {
      if (e.size() != a.size()) {
        return path + ": expected " + e.size() + " elements but was " + a.size() + ": " + shorten(a.toString());
      }
      for (int i = 0; i < e.size(); i++) {
        String d = diff(path + "[" + i + "]", e.get(i), a.get(i), mode);
        if (d != null) {
          return d;
        }
      }
      return null;
    }
    if (e.isObject()) {
      TreeSet<String> ek = new TreeSet<>();
      e.fieldNames().forEachRemaining(ek::add);
      TreeSet<String> ak = new TreeSet<>();
      a.fieldNames().forEachRemaining(ak::add);
      if (!ek.equals(ak)) {
        return path + ": expected keys " + ek + " but was " + ak;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = e.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        String d = diff(path + "." + f.getKey(), f.getValue(), a.get(f.getKey()), mode);
        if (d != null) {
          return d;
        }
      }
      return null;
    }
    if (e.isTextual()) {
      String es = e.textValue();
      String as = a.textValue();
      if (es.equals(as)) {
        return null;
      }
      int i = 0;
      while (i < es.length() && i < as.length() && es.charAt(i) == as.charAt(i)) {
        i++;
      }
      return path + ": strings differ at char " + i + " (lengths " + es.length() + " and " + as.length()
          + "): expected " + shorten(es.substring(i)) + " but was " + shorten(as.substring(i));
    }
    return e.equals(a) ? null : path + ": expected " + e + " but was " + a;
  }

  static String shorten(String s) {
    return s.length() <= 160 ? s : s.substring(0, 160) + "...(" + s.length() + " chars)";
  }
}
