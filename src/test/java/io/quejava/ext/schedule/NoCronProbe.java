package io.quejava.ext.schedule;

import io.quejava.Client;
import io.quejava.NewJob;
import io.quejava.WorkMap;
import io.quejava.Worker;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Runs inside a class loader without cron-utils (see ScheduleTestBase#intervalSchedulesAndTheCoreWorkWithoutCronUtils):
 * the core enqueues and works a job, an interval schedule ticks, a cron schedule is refused with a
 * clear message, and the scheduler leaves cron rows alone. Reports what it saw as one line.
 */
public final class NoCronProbe {
  private NoCronProbe() {}

  public static String run(String jdbcUrl, String user, String password, String schema, String queue, long startEpochSecond) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(jdbcUrl);
    ds.setUser(user);
    if (password != null) {
      ds.setPassword(password);
    }
    ds.setCurrentSchema(schema);
    StringBuilder out = new StringBuilder();
    out.append("cronAvailable=").append(CronSupport.available());

    Client client = Client.create(ds);
    AtomicInteger ran = new AtomicInteger();
    client.enqueue(NewJob.of("Probe").queue(queue));
    Worker w = new Worker(client, WorkMap.of("Probe", job -> ran.incrementAndGet()),
        io.quejava.WorkerConfig.custom().queue(queue).build());
    w.workOne();
    out.append(" coreWorked=").append(ran.get());

    try {
      Schedule.cron("nope", "0 * * * *", ZoneOffset.UTC, "X");
      out.append(" cronRefused=false");
    } catch (IllegalStateException e) {
      out.append(" cronRefused=").append(e.getMessage().startsWith("cron: cron schedules need com.cronutils"));
    }

    MutableClock clock = new MutableClock(Instant.ofEpochSecond(startEpochSecond));
    Schedules.create(ds, clock).upsert(Schedule.every("probe-interval", Duration.ofMinutes(1), "Tick").queue(queue));
    clock.advance(Duration.ofMinutes(1));
    int enqueued = Scheduler.builder(client).clock(clock).build().tick();
    out.append(" enqueued=").append(enqueued);
    return out.toString();
  }
}
