package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.JobArgs;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.Worker;
import io.quejava.WorkerConfig;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;

/**
 * Job args as records, both ways: by position (what Ruby's {@code run(order_id, currency)} and
 * que-go read), as one snake_case hash (what many Ruby apps pass), plain values, args that do not
 * bind (a failure with the usual backoff, never a deleted job), and Que 2.x's kwargs on schema 7.
 */
public final class TypedJobsExample {
  static final String QUEUE = "examples-typed";

  /** By position: stored as {@code [1042, "EUR"]}. */
  record ChargeCard(long orderId, String currency) {}

  /** One hash: stored as {@code [{"order_id": 1042, "shipping_method": "express"}]}. */
  @JobArgs(shape = JobArgs.Shape.OBJECT)
  record ShipOrder(long orderId, String shippingMethod) {}

  /** A list is one arg: {@code NewJob.of("Sum", List.of(1, 2, 3))} is {@code [[1, 2, 3]]}. */
  record Sum(List<Integer> numbers) {}

  /** Kwargs (schema 6-7): stored as {@code {"send_copy": true, "locale": "de"}}. */
  record ReceiptOptions(boolean sendCopy, String locale) {}

  public static void main(String[] args) throws Exception {
    Examples.main(TypedJobsExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    Examples.emptyQueue(dataSource, QUEUE);
    Client client = Client.create(dataSource);
    WorkMap work = WorkMap.builder()
        .put("Billing::ChargeCard", ChargeCard.class, (card, job) ->
            out.println("  charge order " + card.orderId() + " in " + card.currency()))
        .put("ShipOrder", ShipOrder.class, (order, job) ->
            out.println("  ship order " + order.orderId() + " by " + order.shippingMethod()))
        .put("Sum", Sum.class, (sum, job) ->
            out.println("  sum of " + sum.numbers() + " = " + sum.numbers().stream().mapToInt(Integer::intValue).sum()))
        .build();

    List<Job> jobs = client.enqueueAll(List.of(
        NewJob.of("Billing::ChargeCard", new ChargeCard(1042, "EUR")).queue(QUEUE),
        NewJob.of("Billing::ChargeCard", 1043L, "USD").queue(QUEUE),               // plain values, one arg each
        NewJob.of("ShipOrder", new ShipOrder(1042, "express")).queue(QUEUE),
        NewJob.ofJson("ShipOrder", "[{\"order_id\": 7, \"shipping_method\": \"post\", \"gift_wrap\": true}]")
            .queue(QUEUE),                                                          // as Ruby enqueues it; extra keys are ignored
        NewJob.of("Sum", List.of(1, 2, 3)).queue(QUEUE),
        NewJob.ofJson("Billing::ChargeCard", "[\"abc\", \"EUR\"]").queue(QUEUE)));  // does not bind: "abc" is no long
    for (Job j : jobs) {
      out.println("stored job " + j.id() + " " + j.jobClass() + " " + j.argsJson());
    }

    out.println("working the queue:");
    Worker worker = new Worker(client, work, WorkerConfig.custom().queue(QUEUE).build());
    while (worker.workOne()) {
      // each call locks, runs and resolves one ready job
    }
    worker.shutdown();

    Job bad = jobs.get(jobs.size() - 1);
    Examples.JobRow row = Examples.jobRow(client, bad.id()).orElseThrow();
    out.println("job " + bad.id() + " failed " + row.errorCount() + " time(s), runs again in " + row.runsInSeconds()
        + " s; last error: " + row.lastError());
    out.println(worker.jobsWorked() + " worked, " + worker.jobsFailed() + " failed");
    boolean kwargs = kwargsOnSchema7(dataSource, out);
    return worker.jobsWorked() == 5 && worker.jobsFailed() == 1 && row.errorCount() == 1
        && row.lastError().startsWith("io.quejava.JobArgsException") && kwargs;
  }

  /** Que 2.x calls {@code run(*args, **kwargs)}: kwargs exist on schema 6 and 7, here in a schema of our own. */
  static boolean kwargsOnSchema7(DataSource dataSource, PrintStream out) throws Exception {
    String schema = "que_example_v7_" + ProcessHandle.current().pid();
    try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA " + schema);
    }
    try {
      DataSource v7 = Examples.inSchema(dataSource, schema);
      out.println("que_jobs in schema " + schema + " migrated to " + Migrator.create(v7).migrateTo(7));
      Client client = Client.create(v7);
      Job receipt = client.enqueue(NewJob.of("SendReceipt", new ChargeCard(1042, "EUR"))
          .kwargs(new ReceiptOptions(true, "de")).queue(QUEUE));
      out.println("stored job " + receipt.id() + " SendReceipt args " + receipt.argsJson() + " kwargs "
          + receipt.kwargsJson().orElse("{}"));
      WorkMap work = WorkMap.builder()
          .put("SendReceipt", ChargeCard.class, (card, job) -> {
            ReceiptOptions options = job.kwargs(ReceiptOptions.class);
            out.println("  receipt for order " + card.orderId() + " in locale " + options.locale()
                + (options.sendCopy() ? ", with a copy" : ""));
          })
          .build();
      Worker worker = new Worker(client, work, WorkerConfig.custom().queue(QUEUE).build());
      worker.workOne();
      worker.shutdown();
      return worker.jobsWorked() == 1;
    } finally {
      try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
        st.execute("DROP SCHEMA " + schema + " CASCADE");
      }
    }
  }

  private TypedJobsExample() {}
}
