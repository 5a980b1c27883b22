package io.quejava.examples.spring;

import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.spring.QueTemplate;
import java.util.Map;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Orders, and the job that confirms each one, written in the same transaction. */
@Service
public class OrderService {
  /** The job's args: a record binds to Que's positional args array, [orderId, email]. */
  public record SendConfirmation(long orderId, String email) {}

  /** The order and the id of its confirmation job. */
  public record Placed(long orderId, long jobId) {}

  private final JdbcTemplate jdbc;
  private final QueTemplate que;
  private final String jobClass;

  public OrderService(JdbcTemplate jdbc, QueTemplate que,
      @Value("${shop.confirmation-job-class:" + Confirmations.JOB_CLASS + "}") String jobClass) {
    this.jdbc = jdbc;
    this.que = que;
    this.jobClass = jobClass;
  }

  /**
   * Inserts the order and enqueues its confirmation on the same connection and transaction: both
   * exist after the commit, neither after a rollback. {@code failAfterEnqueue} throws after both
   * inserts, to show the rollback.
   */
  @Transactional
  public Placed place(String email, long amountCents, boolean failAfterEnqueue) {
    Long id = jdbc.queryForObject("INSERT INTO orders (email, amount_cents) VALUES (?, ?) RETURNING id",
        Long.class, email, amountCents);
    Job job = que.enqueue(NewJob.of(jobClass, new SendConfirmation(id, email)));
    if (failAfterEnqueue) {
      throw new IllegalStateException("failing after the enqueue, as asked: order " + id + " and job " + job.id()
          + " are rolled back");
    }
    return new Placed(id, job.id());
  }

  /** The order as stored, with confirmed_at once the job ran. */
  public Optional<Map<String, Object>> find(long id) {
    return jdbc.queryForList("SELECT id, email, amount_cents, confirmed_at FROM orders WHERE id = ?", id)
        .stream().findFirst();
  }
}
