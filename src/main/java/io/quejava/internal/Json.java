package io.quejava.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.List;

/**
 * JSON for job args. One shared mapper; numbers are read as {@code BigDecimal}/{@code BigInteger}
 * when they do not fit a double/long, so integers beyond 2^53 and decimals written by Ruby or Go
 * come back exactly.
 */
public final class Json {
  private static final ObjectMapper DEFAULT = newDefaultMapper();

  private static final JsonFactory FACTORY = DEFAULT.getFactory();

  /**
   * A new mapper with que-java's defaults: numbers that do not fit a double or a long read as
   * {@code BigDecimal}/{@code BigInteger}, so integers beyond 2^53 and decimals written by Ruby or Go
   * come back exactly; trailing tokens refused.
   */
  public static ObjectMapper newDefaultMapper() {
    return JsonMapper.builder()
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
        .build();
  }

  /** The mapper of clients that were given none. Never handed out to users (it stays as built). */
  public static ObjectMapper defaultMapper() {
    return DEFAULT;
  }

  private Json() {}

  /**
   * Checks that {@code json} is exactly one well-formed JSON array with no NUL character in any
   * string or key (PostgreSQL cannot store them and Ruby would receive them); streams, so a large
   * array is not built as a tree.
   *
   * @throws IllegalArgumentException naming {@code field} and the problem
   */
  public static void requireArray(String field, String json) {
    require(field, json, JsonToken.START_ARRAY, "array");
  }

  /** As {@link #requireArray}, for exactly one JSON object (kwargs). */
  public static void requireObject(String field, String json) {
    require(field, json, JsonToken.START_OBJECT, "object");
  }

  /** Serialises a Java value (the args list, a kwargs map) as JSON with {@code mapper}. */
  public static String write(ObjectMapper mapper, String field, Object value) {
    try {
      return mapper.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(field + ": cannot be written as JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static void require(String field, String json, JsonToken start, String kind) {
    if (json == null) {
      throw new IllegalArgumentException(field + ": must not be null");
    }
    try (JsonParser p = FACTORY.createParser(json)) {
      JsonToken first = p.nextToken();
      if (first != start) {
        throw new IllegalArgumentException(
            field + ": must be a JSON " + kind + ", got " + (first == null ? "nothing" : describe(first)));
      }
      int depth = 1;
      while (depth > 0) {
        JsonToken t = p.nextToken();
        if (t == null) {
          throw new IllegalArgumentException(field + ": invalid JSON: unexpected end of input");
        }
        switch (t) {
          case START_ARRAY, START_OBJECT -> depth++;
          case END_ARRAY, END_OBJECT -> depth--;
          case FIELD_NAME, VALUE_STRING -> {
            String text = p.getText();
            if (text.indexOf('\0') >= 0) {
              throw new IllegalArgumentException(
                  field + ": contains a NUL character (\\u0000), which PostgreSQL cannot store");
            }
            Text.requireWellFormed(field, text);
          }
          default -> {}
        }
      }
      JsonToken trailing = p.nextToken();
      if (trailing != null) {
        throw new IllegalArgumentException(field + ": invalid JSON: trailing content after the " + kind);
      }
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(field + ": invalid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException(field + ": cannot be read: " + e.getMessage(), e);
    }
  }

  public static JsonNode parse(String json) {
    return parse(DEFAULT, json);
  }

  /** Reads stored JSON with {@code mapper}. */
  public static JsonNode parse(ObjectMapper mapper, String json) {
    try {
      return mapper.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored JSON cannot be parsed: " + e.getOriginalMessage(), e);
    }
  }

  private static String describe(JsonToken t) {
    return switch (t) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> t.toString();
    };
  }
}
