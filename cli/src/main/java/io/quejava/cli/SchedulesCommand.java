package io.quejava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.quejava.Job;
import io.quejava.NewJob;
import io.quejava.ext.schedule.Schedule;
import io.quejava.ext.schedule.ScheduleStatus;
import io.quejava.ext.schedule.Schedules;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "schedules", description = "Cron and interval schedules (the schedule extension).",
    subcommands = {SchedulesCommand.ListSchedules.class, SchedulesCommand.Enable.class, SchedulesCommand.Disable.class,
        SchedulesCommand.RunNow.class})
final class SchedulesCommand implements Runnable {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: list, enable, disable or run-now");
  }

  static Schedules schedules(Cli cli) {
    if (Schedules.migrator(cli.dataSource()).currentVersion() == 0) {
      throw new CliException(Que.FAILED, "the schedule extension is not installed (que migrate --extension schedule)");
    }
    return Schedules.create(cli.dataSource());
  }

  @Command(name = "list", description = "List schedules: timing, job, enabled, next and last run, last error.")
  static final class ListSchedules extends Cli {
    @Override
    public Integer call() {
      List<ScheduleStatus> all = schedules(this).list();
      if (json) {
        ArrayNode a = array();
        for (ScheduleStatus s : all) {
          Schedule d = s.schedule();
          a.addObject().put("name", s.name()).put("cron", d.cron()).put("every", d.every() == null ? null : d.every().toString())
              .put("time_zone", d.timeZone() == null ? null : d.timeZone().getId()).put("job_class", d.jobClass())
              .put("queue", d.queue()).put("priority", d.priority()).put("enabled", s.enabled())
              .put("next_run_at", iso(s.nextRunAt())).put("last_run_at", iso(s.lastRunAt().orElse(null))).put("last_error", s.lastError().orElse(null));
        }
        printJson(a);
        return Que.OK;
      }
      if (all.isEmpty()) {
        println("no schedules");
        return Que.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (ScheduleStatus s : all) {
        Schedule d = s.schedule();
        String timing = d.cron() != null ? d.cron() + " " + d.timeZone() : "every " + d.every();
        rows.add(row(s.name(), timing, d.jobClass(), d.queue() == null ? "(default)" : d.queue(), s.enabled() ? "yes" : "no",
            s.nextRunAt(), s.lastRunAt().map(Object::toString).orElse(""), Cli.firstLine(s.lastError().orElse(""))));
      }
      print(Text.table(List.of("NAME", "TIMING", "CLASS", "QUEUE", "ENABLED", "NEXT RUN", "LAST RUN", "LAST ERROR"), rows, 48));
      return Que.OK;
    }
  }

  abstract static class Named extends Cli {
    @Parameters(paramLabel = "NAME", description = "the schedule's name")
    String name;

    CliException unknown() {
      return new CliException(Que.FAILED, "no schedule named '" + Text.safe(name) + "'");
    }
  }

  @Command(name = "enable", description = "Enable a schedule; its next tick is the next one from now.")
  static final class Enable extends Named {
    @Override
    public Integer call() {
      if (!schedules(this).enable(name)) {
        throw unknown();
      }
      println("enabled '" + Text.safe(name) + "'");
      return Que.OK;
    }
  }

  @Command(name = "disable", description = "Disable a schedule.")
  static final class Disable extends Named {
    @Override
    public Integer call() {
      if (!schedules(this).disable(name)) {
        throw unknown();
      }
      println("disabled '" + Text.safe(name) + "'");
      return Que.OK;
    }
  }

  @Command(name = "run-now", description = "Enqueue the schedule's job now, once (its own timing is unchanged).")
  static final class RunNow extends Named {
    @Override
    public Integer call() {
      ScheduleStatus s = schedules(this).get(name).orElseThrow(this::unknown);
      Schedule d = s.schedule();
      NewJob job = NewJob.ofJson(d.jobClass(), d.argsJson()).priority(d.priority());
      if (d.queue() != null) {
        job = job.queue(d.queue());
      }
      Job done = client().enqueue(job);
      if (json) {
        printJson(object().put("id", done.id()).put("queue", done.queue()).put("job_class", done.jobClass()));
      } else {
        println("enqueued job " + done.id() + " (" + Text.safe(done.jobClass()) + ") for schedule '" + Text.safe(name) + "'");
      }
      return Que.OK;
    }
  }
}
