package io.quejava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.Client;
import io.quejava.NewJob;
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
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code que dashboard} through the built jar, on a schema 3 table: it serves the overview, the
 * jobs list and a job under basic auth, refuses a POST without its CSRF token, and stops on
 * SIGTERM; a public --bind without authentication is refused.
 */
class DashboardJarIT extends CliTestBase {
  @Test
  void servesTheDashboardUntilSigterm() throws Exception {
    long id = Client.create(ds).enqueue(NewJob.of("<b>Probe</b>", 1).queue("mail")).id();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        jar().toString(), "dashboard", "--port", "0"));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("QUE_") || k.startsWith("PG") || k.equals("DATABASE_URL"));
    pb.environment().putAll(env());
    pb.environment().putAll(Map.of("QUE_DASHBOARD_USER", "ops", "QUE_DASHBOARD_PASSWORD", "pw"));
    Path err = Files.createTempFile("que-dashboard", ".err");
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(err.toFile());
    Process p = pb.start();
    try {
      Pattern serving = Pattern.compile("serving (http://127\\.0\\.0\\.1:\\d+)/");
      Await.until(Duration.ofSeconds(60), "que dashboard to print its address", () -> {
        assertTrue(p.isAlive(), () -> "que dashboard died: " + read(err));
        return serving.matcher(read(err)).find();
      });
      Matcher m = serving.matcher(read(err));
      assertTrue(m.find());
      String base = m.group(1);
      HttpClient http = HttpClient.newHttpClient();
      String auth = "Basic " + Base64.getEncoder().encodeToString("ops:pw".getBytes(StandardCharsets.UTF_8));
      assertEquals(401, http.send(HttpRequest.newBuilder(URI.create(base + "/")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
      HttpResponse<String> overview = http.send(HttpRequest.newBuilder(URI.create(base + "/")).header("Authorization", auth).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, overview.statusCode(), overview.body());
      assertTrue(overview.body().contains("mail") && overview.body().contains("que_jobs schema 3"), overview.body());
      HttpResponse<String> jobs = http.send(HttpRequest.newBuilder(URI.create(base + "/jobs?queue=mail")).header("Authorization", auth).build(),
          HttpResponse.BodyHandlers.ofString());
      assertTrue(jobs.body().contains("&lt;b&gt;Probe&lt;/b&gt;") && !jobs.body().contains("<b>Probe"), jobs.body());
      HttpResponse<String> job = http.send(HttpRequest.newBuilder(URI.create(base + "/jobs/" + id)).header("Authorization", auth).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, job.statusCode(), job.body());
      HttpResponse<String> forged = http.send(HttpRequest.newBuilder(URI.create(base + "/jobs/" + id + "/delete"))
          .header("Authorization", auth).header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(403, forged.statusCode(), forged.body());
      assertEquals(1L, count("SELECT count(*) FROM que_jobs WHERE job_id = ?", id));
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "que dashboard did not stop on SIGTERM");
      assertEquals(0, p.exitValue(), read(err));
      assertTrue(read(err).contains("que dashboard: stopped"), read(err));
    } finally {
      p.destroyForcibly();
      Files.deleteIfExists(err);
    }
  }

  @Test
  void aPublicAddressWithoutAuthenticationIsRefused() throws Exception {
    Run r = jar("dashboard", "--bind", "0.0.0.0", "--port", "0");
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("without authentication") && r.err().contains("--insecure"), r.err());
    Run half = jar("dashboard", "--dashboard-user", "ops", "--port", "0");
    assertEquals(2, half.exit(), half.toString());
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
