package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Job;
import io.quejava.JobOutcome;
import io.quejava.Migrator;
import io.quejava.NewJob;
import io.quejava.RetryPolicy;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.ext.deadletter.DeadJob;
import io.quejava.ext.deadletter.DeadJobFilter;
import io.quejava.ext.deadletter.DeadLetterInterceptor;
import io.quejava.ext.deadletter.DeadLetters;
import java.io.PrintStream;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

/**
 * Giving up on a job instead of retrying it forever (Ruby Que 0.x and que-go never give up): the
 * {@link DeadLetterInterceptor} takes a job whose last allowed attempt failed out of the retry cycle
 * (schema 3: moved to {@code que_dead_jobs}; schema 4-7: expired), and {@link DeadLetters} lists,
 * counts and replays it once the cause is fixed.
 */
public final class DeadLettersExample {
  static final String QUEUE = "examples-deadletters";

  record ChargeCard(long orderId, String currency) {}

  public static void main(String[] args) throws Exception {
    Examples.main(DeadLettersExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    DeadLetters.migrator(dataSource).migrate();              // que_dead_jobs (used on schema 3)
    Examples.emptyQueue(dataSource, QUEUE);
    Client client = Client.create(dataSource);

    AtomicBoolean gatewayUp = new AtomicBoolean(false);
    CountDownLatch died = new CountDownLatch(1);
    CountDownLatch charged = new CountDownLatch(1);
    WorkMap work = WorkMap.builder()
        .put("Billing::ChargeCard", ChargeCard.class, (card, job) -> {
          if (!gatewayUp.get()) {
            throw new SocketTimeoutException("payment gateway timed out");
          }
          out.println("  charged order " + card.orderId() + " in " + card.currency());
          charged.countDown();
        })
        .build();
    WorkerPool pool = WorkerPool.builder(client, work).queue(QUEUE).workers(1)
        .interceptor(DeadLetterInterceptor.builder(client).maxAttempts("Billing::ChargeCard", 2).build())
        .retryPolicy(RetryPolicy.fixed(Duration.ofSeconds(1)))  // instead of 4 s, to keep the example short
        .wakeInterval(Duration.ofMillis(200))
        .listener(e -> {
          out.println("  job " + e.jobId() + " attempt " + e.attempt() + ": " + e.outcome());
          if (e.outcome() == JobOutcome.DEAD) {
            died.countDown();
          }
        })
        .build();

    Job job = client.enqueue(NewJob.of("Billing::ChargeCard", new ChargeCard(1042, "EUR")).queue(QUEUE));
    out.println("enqueued job " + job.id() + "; the gateway is down and the job may try twice");
    pool.start();
    boolean jobDied = died.await(30, TimeUnit.SECONDS);

    DeadLetters dead = DeadLetters.create(client);
    DeadJobFilter ours = DeadJobFilter.all().queue(QUEUE);
    for (DeadJob d : dead.list(ours)) {
      out.println("dead: job " + d.id() + " " + d.jobClass() + " " + d.argsJson() + " after " + d.errorCount()
          + " attempts (" + d.reason() + "): " + d.lastError().orElse("").lines().findFirst().orElse(""));
    }
    out.println("dead jobs by error type: " + dead.countByErrorType(ours));

    gatewayUp.set(true);
    List<Long> replayed = dead.replay(List.of(job.id()));   // back in que_jobs, same id, error_count 0
    out.println("the gateway is back; replayed " + replayed);
    pool.wakeOne();
    boolean wasCharged = charged.await(30, TimeUnit.SECONDS);
    boolean clean = pool.shutdown(Duration.ofSeconds(10));
    long stillDead = dead.count(ours);
    out.println("dead jobs left: " + stillDead);
    return jobDied && replayed.equals(List.of(job.id())) && wasCharged && clean && stillDead == 0;
  }

  private DeadLettersExample() {}
}
