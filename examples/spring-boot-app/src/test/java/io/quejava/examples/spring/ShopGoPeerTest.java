package io.quejava.examples.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quejava.testing.GoPeer;
import java.io.File;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A job the example enqueued through its web endpoint, inside its transaction, is worked by the real
 * que-go (the compat suite's Go peer) on the same table: the Spring application only enqueues
 * ({@code que.worker.enabled=false}) and names the job class the peer has a handler for
 * ({@code CompatRecord}, which records the args it was handed). In a mixed fleet the Go service
 * would register {@code Shop::SendConfirmation} the same way.
 */
@Tag("compat")
@Timeout(300)
@SpringBootTest(
    classes = ShopApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"que.worker.enabled=false", "shop.confirmation-job-class=CompatRecord",
        "que.dashboard.basic-auth.password=shop-test-password"})
class ShopGoPeerTest {
  static final Duration PEER = Duration.ofMinutes(5); // the first run may build the peer
  static final ObjectMapper JSON = new ObjectMapper();
  static GoPeer.Db db;

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    db = GoPeer.Db.create("shop_go");
    registry.add("spring.datasource.url", db.endpoint()::jdbcUrl);
    registry.add("spring.datasource.username", db.endpoint()::user);
    registry.add("spring.datasource.password", () -> db.endpoint().password() == null ? "" : db.endpoint().password());
  }

  @AfterAll
  static void dropDatabase() throws SQLException {
    // The context (and its connections) outlives this class in Spring's cache; FORCE ends them.
    if (db != null) {
      db.close();
    }
  }

  @LocalServerPort int port;
  @Autowired JdbcTemplate jdbc;

  @Test
  void queGoWorksAJobTheWebEndpointEnqueued() throws Exception {
    assumeTrue(goAvailable(), "Go is not installed (no `go` on PATH and no QUE_COMPAT_PEER_GO): the que-go peer cannot be built");
    HttpResponse<String> placed = ShopHttp.post(port, "/orders", "{\"email\":\"gopher@example.com\",\"amountCents\":4200}");
    assertEquals(201, placed.statusCode(), placed.body());
    JsonNode body = JSON.readTree(placed.body());
    long orderId = body.get("orderId").asLong();
    long jobId = body.get("jobId").asLong();

    GoPeer.Result r = GoPeer.run(PEER, "work", "--url", db.url("shop-go-peer"), "--until-empty", "--workers", "1").ok();

    List<Map<String, Object>> runs = jdbc.queryForList("SELECT job_id, peer, job_class, args, error_count FROM compat_runs");
    assertEquals(1, runs.size(), "one run recorded by the peer; peer output: " + r.stdout());
    Map<String, Object> run = runs.get(0);
    assertEquals(jobId, ((Number) run.get("job_id")).longValue());
    assertEquals("go", run.get("peer"));
    assertEquals("CompatRecord", run.get("job_class"));
    assertEquals(0, ((Number) run.get("error_count")).intValue());
    // The record's components by position, as que-go handed them to its handler.
    assertEquals(JSON.readTree("[" + orderId + ",\"gopher@example.com\"]"), JSON.readTree((String) run.get("args")));
    assertEquals(0, jdbc.queryForObject("SELECT count(*) FROM que_jobs", Integer.class), "que-go deleted the job");
  }

  private static boolean goAvailable() {
    String override = System.getProperty("QUE_COMPAT_PEER_GO", System.getenv("QUE_COMPAT_PEER_GO"));
    if (override != null && !override.isBlank()) {
      return true;
    }
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, "go"))) {
        return true;
      }
    }
    return false;
  }
}
