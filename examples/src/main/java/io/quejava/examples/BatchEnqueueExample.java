package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.Migrator;
import io.quejava.NewJob;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * A large batch: {@code enqueueAll} of 1,000 jobs is written with one COPY (from 128 jobs on), each
 * returned job carrying the id stored for it, and inside the caller's transaction the batch exists
 * only if that transaction commits.
 */
public final class BatchEnqueueExample {
  static final String QUEUE = "examples-batch";

  record Invoice(long customerId, String note) {}

  public static void main(String[] args) throws Exception {
    Examples.main(BatchEnqueueExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    Examples.emptyQueue(dataSource, QUEUE);
    Client client = Client.create(dataSource);

    List<NewJob> invoices = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      // Stored as [customerId, note]; any text goes as it is: tabs, newlines, backslashes, Unicode.
      invoices.add(NewJob.of("SendInvoice", new Invoice(i, "line 1\n\tline 2 \\ ünïcødé " + i)).queue(QUEUE));
    }

    // 1. In the caller's transaction, rolled back: none of the 1,000 jobs ever existed.
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      List<Job> jobs = client.enqueueAll(c, invoices);
      out.println("enqueued " + jobs.size() + " jobs in a transaction (ids " + jobs.get(0).id() + " to "
          + jobs.get(jobs.size() - 1).id() + ")");
      c.rollback();
    }
    long afterRollback = count(dataSource);
    out.println("after the rollback: " + afterRollback + " jobs in " + QUEUE);

    // 2. On a connection of its own (committed when it returns): each job has the id stored for it.
    List<Job> jobs = client.enqueueAll(invoices);
    boolean tied = true;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT args->>1 FROM que_jobs WHERE job_id = ?")) {
      for (int i = 0; i < jobs.size(); i++) {
        ps.setLong(1, jobs.get(i).id());
        try (ResultSet rs = ps.executeQuery()) {
          tied &= rs.next() && rs.getString(1).equals("line 1\n\tline 2 \\ ünïcødé " + i);
        }
      }
    }
    long committed = count(dataSource);
    out.println("enqueued " + jobs.size() + " jobs; " + committed + " in " + QUEUE
        + "; every returned id holds its own job's args: " + tied);
    return afterRollback == 0 && committed == 1000 && tied;
  }

  private static long count(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM que_jobs WHERE queue = ?")) {
      ps.setString(1, QUEUE);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
