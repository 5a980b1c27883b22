package io.quejava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.quejava.internal.Json;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Records bound to Que's args and kwargs, both ways, and the one rule for positional values. */
class TypedArgsTest extends PgTest {

  record ChargeCard(long orderId, String currency) {}

  @JobArgs(shape = JobArgs.Shape.OBJECT)
  record SendMail(String toAddress, int retryLimit, List<String> ccList) {}

  @JobArgs(shape = JobArgs.Shape.OBJECT, naming = JobArgs.Naming.AS_DECLARED)
  record Declared(String toAddress) {}

  record Options(boolean sendCopy, BigDecimal amountDue) {}

  record Stamped(Instant at) {}

  private JsonNode storedArgs(long id) throws SQLException {
    return Json.parse(String.valueOf(one("SELECT args::text FROM que_jobs WHERE " + idColumn() + " = ?", id)));
  }

  private static JsonNode json(String text) {
    return Json.parse(text);
  }

  @Test
  void aPositionalRecordIsStoredAsTheArgsArrayAndBindsBackInATypedHandler() throws Exception {
    Job job = client.enqueue(NewJob.of("Billing::ChargeCard", new ChargeCard(1042, "EUR")));
    assertEquals(json("[1042, \"EUR\"]"), storedArgs(job.id()));
    assertEquals(json("[1042, \"EUR\"]"), json(job.argsJson()));

    AtomicReference<ChargeCard> seen = new AtomicReference<>();
    WorkMap map = WorkMap.builder().put("Billing::ChargeCard", ChargeCard.class, (args, j) -> seen.set(args)).build();
    assertTrue(new Worker(client, map).workOne());
    assertEquals(new ChargeCard(1042, "EUR"), seen.get());
    assertEquals(0, jobCount());
  }

  @Test
  void argsWrittenTheWayRubyAndGoWriteThemBindPositionally() throws Exception {
    insertAsRuby("Billing::ChargeCard", "[7, \"USD\"]");
    AtomicReference<ChargeCard> seen = new AtomicReference<>();
    WorkMap map = WorkMap.builder().put("Billing::ChargeCard", ChargeCard.class, (args, j) -> seen.set(args)).build();
    assertTrue(new Worker(client, map).workOne());
    assertEquals(new ChargeCard(7, "USD"), seen.get());
  }

  @Test
  void anObjectShapedRecordIsOneHashInSnakeCaseAndBindsBack() throws Exception {
    Job job = client.enqueue("Mailer", new SendMail("a@example.com", 3, List.of("b@example.com")));
    assertEquals(json("[{\"to_address\": \"a@example.com\", \"retry_limit\": 3, \"cc_list\": [\"b@example.com\"]}]"),
        storedArgs(job.id()));
    assertEquals(new SendMail("a@example.com", 3, List.of("b@example.com")), job.args(SendMail.class));

    // A Ruby app's hash with a key missing and one extra: a missing reference is null, extras are ignored.
    long ruby = insertAsRuby("Mailer", "[{\"to_address\": \"x@example.com\", \"retry_limit\": 1, \"from\": \"ruby\"}]");
    AtomicReference<SendMail> seen = new AtomicReference<>();
    WorkMap map = WorkMap.builder().put("Mailer", SendMail.class, (args, j) -> {
      if (j.job().id() == ruby) {
        seen.set(args);
      }
    }).build();
    Worker w = new Worker(client, map);
    while (w.workOne()) {
      // drain both
    }
    assertEquals(new SendMail("x@example.com", 1, null), seen.get());

    Job declared = client.enqueue("Mailer", new Declared("d@example.com"));
    assertEquals(json("[{\"toAddress\": \"d@example.com\"}]"), storedArgs(declared.id()));
  }

  @Test
  void argsThatDoNotBindFailTheAttemptWithTheClassAndFieldNamedAndABackoff() throws Exception {
    long arity = insertAsRuby("Billing::ChargeCard", "[1042, \"EUR\", \"extra\"]");
    long type = insertAsRuby("Billing::ChargeCard", "[\"not a number\", \"EUR\"]");
    long missing = insertAsRuby("Mailer", "[{\"to_address\": \"a@b\"}]");
    WorkMap map = WorkMap.builder()
        .put("Billing::ChargeCard", ChargeCard.class, (args, j) -> { })
        .put("Mailer", SendMail.class, (args, j) -> { })
        .build();
    Worker w = new Worker(client, map);
    int worked = 0;
    while (w.workOne()) {
      worked++;
    }
    assertEquals(3, worked);
    assertEquals(3, w.jobsFailed(), "each attempt failed");
    assertEquals(3, count("SELECT count(*) FROM que_jobs WHERE error_count = 1 AND run_at > now()"),
        "recorded with a backoff, never deleted");
    String arityError = lastError(arity);
    assertTrue(arityError.contains("JobArgsException: args of Billing::ChargeCard do not bind to ChargeCard:"
        + " it takes 2 args (orderId, currency), got 3"), arityError);
    String typeError = lastError(type);
    assertTrue(typeError.contains("arg 0 (orderId): cannot read \"not a number\" as long"), typeError);
    String missingError = lastError(missing);
    assertTrue(missingError.contains("key \"retry_limit\" (retryLimit) is missing"), missingError);
  }

  private String lastError(long id) throws SQLException {
    return String.valueOf(one("SELECT " + lastErrorColumn() + " FROM que_jobs WHERE " + idColumn() + " = ?", id));
  }

  @Test
  void positionalValuesAreOneArgEachWhicheverWayTheyAreEnqueued() throws Exception {
    Job viaClient = client.enqueue("Sum", List.of(1, 2, 3));
    Job viaNewJob = client.enqueue(NewJob.of("Sum", List.of(1, 2, 3)));
    Job spread = client.enqueue(NewJob.of("Sum", 1, 2, 3));
    Job none = client.enqueue("Sum");
    assertEquals(json("[[1, 2, 3]]"), storedArgs(viaClient.id()));
    assertEquals(json("[[1, 2, 3]]"), storedArgs(viaNewJob.id()));
    assertEquals(json("[1, 2, 3]"), storedArgs(spread.id()));
    assertEquals(json("[]"), storedArgs(none.id()));
    assertEquals(json("[null]"), storedArgs(client.enqueue("Sum", (Object) null).id()));
  }

  @Test
  void theApplicationsMapperWritesAndReadsJavaTimeValues() throws Exception {
    Instant at = Instant.parse("2026-12-01T10:15:30.123456Z");
    IllegalArgumentException withoutModule =
        assertThrows(IllegalArgumentException.class, () -> client.enqueue("Stamp", new Stamped(at)));
    assertTrue(withoutModule.getMessage().startsWith("args: Stamped.at cannot be written as JSON"), withoutModule.getMessage());
    assertEquals(0, jobCount(), "nothing written");

    ObjectMapper mapper = JsonMapper.builder().addModule(new JavaTimeModule())
        .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).build();
    Client timed = Client.builder(ds).objectMapper(mapper).build();
    Job job = timed.enqueue("Stamp", new Stamped(at));
    assertEquals(json("[\"2026-12-01T10:15:30.123456Z\"]"), storedArgs(job.id()));
    AtomicReference<Stamped> seen = new AtomicReference<>();
    assertTrue(new Worker(timed, WorkMap.builder().put("Stamp", Stamped.class, (a, j) -> seen.set(a)).build()).workOne());
    assertEquals(new Stamped(at), seen.get());
    Job plain = timed.enqueue(NewJob.of("Stamp", at));
    assertEquals(at, plain.arg(0, Instant.class));
  }

  @Test
  void kwargsBindToARecordOnSchemasSixAndSeven() throws Exception {
    NewJob withKwargs = NewJob.of("Invoice", new ChargeCard(1, "EUR")).kwargs(new Options(true, new BigDecimal("12.50")));
    if (schemaVersion() < 6) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.enqueue(withKwargs));
      assertTrue(e.getMessage().startsWith("kwargs:"), e.getMessage());
      return;
    }
    Job job = client.enqueue(withKwargs);
    assertEquals(json("{\"send_copy\": true, \"amount_due\": 12.50}"),
        json(String.valueOf(one("SELECT kwargs::text FROM que_jobs WHERE id = ?", job.id()))));
    AtomicReference<Options> seen = new AtomicReference<>();
    WorkMap map = WorkMap.builder().put("Invoice", ChargeCard.class, (args, j) -> seen.set(j.job().kwargs(Options.class))).build();
    assertTrue(new Worker(client, map).workOne());
    assertEquals(new Options(true, new BigDecimal("12.50")), seen.get());
  }

  @Test
  void aTypedHandlerNeedsARecordAndEveryNullIsNamed() {
    @SuppressWarnings({"unchecked", "rawtypes"})
    Class<Record> notRecord = (Class) String.class;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> WorkMap.builder().put("X", notRecord, (a, j) -> { }));
    assertEquals("argsType: java.lang.String is not a record", e.getMessage());
    // One rule for nulls across the API: IllegalArgumentException, message starting with the parameter name.
    Map<String, org.junit.jupiter.api.function.Executable> nulls = new java.util.LinkedHashMap<>();
    nulls.put("args", () -> NewJob.of("X", (Record) null));
    nulls.put("kwargs", () -> NewJob.of("X").kwargs((Record) null));
    nulls.put("type", () -> client.enqueue("X").args((Class<Record>) null));
    nulls.put("argsType", () -> WorkMap.builder().put("X", (Class<Record>) null, (a, j) -> { }));
    nulls.put("handler", () -> WorkMap.builder().put("X", (JobHandler) null));
    nulls.put("job", () -> client.enqueue((NewJob) null));
    nulls.put("connection", () -> client.enqueue((java.sql.Connection) null, NewJob.of("X")));
    nulls.put("queue", () -> client.lockJob(null));
    nulls.put("mapper", () -> Client.builder(ds).objectMapper(null));
    nulls.put("timeout", () -> WorkerPool.builder(client, WorkMap.builder().build()).build().shutdown(null));
    nulls.forEach((name, call) -> {
      IllegalArgumentException x = assertThrows(IllegalArgumentException.class, call, name);
      assertEquals(name + ": must not be null", x.getMessage());
    });
  }

  @Test
  void aScheduleTakesARecordAsItsArgsTheWayAJobDoes() {
    String args = io.quejava.ext.schedule.Schedule.every("rates", "1 minute", "Billing::ChargeCard")
        .args(new ChargeCard(1042, "EUR")).argsJson();
    assertEquals(json("[1042, \"EUR\"]"), json(args));
  }

  @Test
  void snakeCaseFollowsRubyConventions() {
    Map<String, String> cases = Map.of("orderId", "order_id", "httpURL", "http_url", "a1b", "a1b",
        "already_snake", "already_snake", "URLPath", "url_path", "x", "x");
    cases.forEach((in, out) -> assertEquals(out, io.quejava.internal.RecordArgs.snakeCase(in), in));
  }
}
