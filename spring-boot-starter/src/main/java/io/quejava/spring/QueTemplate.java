package io.quejava.spring;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.NewJob;
import java.sql.Connection;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Enqueues jobs on the connection of the caller's Spring transaction. Inside a transaction that
 * Spring manages for this {@link DataSource} ({@code @Transactional}, {@code TransactionTemplate})
 * the job is inserted on that transaction's connection and exists if and only if the transaction
 * commits (the connection comes from {@link DataSourceUtils#getConnection}). Outside one, it goes
 * through {@link Client#enqueue(NewJob)}: a connection of its own, committed when the call returns.
 * Thread-safe.
 *
 * <pre>{@code
 * @Transactional
 * public void placeOrder(Order order) {
 *   orders.save(order);
 *   que.enqueue(NewJob.of("Billing::ChargeCard", new ChargeCard(order.id(), "EUR")));
 * }
 * }</pre>
 */
public class QueTemplate {
  private final Client client;
  private final DataSource dataSource;

  /**
   * A template over {@code client} that joins transactions on {@code dataSource}, which must be the
   * data source of the application's transaction manager (and of the client).
   */
  public QueTemplate(Client client, DataSource dataSource) {
    this.client = client;
    this.dataSource = dataSource;
  }

  /** The client, for what this template does not wrap (locking, admin). */
  public Client client() {
    return client;
  }

  /** Enqueues one job, in the current transaction when there is one. */
  public Job enqueue(NewJob job) {
    if (!inTransaction()) {
      return client.enqueue(job);
    }
    Connection c = DataSourceUtils.getConnection(dataSource);
    try {
      return client.enqueue(c, job);
    } finally {
      DataSourceUtils.releaseConnection(c, dataSource);
    }
  }

  /** Enqueues a job of {@code jobClass} whose args are this record. */
  public Job enqueue(String jobClass, Record args) {
    return enqueue(NewJob.of(jobClass, args));
  }

  /** Enqueues a job of {@code jobClass} with these positional args. */
  public Job enqueue(String jobClass, Object... args) {
    return enqueue(NewJob.of(jobClass, args));
  }

  /** Enqueues all jobs in one statement, in the current transaction when there is one. */
  public List<Job> enqueueAll(List<NewJob> jobs) {
    if (!inTransaction()) {
      return client.enqueueAll(jobs);
    }
    Connection c = DataSourceUtils.getConnection(dataSource);
    try {
      return client.enqueueAll(c, jobs);
    } finally {
      DataSourceUtils.releaseConnection(c, dataSource);
    }
  }

  /** Whether Spring holds a connection of {@code dataSource} for the current thread's transaction. */
  private boolean inTransaction() {
    return TransactionSynchronizationManager.getResource(dataSource) != null;
  }
}
