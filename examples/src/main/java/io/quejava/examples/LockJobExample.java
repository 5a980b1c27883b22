package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.LockedJob;
import io.quejava.Migrator;
import io.quejava.NewJob;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Working a job by hand, without a worker: {@code client.lockJob(queue)} takes the next ready job's
 * advisory lock on a connection of its own and hands both over as a {@link LockedJob}. Resolve it
 * ({@code delete()}, {@code error(...)}, {@code retryIn(d)}; on schema 4-7 also {@code finish()},
 * {@code expire()}), then close it: try-with-resources unlocks after your commit, never before, and
 * only then gives the connection back.
 */
public final class LockJobExample {
  static final String QUEUE = "examples-lockjob";

  record SendInvoice(long invoiceId, String email) {}

  public static void main(String[] args) throws Exception {
    Examples.main(LockJobExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    Examples.emptyQueue(dataSource, QUEUE);
    Client client = Client.create(dataSource);
    try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS example_invoices_sent (invoice_id bigint, email text, sent_at timestamptz)");
    }
    Job first = client.enqueue(NewJob.of("SendInvoice", new SendInvoice(501, "ada@example.com")).queue(QUEUE));
    Job second = client.enqueue(NewJob.of("SendInvoice", new SendInvoice(502, "full@example.com")).queue(QUEUE));
    out.println("enqueued jobs " + first.id() + " and " + second.id());

    boolean lockedFirst;
    boolean otherGotSecond;
    try (LockedJob locked = client.lockJob(QUEUE).orElseThrow()) {
      SendInvoice invoice = locked.job().args(SendInvoice.class);
      lockedFirst = locked.job().id() == first.id();
      out.println("locked job " + locked.job().id() + ": " + invoice);

      // While we hold its lock no one else gets this job: another lockJob takes the next one.
      try (LockedJob other = client.lockJob(QUEUE).orElseThrow()) {
        otherGotSecond = other.job().id() == second.id();
        other.error("mailbox full: " + other.job().args(SendInvoice.class).email());   // retried after the backoff
        out.println("  meanwhile another lockJob got job " + other.job().id() + " and recorded an error; resolved: "
            + other.isResolved() + ", deleted: " + other.isDeleted());
      }

      Connection c = locked.connection();        // the connection that holds the lock
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO example_invoices_sent (invoice_id, email, sent_at) VALUES (?, ?, now())")) {
        ps.setLong(1, invoice.invoiceId());
        ps.setString(2, invoice.email());
        ps.executeUpdate();
      }
      locked.delete();                           // commits together with the insert
      c.commit();
      c.setAutoCommit(true);
      out.println("  sent invoice " + invoice.invoiceId() + " and deleted job " + locked.job().id()
          + " in one transaction; resolved: " + locked.isResolved() + ", deleted: " + locked.isDeleted());
    }                                            // close(): unlock (after the commit), then the connection goes back

    Optional<LockedJob> next = client.lockJob(QUEUE);
    next.ifPresent(LockedJob::close);
    out.println("lockJob now finds: " + next.map(j -> "job " + j.job().id()).orElse("nothing ready"));
    Examples.JobRow row = Examples.jobRow(client, second.id()).orElseThrow();
    out.println("job " + second.id() + ": " + row.errorCount() + " error(s), runs again in " + row.runsInSeconds()
        + " s; last error: " + row.lastError());
    return lockedFirst && otherGotSecond && next.isEmpty() && Examples.jobRow(client, first.id()).isEmpty()
        && row.errorCount() == 1;
  }

  private LockJobExample() {}
}
