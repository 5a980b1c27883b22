package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.Worker;
import io.quejava.WorkerConfig;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * A job enqueued inside the caller's transaction exists if and only if that transaction commits;
 * its handler writes its effect and deletes the job in one transaction on the job's connection, so
 * the effect happens exactly once even if the worker dies half-way.
 */
public final class TransactionalEnqueueExample {
  static final String QUEUE = "examples-transactional";

  record ShipOrder(long orderId) {}

  public static void main(String[] args) throws Exception {
    Examples.main(TransactionalEnqueueExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    Examples.emptyQueue(dataSource, QUEUE);
    Client client = Client.create(dataSource);
    try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS example_orders (id bigserial PRIMARY KEY, item text NOT NULL, shipped_at timestamptz)");
    }

    WorkMap work = WorkMap.builder()
        .put("ShipOrder", ShipOrder.class, (order, job) -> {
          Connection c = job.connection();            // holds the job's lock; do not close it
          c.setAutoCommit(false);
          try (PreparedStatement ps = c.prepareStatement("UPDATE example_orders SET shipped_at = now() WHERE id = ?")) {
            ps.setLong(1, order.orderId());
            ps.executeUpdate();
          }
          job.delete();                               // commits together with the update
          c.commit();
          c.setAutoCommit(true);
          out.println("  shipped order " + order.orderId() + " and deleted job " + job.id() + " in one transaction");
        })
        .build();
    Worker worker = new Worker(client, work, WorkerConfig.custom().queue(QUEUE).build());

    // 1. Commit: the order and its job appear together.
    long committedOrder;
    Job committedJob;
    boolean seenBeforeCommit;
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      committedOrder = insertOrder(c, "a teapot");
      committedJob = client.enqueue(c, NewJob.of("ShipOrder", new ShipOrder(committedOrder)).queue(QUEUE));
      out.println("enqueued job " + committedJob.id() + " " + committedJob.argsJson() + " in the transaction that inserted order "
          + committedOrder);
      seenBeforeCommit = worker.workOne();          // another session: the job is not visible yet
      out.println("  before the commit a worker finds a job: " + seenBeforeCommit);
      c.commit();
      out.println("committed");
    }

    // 2. Roll back: neither the order nor its job ever existed.
    long rolledBackOrder;
    Job rolledBackJob;
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      rolledBackOrder = insertOrder(c, "a kettle");
      rolledBackJob = client.enqueue(c, NewJob.of("ShipOrder", new ShipOrder(rolledBackOrder)).queue(QUEUE));
      out.println("enqueued job " + rolledBackJob.id() + " in the transaction that inserted order " + rolledBackOrder);
      c.rollback();
    }
    boolean rolledBackJobExists = Examples.jobRow(client, rolledBackJob.id()).isPresent();
    out.println("rolled back; job " + rolledBackJob.id() + " exists after the rollback: " + rolledBackJobExists);

    out.println("working the queue:");
    int worked = 0;
    while (worker.workOne()) {
      worked++;
    }
    worker.shutdown();

    boolean shipped = isShipped(dataSource, committedOrder);
    boolean committedJobGone = Examples.jobRow(client, committedJob.id()).isEmpty();
    out.println("order " + committedOrder + " shipped: " + shipped + "; its job deleted: " + committedJobGone
        + "; jobs worked: " + worked);
    return !seenBeforeCommit && shipped && committedJobGone && !rolledBackJobExists && worked == 1 && worker.jobsFailed() == 0;
  }

  private static long insertOrder(Connection c, String item) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO example_orders (item) VALUES (?) RETURNING id")) {
      ps.setString(1, item);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static boolean isShipped(DataSource dataSource, long orderId) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT shipped_at IS NOT NULL FROM example_orders WHERE id = ?")) {
      ps.setLong(1, orderId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  private TransactionalEnqueueExample() {}
}
