package io.quejava.examples;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.ext.schedule.Schedule;
import io.quejava.ext.schedule.ScheduleStatus;
import io.quejava.ext.schedule.Scheduler;
import io.quejava.ext.schedule.Schedules;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * A recurring job: an interval schedule in {@code que_schedules}, which a {@link Scheduler} (here
 * started and stopped with the pool) turns into ordinary que_jobs rows, one per tick, exactly once
 * however many schedulers run. Cron schedules ({@code Schedule.cron("nightly", "30 2 * * *",
 * "Europe/Berlin", "NightlyReport")}) work the same way but need {@code com.cronutils:cron-utils}
 * on the class path, which this module leaves out.
 */
public final class SchedulesExample {
  static final String QUEUE = "examples-schedules";
  static final String NAME = "examples-refresh-rates";

  record RefreshRates(String baseCurrency) {}

  public static void main(String[] args) throws Exception {
    Examples.main(SchedulesExample::run);
  }

  public static boolean run(DataSource dataSource, PrintStream out) throws Exception {
    Migrator.create(dataSource).migrate();
    Schedules.migrator(dataSource).migrate();               // que_schedules
    Examples.emptyQueue(dataSource, QUEUE);
    Client client = Client.create(dataSource);

    Schedules schedules = Schedules.create(dataSource);
    schedules.upsert(Schedule.every(NAME, "every second", "RefreshRates")
        .args(new RefreshRates("EUR"))                                  // the record's args: ["EUR"]
        .queue(QUEUE));
    out.println("schedule " + NAME + ", next ticks: " + schedules.nextFireTimes(NAME, 3));

    CountDownLatch ticks = new CountDownLatch(3);
    WorkMap work = WorkMap.builder()
        .put("RefreshRates", RefreshRates.class, (rates, job) -> {
          out.println("  job " + job.id() + " for the tick at " + job.job().runAt() + ": refresh rates against "
              + rates.baseCurrency());
          ticks.countDown();
        })
        .build();
    Scheduler scheduler = Scheduler.builder(client).pollInterval(Duration.ofMillis(200)).build();
    WorkerPool pool = WorkerPool.builder(client, work).queue(QUEUE).workers(1)
        .extension(scheduler)                                // runs while the pool runs
        .build();
    pool.start();
    boolean ran = ticks.await(30, TimeUnit.SECONDS);
    boolean clean = pool.shutdown(Duration.ofSeconds(10));

    ScheduleStatus status = schedules.get(NAME).orElseThrow();
    out.println("schedule " + status.name() + ": last tick " + status.lastRunAt().map(Object::toString).orElse("none") + ", next " + status.nextRunAt()
        + status.lastError().map(e -> ", last error: " + e).orElse(", no errors"));
    schedules.delete(NAME);                                  // leave no schedule behind on your database
    out.println("deleted the schedule; jobs run: " + pool.jobsWorked());
    return ran && clean && pool.jobsWorked() >= 3 && status.lastError().isEmpty();
  }

  private SchedulesExample() {}
}
