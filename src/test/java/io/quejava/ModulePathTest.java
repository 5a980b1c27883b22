package io.quejava;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quejava.ext.ExtensionMigrator;
import io.quejava.ext.schedule.Schedule;
import io.quejava.testing.TestDatabase;
import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleReader;
import java.lang.module.ResolvedModule;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * que-java as a named module: module-info.java is what a modular application gets. Runs in the
 * surefire execution {@code module-path} (src/pom.xml), which puts the core and its dependencies on
 * the module path and sets {@code que.test.modulePath}; the class-path run skips it. The rest of the
 * suite runs on the class path; the paths here (SQL read from inside the module, Jackson, slf4j,
 * pgjdbc, the optional cron-utils) are the ones the module boundary can break.
 */
class ModulePathTest {
  private static final Module CORE = Client.class.getModule();

  @BeforeAll
  static void onTheModulePath() {
    assumeTrue(Boolean.getBoolean("que.test.modulePath"), "runs in the module-path execution only");
    assertTrue(CORE.isNamed(), "io.quejava was loaded from the class path: " + CORE);
    assertEquals("io.quejava", CORE.getName());
  }

  /**
   * Every type the exported API names (parameters, results, exceptions, fields, supertypes, type
   * arguments and bounds) comes from a module that an application requiring io.quejava reads: this
   * one, java.base, or one reached through {@code requires transitive}. Otherwise the application
   * would have to require, say, Jackson itself just to call {@link Job#args()}.
   */
  @Test
  void everyTypeInTheExportedApiIsReadableByAnApplicationThatRequiresOnlyIoQuejava() throws IOException {
    Set<String> readable = readableThroughRequiresTransitive(CORE);
    Set<String> problems = new TreeSet<>();
    int checked = 0;
    for (Class<?> type : exportedPublicTypes(CORE)) {
      checked++;
      for (Map.Entry<String, Type> use : apiTypes(type)) {
        for (Class<?> named : classesIn(use.getValue())) {
          Module m = named.getModule();
          if (m.isNamed() && m.getName().equals(OPTIONAL_API.get(type.getPackageName()))) {
            continue;
          }
          if (!m.isNamed() || !readable.contains(m.getName())) {
            problems.add(use.getKey() + " names " + named.getName() + " from " + (m.isNamed() ? m.getName() : "the class path"));
          }
        }
      }
    }
    assertTrue(checked > 20, "found only " + checked + " exported types");
    assertEquals(List.of(), List.copyOf(problems), "types an application requiring only io.quejava cannot read; "
        + "io.quejava needs `requires transitive` for their modules (readable: " + readable + ")");
  }

  /**
   * Exported packages that are an optional integration, and the module ({@code requires static})
   * their API names: an application that uses the package requires that module itself.
   */
  private static final Map<String, String> OPTIONAL_API = Map.of("io.quejava.metrics", "micrometer.core");

  /** The core's runtime dependencies, and nothing else, are required; cron-utils and Micrometer only statically. */
  @Test
  void moduleRequiresExactlyTheRuntimeDependencies() {
    ModuleDescriptor d = CORE.getDescriptor();
    Set<String> required = new TreeSet<>();
    for (ModuleDescriptor.Requires r : d.requires()) {
      String mods = r.modifiers().stream().filter(m -> m != ModuleDescriptor.Requires.Modifier.MANDATED)
          .map(m -> m.name().toLowerCase(java.util.Locale.ROOT)).sorted().reduce("", (a, b) -> a + b + " ");
      required.add(mods + r.name());
    }
    assertEquals(new TreeSet<>(List.of("java.base", "transitive java.sql", "org.postgresql.jdbc",
        "transitive com.fasterxml.jackson.databind", "transitive org.slf4j", "static com.cronutils",
        "static micrometer.core")), required);
    assertTrue(d.packages().contains("io.quejava.internal") && !CORE.isExported("io.quejava.internal"),
        "io.quejava.internal stays inside the module");
  }

  /**
   * Migrate (the SQL is read from inside the module), enqueue with args Jackson writes, work the
   * job and read its args back, log through the job's logger: the paths a modular application
   * takes, on a real database.
   */
  @Test
  void migrateEnqueueAndWorkAJob() throws Exception {
    DataSource ds = TestDatabase.newSchema("modpath");
    assertEquals(3, Migrator.create(ds).migrate());
    Client client = Client.create(ds);
    Job queued = client.enqueue(NewJob.of("ModuleJob", 42L, Map.of("tags", List.of("a", "b"))).queue("mp"));
    AtomicReference<String> seen = new AtomicReference<>();
    Worker worker = new Worker(client, WorkMap.of("ModuleJob", job -> {
      job.context().logger().info("running on the module path");
      seen.set(job.job().arg(0, Long.class) + " " + job.job().args().get(1).get("tags").get(1).asText());
    }), WorkerConfig.custom().queue("mp").build());
    assertTrue(worker.workOne());
    assertEquals("42 b", seen.get());
    assertEquals(0L, ((Number) one(ds, "SELECT count(*) FROM que_jobs WHERE job_id = " + queued.id())).longValue());
  }

  /** Each extension's SQL, like the core's, is read from inside the module. */
  @Test
  void everyExtensionMigratesUpAndDown() {
    DataSource ds = TestDatabase.newSchema("modpath_ext");
    Migrator.create(ds).migrate();
    for (String extension : List.of("deadletter", "heartbeat", "notify", "schedule", "timeout")) {
      ExtensionMigrator m = ExtensionMigrator.create(ds, extension);
      int newest = m.newestVersion();
      assertTrue(newest >= 1, extension);
      assertEquals(newest, m.migrate(), extension);
      assertEquals(0, m.migrateTo(0), extension);
      assertEquals(newest, m.migrate(), extension);
    }
  }

  /**
   * cron-utils is {@code requires static}: with it in the module graph (surefire resolves the whole
   * module path, as an application's {@code requires com.cronutils} would) cron schedules work.
   */
  @Test
  void cronSchedulesWorkWhenTheApplicationAddsCronUtils() {
    assertTrue(ModuleLayer.boot().findModule("com.cronutils").isPresent(), "com.cronutils is not in the module graph");
    assertTrue(CORE.canRead(ModuleLayer.boot().findModule("com.cronutils").orElseThrow()));
    assertDoesNotThrow(() -> Schedule.cron("hourly", "0 * * * *", ZoneOffset.UTC, "Tick"));
  }

  /**
   * micrometer-core is {@code requires static} too: with it in the module graph the meters bind and
   * count a real job.
   */
  @Test
  void metricsWorkWhenTheApplicationAddsMicrometer() {
    assertTrue(CORE.canRead(ModuleLayer.boot().findModule("micrometer.core").orElseThrow()));
    DataSource ds = TestDatabase.newSchema("modpath_metrics");
    Migrator.create(ds).migrate();
    io.micrometer.core.instrument.MeterRegistry registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    io.quejava.metrics.QueMetrics metrics = io.quejava.metrics.QueMetrics.create(registry);
    Client client = metrics.bind(Client.builder(ds)).build();
    client.enqueue("MeteredJob");
    assertTrue(new Worker(client, WorkMap.of("MeteredJob", job -> { }),
        WorkerConfig.custom().listener(metrics.jobListener()).build()).workOne());
    assertEquals(1.0, registry.get("que.job.enqueued").counter().count());
    assertEquals(1.0, registry.get("que.job.attempts").tag("outcome", "succeeded").counter().count());
  }

  private static Object one(DataSource ds, String sql) throws Exception {
    try (var c = ds.getConnection(); var s = c.createStatement(); var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getObject(1);
    }
  }

  /** java.base, the module itself, and what its {@code requires transitive} edges reach, recursively. */
  private static Set<String> readableThroughRequiresTransitive(Module module) {
    Set<String> readable = new HashSet<>(Set.of("java.base", module.getName()));
    Deque<ModuleDescriptor> todo = new ArrayDeque<>(List.of(module.getDescriptor()));
    while (!todo.isEmpty()) {
      for (ModuleDescriptor.Requires r : todo.pop().requires()) {
        if (r.modifiers().contains(ModuleDescriptor.Requires.Modifier.TRANSITIVE) && readable.add(r.name())) {
          ModuleLayer.boot().findModule(r.name()).ifPresent(m -> todo.push(m.getDescriptor()));
        }
      }
    }
    return readable;
  }

  /** The public (and publicly nested) classes of the module's exported packages. */
  private static List<Class<?>> exportedPublicTypes(Module module) throws IOException {
    ResolvedModule resolved = ModuleLayer.boot().configuration().findModule(module.getName()).orElseThrow();
    List<Class<?>> types = new ArrayList<>();
    try (ModuleReader reader = resolved.reference().open(); Stream<String> names = reader.list()) {
      for (String name : (Iterable<String>) names::iterator) {
        if (!name.endsWith(".class") || name.equals("module-info.class")) {
          continue;
        }
        String className = name.substring(0, name.length() - ".class".length()).replace('/', '.');
        String pkg = className.substring(0, className.lastIndexOf('.'));
        if (!module.isExported(pkg)) {
          continue;
        }
        Class<?> c;
        try {
          c = Class.forName(className, false, module.getClassLoader());
        } catch (ClassNotFoundException e) {
          throw new AssertionError(e);
        }
        if (c.getModule() == module && isApi(c)) {
          types.add(c);
        }
      }
    }
    return types;
  }

  private static boolean isApi(Class<?> c) {
    for (Class<?> k = c; k != null; k = k.getDeclaringClass()) {
      if (!Modifier.isPublic(k.getModifiers()) || k.isSynthetic() || k.isAnonymousClass() || k.isLocalClass()) {
        return false;
      }
    }
    return true;
  }

  /** What a type's API names, each with a label for the failure message. */
  private static List<Map.Entry<String, Type>> apiTypes(Class<?> c) {
    List<Map.Entry<String, Type>> uses = new ArrayList<>();
    String n = c.getName();
    if (c.getGenericSuperclass() != null) {
      uses.add(Map.entry(n + " extends", c.getGenericSuperclass()));
    }
    for (Type i : c.getGenericInterfaces()) {
      uses.add(Map.entry(n + " implements", i));
    }
    for (TypeVariable<?> v : c.getTypeParameters()) {
      for (Type b : v.getBounds()) {
        uses.add(Map.entry(n + "<" + v.getName() + ">", b));
      }
    }
    boolean extensible = !Modifier.isFinal(c.getModifiers());
    for (Field f : c.getDeclaredFields()) {
      if (visible(f, extensible)) {
        uses.add(Map.entry(n + "." + f.getName(), f.getGenericType()));
      }
    }
    List<Executable> executables = new ArrayList<>(List.of(c.getDeclaredMethods()));
    executables.addAll(List.<Constructor<?>>of(c.getDeclaredConstructors()));
    for (Executable e : executables) {
      if (!visible(e, extensible) || (e instanceof Method m && m.isBridge())) {
        continue;
      }
      String label = n + "." + (e instanceof Constructor ? "<init>" : e.getName()) + "(...)";
      if (e instanceof Method m) {
        uses.add(Map.entry(label + " returns", m.getGenericReturnType()));
      }
      for (Type p : e.getGenericParameterTypes()) {
        uses.add(Map.entry(label + " takes", p));
      }
      for (Type x : e.getGenericExceptionTypes()) {
        uses.add(Map.entry(label + " throws", x));
      }
      for (TypeVariable<?> v : e.getTypeParameters()) {
        for (Type b : v.getBounds()) {
          uses.add(Map.entry(label + " <" + v.getName() + ">", b));
        }
      }
    }
    return uses;
  }

  private static boolean visible(Member m, boolean extensible) {
    int mod = m.getModifiers();
    return !m.isSynthetic() && (Modifier.isPublic(mod) || (extensible && Modifier.isProtected(mod)));
  }

  /** The classes a (generic) type mentions. */
  private static Set<Class<?>> classesIn(Type t) {
    Set<Class<?>> out = new HashSet<>();
    collect(t, out, new HashSet<>());
    return out;
  }

  private static void collect(Type t, Set<Class<?>> out, Set<TypeVariable<?>> seen) {
    if (t instanceof Class<?> c) {
      while (c.isArray()) {
        c = c.getComponentType();
      }
      if (!c.isPrimitive()) {
        out.add(c);
      }
    } else if (t instanceof ParameterizedType p) {
      collect(p.getRawType(), out, seen);
      if (p.getOwnerType() != null) {
        collect(p.getOwnerType(), out, seen);
      }
      for (Type a : p.getActualTypeArguments()) {
        collect(a, out, seen);
      }
    } else if (t instanceof WildcardType w) {
      for (Type b : w.getUpperBounds()) {
        collect(b, out, seen);
      }
      for (Type b : w.getLowerBounds()) {
        collect(b, out, seen);
      }
    } else if (t instanceof GenericArrayType g) {
      collect(g.getGenericComponentType(), out, seen);
    } else if (t instanceof TypeVariable<?> v && seen.add(v)) {
      for (Type b : v.getBounds()) {
        collect(b, out, seen);
      }
    }
  }
}
