package io.quejava.examples.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quejava.testing.Await;
import io.quejava.testing.TestDatabase;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The example application as it runs, on a database of its own: a POST commits an order and its
 * confirmation job together and the application's own worker confirms the order; a POST that fails
 * after the enqueue leaves neither the order nor the job.
 */
@SpringBootTest(
    classes = ShopApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "que.dashboard.basic-auth.password=shop-test-password")
class ShopApplicationTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    TestDatabase.Endpoint db = TestDatabase.newDatabase("shop_app");
    registry.add("spring.datasource.url", db::jdbcUrl);
    registry.add("spring.datasource.username", db::user);
    registry.add("spring.datasource.password", () -> db.password() == null ? "" : db.password());
  }

  @LocalServerPort int port;
  @Autowired JdbcTemplate jdbc;

  @Test
  void aPlacedOrderIsConfirmedByItsJob() throws Exception {
    HttpResponse<String> placed = ShopHttp.post(port, "/orders", "{\"email\":\"ada@example.com\",\"amountCents\":1299}");
    assertEquals(201, placed.statusCode(), placed.body());
    JsonNode body = JSON.readTree(placed.body());
    long orderId = body.get("orderId").asLong();
    Await.until(Duration.ofSeconds(20), "order " + orderId + " confirmed by its job", () -> {
      try {
        return !JSON.readTree(ShopHttp.get(port, "/orders/" + orderId).body()).get("confirmed_at").isNull();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    Await.until(Duration.ofSeconds(20), "the job deleted once worked",
        () -> jdbc.queryForObject("SELECT count(*) FROM que_jobs WHERE job_id = ?", Integer.class,
            body.get("jobId").asLong()) == 0);
  }

  @Test
  void aFailedRequestLeavesNeitherTheOrderNorTheJob() throws Exception {
    HttpResponse<String> failed = ShopHttp.post(port, "/orders?fail=true", "{\"email\":\"rollback@example.com\",\"amountCents\":500}");
    assertEquals(500, failed.statusCode(), failed.body());
    assertTrue(failed.body().contains("rolled back"), failed.body());
    assertEquals(0, jdbc.queryForObject("SELECT count(*) FROM orders WHERE email = 'rollback@example.com'", Integer.class));
    assertEquals(0, jdbc.queryForObject("SELECT count(*) FROM que_jobs WHERE args::text LIKE '%rollback@example.com%'", Integer.class));
  }

  @Test
  void badInputIsRefusedWithAMessage() throws Exception {
    HttpResponse<String> bad = ShopHttp.post(port, "/orders", "{\"email\":\"\",\"amountCents\":5}");
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("email must be given"), bad.body());
  }

  @Test
  void theDashboardIsAtQueForOps() throws Exception {
    assertEquals(401, ShopHttp.get(port, "/que").statusCode(), "no credentials, no dashboard");
    HttpResponse<String> placed = ShopHttp.post(port, "/orders", "{\"email\":\"dash@example.com\",\"amountCents\":700}");
    assertEquals(201, placed.statusCode(), placed.body());
    HttpResponse<String> overview = ShopHttp.get(port, "/que", "ops", "shop-test-password");
    assertEquals(200, overview.statusCode(), overview.body());
    assertTrue(overview.body().contains("href=\"/que/jobs"), overview.body());
    assertEquals(401, ShopHttp.get(port, "/que", "ops", "wrong").statusCode());
  }
}
