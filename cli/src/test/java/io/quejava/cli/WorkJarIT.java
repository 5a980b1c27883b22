package io.quejava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.NewJob;
import io.quejava.examples.handlers.ExampleHandlers;
import io.quejava.testing.Await;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code que work} through the built jar: it loads the example application's handler jar (a
 * HandlerProvider found by ServiceLoader), works jobs on two queues, answers its health probes,
 * and stops cleanly on SIGTERM. Schema 3 here, 7 in {@link ModernWorkJarIT}.
 */
class WorkJarIT extends CliTestBase {
  static String handlerJar() throws Exception {
    return Path.of(ExampleHandlers.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }

  @Test
  void worksTheShippedHandlersAnswersProbesAndStopsOnSigterm() throws Exception {
    Client client = Client.create(ds);
    client.enqueue(NewJob.of("SendWelcome", "ada@example.com", "Ada").queue("mail"));
    client.enqueue(NewJob.of("Sum", 1, 2, 3).queue("math"));
    client.enqueue(NewJob.of("Sum", 4).queue("math"));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        jar().toString(), "work", "--queue", "mail", "--queue", "math=2", "--classpath", handlerJar(),
        "--wake-interval", "200ms", "--probe-port", "0", "--shutdown-timeout", "10s", "--heartbeats"));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("QUE_") || k.startsWith("PG") || k.equals("DATABASE_URL"));
    pb.environment().putAll(env());
    Path out = Files.createTempFile("que-work", ".out");
    Path err = Files.createTempFile("que-work", ".err");
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    try {
      Await.until(Duration.ofSeconds(60), "que work to work the 3 jobs", () -> {
        assertTrue(p.isAlive(), () -> "que work died: " + read(err));
        return unchecked(() -> count("SELECT count(*) FROM que_jobs")) == 0;
      });
      Matcher m = Pattern.compile("localhost:(\\d+)/health").matcher(Files.readString(err, StandardCharsets.UTF_8));
      assertTrue(m.find(), Files.readString(err));
      HttpClient http = HttpClient.newHttpClient();
      for (String path : List.of("/health/live", "/health/ready")) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + m.group(1) + path)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path + ": " + r.body());
      }
      // The pools' own figures: every job counted once the last one's outcome is in (polled: the
      // table empties just before the worker counts its job).
      AtomicReference<String> last = new AtomicReference<>("");
      URI statsUri = URI.create("http://localhost:" + m.group(1) + "/stats");
      Await.until(Duration.ofSeconds(30), "/stats to count 3 jobs", () -> {
        HttpResponse<String> r = unchecked(() -> http.send(HttpRequest.newBuilder(statsUri).build(),
            HttpResponse.BodyHandlers.ofString()));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        last.set(r.body());
        return r.body().contains("\"jobs_worked\":3");
      });
      String stats = last.get();
      assertTrue(stats.contains("\"workers\":4") && stats.contains("\"jobs_failed\":0")
          && stats.contains("\"busy_workers\":0") && stats.contains("\"running\":[]"), stats);
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "que work did not stop on SIGTERM");
      String e = Files.readString(err, StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), e);
      assertTrue(e.contains("stopped; worked 3, failed 0"), e);
      assertTrue(e.contains("4 workers on 'mail', 'math' (at most 2)"), e);
    } finally {
      p.destroyForcibly();
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /**
   * {@code --batched-completion}: the pool deletes succeeded jobs in batches, and the table still
   * empties (the last batch is flushed when the walk ends, long before the shutdown).
   */
  @Test
  void worksWithBatchedCompletionAndTheTableEmpties() throws Exception {
    Client client = Client.create(ds);
    for (int i = 0; i < 25; i++) {
      client.enqueue(NewJob.of("Sum", i, 1).queue("math"));
    }
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        jar().toString(), "work", "--queue", "math", "--classpath", handlerJar(), "--workers", "2",
        "--wake-interval", "200ms", "--shutdown-timeout", "10s", "--batched-completion", "10/20ms");
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("QUE_") || k.startsWith("PG") || k.equals("DATABASE_URL"));
    pb.environment().putAll(env());
    Path err = Files.createTempFile("que-work", ".err");
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile());
    Process p = pb.start();
    try {
      Await.until(Duration.ofSeconds(60), "que work --batched-completion to work the 25 jobs", () -> {
        assertTrue(p.isAlive(), () -> "que work died: " + read(err));
        return unchecked(() -> count("SELECT count(*) FROM que_jobs")) == 0;
      });
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "que work did not stop on SIGTERM");
      String e = Files.readString(err, StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), e);
      assertTrue(e.contains("batched completion: up to 10 jobs or 20 ms"), e);
      assertTrue(e.contains("stopped; worked 25, failed 0"), e);
    } finally {
      p.destroyForcibly();
      Files.deleteIfExists(err);
    }
  }

  @Test
  void aBadBatchedCompletionExits2NamingTheOption() throws Exception {
    for (String bad : List.of("0", "1001", "many", "10/0ms", "10/11s", "10/soon")) {
      Run r = jar("work", "--classpath", handlerJar(), "--batched-completion", bad);
      assertEquals(2, r.exit(), r.toString());
      assertTrue(r.err().contains("--batched-completion"), r.err());
    }
    // From its variable, like every flag.
    Map<String, String> env = new HashMap<>(env());
    env.put("QUE_BATCHED_COMPLETION", "0");
    Run fromEnv = jar(env, false, "work", "--classpath", handlerJar());
    assertEquals(2, fromEnv.exit(), fromEnv.toString());
    assertTrue(fromEnv.err().contains("--batched-completion: MAXJOBS must be 1 to 1000, got 0"), fromEnv.err());
  }

  @Test
  void withoutHandlersOrWithABadClasspathItSaysSo() throws Exception {
    Run none = jar("work", "--queue", "q");
    assertEquals(1, none.exit(), none.toString());
    assertTrue(none.err().contains("no io.quejava.HandlerProvider found"), none.err());
    Run bad = jar("work", "--classpath", "/no/such/jobs.jar");
    assertEquals(2, bad.exit(), bad.toString());
    Run badQueue = jar("work", "--queue", "q=0", "--classpath", handlerJar());
    assertEquals(2, badQueue.exit(), badQueue.toString());
  }

  Run jar(String... args) throws Exception {
    return jar(env(), false, args);
  }

  private interface Call<T> {
    T call() throws Exception;
  }

  private static <T> T unchecked(Call<T> call) {
    try {
      return call.call();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String read(Path file) {
    return unchecked(() -> Files.readString(file, StandardCharsets.UTF_8));
  }
}
