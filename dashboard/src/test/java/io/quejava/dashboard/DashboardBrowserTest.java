package io.quejava.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quejava.JobEvent;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.ext.schedule.Schedule;
import io.quejava.ext.schedule.Schedules;
import io.quejava.testing.Await;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The dashboard in a real headless Chromium (Debian's chromium and chromium-driver, driven by
 * Selenium): overview, filtering jobs, a failing job retried (its run_at moves in the database), a
 * job held by another session skipped, a dead job replayed, a schedule disabled, an XSS probe shown
 * as text. Screenshots of each page go to target/screenshots. Without chromium the test is skipped,
 * except under CI=true, where it fails.
 */
class DashboardBrowserTest extends DashboardTestBase {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final String XSS = "<script>alert(1)</script>";

  ChromeDriver browser;
  Dashboard dashboard;
  DashboardServer server;
  String base;
  Path shots;

  @BeforeAll
  void startBrowser() throws IOException {
    boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    if (!present && "true".equals(System.getenv("CI"))) {
      throw new AssertionError("CI=true but " + CHROMIUM + " or " + CHROMEDRIVER + " is missing: .ci/run installs"
          + " Debian's chromium and chromium-driver");
    }
    Assumptions.assumeTrue(present, "no " + CHROMIUM + " and " + CHROMEDRIVER
        + " here (apt-get install chromium chromium-driver): the browser tests are skipped");
    shots = Path.of(System.getProperty("que.dashboard.screenshots", "target/screenshots"));
    Files.createDirectories(shots);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--window-size=1400,1000", "--lang=en-US", "--disable-extensions");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().build();
    browser = new ChromeDriver(service, options);
    browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    dashboard = Dashboard.builder(client).refreshSeconds(0).build();
    server = dashboard.start(0);
    base = server.url(dashboard);
  }

  @AfterAll
  void stopBrowser() {
    if (browser != null) {
      browser.quit();
    }
    if (server != null) {
      server.close();
    }
  }

  void open(String path) {
    browser.get(base + path);
  }

  void shot(String name) throws IOException {
    Files.write(shots.resolve(name + ".png"), browser.getScreenshotAs(OutputType.BYTES));
  }

  /** Clicks and waits until the browser has left the page (the old document is gone). */
  void clickAndLoad(By by) {
    WebElement old = browser.findElement(By.tagName("html"));
    browser.findElement(by).click();
    Await.until(Duration.ofSeconds(15), "the page after clicking " + by, () -> {
      try {
        old.getTagName();
        return false;
      } catch (StaleElementReferenceException e) {
        return true;
      }
    });
  }

  String text(String css) {
    List<WebElement> found = browser.findElements(By.cssSelector(css));
    if (found.isEmpty()) {
      throw new AssertionError("no " + css + " on " + browser.getCurrentUrl() + ":\n" + browser.getPageSource());
    }
    return found.get(0).getText();
  }

  Instant runAt(long id) throws Exception {
    return (Instant) sql.one("SELECT run_at FROM que_jobs WHERE " + idColumn() + " = ?", id);
  }

  long failing(String jobClass, String queue, String error) throws Exception {
    long id = client.enqueue(NewJob.of(jobClass, 42, "order-" + jobClass).queue(queue)
        .runAt(Instant.now().plus(Duration.ofHours(1)))).id();
    sql.exec("UPDATE que_jobs SET error_count = 3, last_error_message = ?, last_error_backtrace = ? WHERE id = ?",
        error, "app/jobs/charge.rb:12:in `run'\napp/lib/gateway.rb:88:in `post'", id);
    return id;
  }

  @Test
  void drivesEveryPageInChromium() throws Exception {
    Schedules.migrator(ds).migrate();
    Schedules schedules = Schedules.create(ds);
    schedules.delete("hourly-report");
    schedules.upsert(Schedule.every("hourly-report", Duration.ofHours(1), "HourlyReport").queue("reports"));
    // Some jobs worked in this process, so the throughput chart has bars.
    CountDownLatch ended = new CountDownLatch(12);
    WorkMap work = WorkMap.builder().put("Sum", (job) -> {
      if (job.args().get(0).asInt() == 5) {
        throw new IllegalStateException("unlucky");
      }
    }).build();
    for (int i = 0; i < 12; i++) {
      client.enqueue(NewJob.of("Sum", i, i + 1).queue("math"));
    }
    WorkerPool pool = WorkerPool.builder(client, work).queue("math").workers(2).listener(dashboard.jobListener())
        .listener(new io.quejava.JobListener() {
          @Override
          public void jobEnded(JobEvent e) {
            ended.countDown();
          }
        }).build();
    pool.start();
    assertTrue(ended.await(30, TimeUnit.SECONDS), "the pool works the 12 jobs");
    assertTrue(pool.shutdown(Duration.ofSeconds(10)));

    for (int i = 0; i < 30; i++) {
      client.enqueue(NewJob.of("SendWelcome", "user" + i + "@example.com").queue("mail"));
    }
    client.enqueue(NewJob.of("Charge", 7, "order-7").queue("billing").kwargs(java.util.Map.of("currency", "EUR")));
    long charge = failing("ChargeCard", "billing", "Stripe::CardError: card declined");
    long held = failing("ChargeCard", "billing", "Stripe::CardError: insufficient funds");
    long xss = failing(XSS, "default", "</pre><img src=x onerror=alert(2)>");
    long dead = client.enqueue(NewJob.of("ImportFeed", "https://example.com/feed").queue("imports")).id();
    sql.exec("UPDATE que_jobs SET error_count = 15, expired_at = now(), last_error_message = 'Net::ReadTimeout: timed out' WHERE id = ?", dead);

    // 1. Overview.
    open("/");
    assertEquals("Overview", text("h1"));
    String queues = text("#queues");
    assertTrue(queues.contains("mail") && queues.contains("billing") && queues.contains("imports"), queues);
    assertTrue(browser.getPageSource().contains("11 worked, 1 failed"), "the chart counts the pool's attempts");
    assertFalse(browser.findElements(By.cssSelector("svg.chart rect.ok")).isEmpty());
    shot("overview");

    // 2. Filter jobs: the mail queue only, by typing into the form.
    open("/jobs");
    browser.findElement(By.name("queue")).sendKeys("mail");
    browser.findElement(By.name("args")).sendKeys("user1");
    clickAndLoad(By.id("apply"));
    List<WebElement> rows = browser.findElements(By.cssSelector("#jobs tbody tr"));
    assertEquals(11, rows.size(), "user1, user10..user19"); // user1 and user10-19
    for (WebElement r : rows) {
      assertTrue(r.getText().contains("mail") && r.getText().contains("SendWelcome"), r.getText());
    }
    shot("jobs");

    // 3. The failing page, a failing job, retried: its run_at moves to now in the database.
    open("/failing");
    assertTrue(text("#jobs").contains("ChargeCard"));
    shot("failing");
    clickAndLoad(By.linkText(Long.toString(charge)));
    assertTrue(text("#error").contains("card declined"), text("#error"));
    assertTrue(browser.getPageSource().contains("gateway.rb"));
    assertEquals("3", text("#error-count"));
    shot("job");
    Instant before = runAt(charge);
    clickAndLoad(By.id("retry"));
    assertTrue(text("#result").contains("1 done"), text("#result"));
    Instant after = runAt(charge);
    assertTrue(after.isBefore(before.minus(Duration.ofMinutes(50))), before + " -> " + after);
    shot("retried");

    // 4. A job another session holds (as a Ruby or Go worker would) is skipped, and the page says so.
    try (Connection other = ds.getConnection()) {
      try (PreparedStatement ps = other.prepareStatement("SELECT pg_advisory_lock(?)")) {
        ps.setLong(1, held);
        ps.execute();
      }
      Instant heldBefore = runAt(held);
      open("/jobs/" + held);
      assertTrue(text("#holder").contains("database session"), text("#holder"));
      clickAndLoad(By.id("retry"));
      assertTrue(text("#skipped").contains("Skipped 1"), text("#skipped"));
      assertEquals(heldBefore, runAt(held), "a held job is not touched");
      shot("skipped");
      // And in bulk: every ChargeCard job of the billing queue, with the confirm step.
      open("/jobs?queue=billing&class=ChargeCard");
      clickAndLoad(By.id("bulk-retry"));
      assertTrue(text("#confirm-text").contains("2 job(s) match"), text("#confirm-text"));
      shot("confirm");
      clickAndLoad(By.id("confirm"));
      assertTrue(text("#result").contains("1 done, 1 skipped"), text("#result"));
      assertTrue(text("#skipped").contains("Skipped 1"), text("#skipped"));
      assertEquals(heldBefore, runAt(held));
    }

    // 5. Dead letters grouped by error type; one replayed.
    open("/dead");
    assertTrue(text("#groups").contains("Net::ReadTimeout"), text("#groups"));
    shot("dead");
    clickAndLoad(By.cssSelector("button.replay[data-id='" + dead + "']"));
    assertTrue(text("#message").contains("done"), text("#message"));
    assertEquals(0L, sql.count("SELECT count(*) FROM que_jobs WHERE id = ? AND expired_at IS NOT NULL", dead));

    // 6. Schedules: disable one.
    open("/schedules");
    assertTrue(text("#schedules").contains("hourly-report"));
    shot("schedules");
    clickAndLoad(By.cssSelector("button.disable"));
    assertTrue(text("#message").contains("Disabled schedule hourly-report"), text("#message"));
    assertFalse(schedules.get("hourly-report").orElseThrow().enabled());
    open("/schedules");
    assertEquals("no", text("#schedules td.enabled"));

    // 7. The XSS probe is text, and no script ran.
    open("/jobs/" + xss);
    assertEquals(XSS, text("#job-class"));
    assertTrue(text("#error").contains("<img src=x onerror=alert(2)>"));
    assertThrows(NoAlertPresentException.class, () -> browser.switchTo().alert());
    shot("xss");
    open("/jobs?class=" + java.net.URLEncoder.encode(XSS, java.nio.charset.StandardCharsets.UTF_8));
    assertEquals(XSS, text("#jobs td.cls"));
    assertThrows(NoAlertPresentException.class, () -> browser.switchTo().alert());

    // 8. In flight, with the held job.
    try (Connection other = ds.getConnection()) {
      try (PreparedStatement ps = other.prepareStatement("SELECT pg_advisory_lock(?)")) {
        ps.setLong(1, held);
        ps.execute();
      }
      open("/inflight");
      assertTrue(text("#inflight").contains(Long.toString(held)), text("#inflight"));
      shot("inflight");
    }

    // 9. A forged POST (no token, as another site's form would send) is refused.
    HttpResponse<String> forged = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/jobs/" + xss + "/delete"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(403, forged.statusCode(), forged.body());
    assertNotNull(sql.one("SELECT id FROM que_jobs WHERE id = ?", xss), "the job is still there");
  }

}
