package io.quejava.examples.spring;

import io.quejava.RunningJob;
import io.quejava.examples.spring.OrderService.SendConfirmation;
import io.quejava.spring.QueJob;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** Works the confirmation jobs: found by the starter through {@link QueJob}, run by its pool. */
@Component
public class Confirmations {
  /** The Que job class, the name Ruby and Go workers would know it by too. */
  public static final String JOB_CLASS = "Shop::SendConfirmation";

  private static final Logger LOG = LoggerFactory.getLogger(Confirmations.class);

  private final JdbcTemplate jdbc;

  public Confirmations(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  @QueJob(JOB_CLASS)
  void send(SendConfirmation args, RunningJob job) {
    // A real shop would send the e-mail here; the job is retried with backoff if this throws.
    int updated = jdbc.update("UPDATE orders SET confirmed_at = now() WHERE id = ? AND confirmed_at IS NULL",
        args.orderId());
    LOG.info("job {}: confirmation for order {} done ({} row updated)", job.id(), args.orderId(), updated);
  }
}
