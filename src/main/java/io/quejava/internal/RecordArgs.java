package io.quejava.internal;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quejava.JobArgs;
import io.quejava.JobArgsException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records to and from Que's args and kwargs, both ways, with the application's Jackson mapper for
 * each component's value. The shape is Que's, not Jackson's: a positional record is the args array
 * itself ({@code [1042, "EUR"]}); an {@link JobArgs.Shape#OBJECT} record is one hash in it, keyed in
 * snake_case unless told otherwise. Component types may be anything the mapper reads and writes
 * ({@code java.time} values when the mapper has the module).
 *
 * <p>Binding errors name the job class, the record and the component, since they end up as a
 * job's {@code last_error} where an operator reads them.
 */
public final class RecordArgs {
  private RecordArgs() {}

  /** What one record type needs for binding, computed once per type. */
  private record Shape(Class<?> type, RecordComponent[] components, String[] keys, Constructor<?> constructor,
      JobArgs.Shape shape) {}

  private static final Map<Class<?>, Shape> SHAPES = new ConcurrentHashMap<>();

  private static Shape shape(Class<?> type) {
    return SHAPES.computeIfAbsent(type, RecordArgs::inspect);
  }

  private static Shape inspect(Class<?> type) {
    if (!type.isRecord()) {
      throw new JobArgsException("args type " + type.getName() + " is not a record");
    }
    RecordComponent[] components = type.getRecordComponents();
    JobArgs spec = type.getAnnotation(JobArgs.class);
    JobArgs.Naming naming = spec == null ? JobArgs.Naming.SNAKE_CASE : spec.naming();
    String[] keys = new String[components.length];
    for (int i = 0; i < components.length; i++) {
      keys[i] = naming == JobArgs.Naming.SNAKE_CASE ? snakeCase(components[i].getName()) : components[i].getName();
    }
    Class<?>[] types = Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
    Constructor<?> constructor;
    try {
      constructor = type.getDeclaredConstructor(types);
      constructor.trySetAccessible(); // a public record in an exported package needs nothing more
    } catch (NoSuchMethodException | RuntimeException e) {
      throw new JobArgsException("args type " + type.getName() + ": its canonical constructor cannot be used: " + e, e);
    }
    return new Shape(type, components, keys, constructor, spec == null ? JobArgs.Shape.POSITIONAL : spec.shape());
  }

  /** {@code orderId} to {@code order_id}; {@code httpURL} to {@code http_url}; {@code a1b} stays. */
  public static String snakeCase(String name) {
    StringBuilder b = new StringBuilder(name.length() + 4);
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isUpperCase(c)) {
        boolean prevLower = i > 0 && !Character.isUpperCase(name.charAt(i - 1)) && name.charAt(i - 1) != '_';
        boolean nextLower = i + 1 < name.length() && Character.isLowerCase(name.charAt(i + 1));
        boolean prevUpper = i > 0 && Character.isUpperCase(name.charAt(i - 1));
        if (i > 0 && (prevLower || (prevUpper && nextLower))) {
          b.append('_');
        }
        b.append(Character.toLowerCase(c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** The args array for this record: positional, or one object. */
  public static String toArgsJson(ObjectMapper mapper, Record args) {
    Shape s = shape(args.getClass());
    ArrayNode out = mapper.createArrayNode();
    if (s.shape() == JobArgs.Shape.OBJECT) {
      out.add(toObject(mapper, s, args, "args"));
    } else {
      for (int i = 0; i < s.components().length; i++) {
        out.add(valueTree(mapper, s, args, i, "args"));
      }
    }
    return write(mapper, out, "args");
  }

  /** The kwargs object for this record (keys by its naming). */
  public static String toKwargsJson(ObjectMapper mapper, Record kwargs) {
    Shape s = shape(kwargs.getClass());
    return write(mapper, toObject(mapper, s, kwargs, "kwargs"), "kwargs");
  }

  private static ObjectNode toObject(ObjectMapper mapper, Shape s, Record value, String field) {
    ObjectNode o = mapper.createObjectNode();
    for (int i = 0; i < s.components().length; i++) {
      o.set(s.keys()[i], valueTree(mapper, s, value, i, field));
    }
    return o;
  }

  private static JsonNode valueTree(ObjectMapper mapper, Shape s, Record value, int i, String field) {
    RecordComponent c = s.components()[i];
    Object v;
    try {
      var accessor = c.getAccessor();
      accessor.trySetAccessible();
      v = accessor.invoke(value);
    } catch (IllegalAccessException | InvocationTargetException | RuntimeException e) {
      throw new JobArgsException(field + ": " + s.type().getSimpleName() + "." + c.getName() + " cannot be read: " + e, e);
    }
    try {
      return mapper.valueToTree(v);
    } catch (IllegalArgumentException e) {
      throw new JobArgsException(field + ": " + s.type().getSimpleName() + "." + c.getName()
          + " cannot be written as JSON: " + rootMessage(e), e);
    }
  }

  private static String write(ObjectMapper mapper, JsonNode node, String field) {
    try {
      return mapper.writeValueAsString(node);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new JobArgsException(field + ": cannot be written as JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** Binds a job's args (a JSON array) to {@code type}. */
  public static <T> T fromArgs(ObjectMapper mapper, String jobClass, JsonNode args, Class<T> type) {
    Shape s = shape(type);
    String where = "args of " + jobClass + " do not bind to " + type.getSimpleName();
    if (args == null || !args.isArray()) {
      throw new JobArgsException(where + ": the args are not a JSON array");
    }
    if (s.shape() == JobArgs.Shape.OBJECT) {
      if (args.size() != 1 || !args.get(0).isObject()) {
        throw new JobArgsException(where + ": expected one object, [{" + String.join(", ", quoted(s.keys()))
            + "}], got " + describeArity(args));
      }
      return fromObject(mapper, s, args.get(0), where, type);
    }
    int n = s.components().length;
    if (args.size() != n) {
      throw new JobArgsException(where + ": it takes " + n + " args (" + String.join(", ", names(s)) + "), got "
          + args.size());
    }
    Object[] values = new Object[n];
    for (int i = 0; i < n; i++) {
      values[i] = bindValue(mapper, s, i, args.get(i), where, "arg " + i + " (" + s.components()[i].getName() + ")");
    }
    return construct(s, values, where, type);
  }

  /** Binds a job's kwargs (a JSON object) to {@code type}, by the record's key naming. */
  public static <T> T fromKwargs(ObjectMapper mapper, String jobClass, JsonNode kwargs, Class<T> type) {
    Shape s = shape(type);
    String where = "kwargs of " + jobClass + " do not bind to " + type.getSimpleName();
    if (kwargs == null || !kwargs.isObject()) {
      throw new JobArgsException(where + ": the kwargs are not a JSON object");
    }
    return fromObject(mapper, s, kwargs, where, type);
  }

  private static <T> T fromObject(ObjectMapper mapper, Shape s, JsonNode object, String where, Class<T> type) {
    Object[] values = new Object[s.components().length];
    for (int i = 0; i < values.length; i++) {
      String key = s.keys()[i];
      JsonNode node = object.get(key);
      RecordComponent c = s.components()[i];
      if (node == null) {
        if (c.getType().isPrimitive()) {
          throw new JobArgsException(where + ": key \"" + key + "\" (" + c.getName() + ") is missing");
        }
        values[i] = null;
        continue;
      }
      values[i] = bindValue(mapper, s, i, node, where, "key \"" + key + "\" (" + c.getName() + ")");
    }
    return construct(s, values, where, type);
  }

  private static Object bindValue(ObjectMapper mapper, Shape s, int i, JsonNode node, String where, String what) {
    RecordComponent c = s.components()[i];
    if (node.isNull() && c.getType().isPrimitive()) {
      throw new JobArgsException(where + ": " + what + " is null, which a " + c.getType().getName() + " cannot hold");
    }
    JavaType t = mapper.getTypeFactory().constructType(c.getGenericType());
    try {
      return mapper.treeToValue(node, t);
    } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
      throw new JobArgsException(where + ": " + what + ": cannot read " + abbreviate(node.toString()) + " as "
          + t.toCanonical() + ": " + rootMessage(e), e);
    }
  }

  private static <T> T construct(Shape s, Object[] values, String where, Class<T> type) {
    try {
      return type.cast(s.constructor().newInstance(values));
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      throw new JobArgsException(where + ": its constructor refused the values: " + cause, cause);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new JobArgsException(where + ": " + e, e);
    }
  }

  private static String[] names(Shape s) {
    return Arrays.stream(s.components()).map(RecordComponent::getName).toArray(String[]::new);
  }

  private static String[] quoted(String[] keys) {
    return Arrays.stream(keys).map(k -> "\"" + k + "\": ...").toArray(String[]::new);
  }

  private static String describeArity(JsonNode args) {
    return args.size() == 1 ? "one " + args.get(0).getNodeType().name().toLowerCase() : args.size() + " args";
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  private static String rootMessage(Throwable e) {
    String m = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    if (m == null) {
      return e.getClass().getSimpleName();
    }
    int nl = m.indexOf('\n');
    return nl > 0 ? m.substring(0, nl) : m;
  }
}
