package io.quejava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quejava.JobClassStats;
import io.quejava.LockHolder;
import io.quejava.QueueStats;
import io.quejava.Statistics;
import io.quejava.StatsReport;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "status", description = {
    "One line per queue: ready, scheduled, running (locked by any worker, any language), failing,",
    "finished and expired (schema 4-7), dead letters, and the age of the oldest ready job.",
    "Figures marked ~ are estimates (a block sample of a large table)."})
final class StatusCommand extends Cli {
  @Option(names = "--queue", paramLabel = "QUEUE", description = "the figures of this queue per job class")
  String queue;

  @Option(names = "--holders", description = "also list the sessions holding jobs (language, host, pid where known)")
  boolean holders;

  @Override
  public Integer call() {
    Statistics stats = Statistics.create(client());
    if (queue != null) {
      return byClass(stats);
    }
    StatsReport r = stats.summary();
    List<LockHolder> hs = holders ? stats.holders() : List.of();
    boolean modern = r.schemaVersion() >= 4;
    if (json) {
      ObjectNode o = object().put("taken_at", r.takenAt().toString()).put("schema_version", r.schemaVersion())
          .put("estimated", r.estimated()).put("running_unlocated", r.runningUnlocated())
          .put("exact_limit", r.exactLimit()).put("dead_letters_installed", r.deadLetters());
      ArrayNode qs = o.putArray("queues");
      for (QueueStats q : r.queues()) {
        ObjectNode n = qs.addObject().put("queue", q.queue()).put("ready", q.ready()).put("scheduled", q.scheduled())
            .put("running", q.running()).put("failing", q.failing());
        if (modern) {
          n.put("finished", q.finished()).put("expired", q.expired());
        }
        if (q.dead().isPresent()) {
          n.put("dead", q.dead().getAsLong());
        }
        n.put("oldest_ready_at", iso(q.oldestReadyAt())).put("oldest_ready_age_seconds", q.oldestReadyAge().toMillis() / 1000.0)
            .put("estimated", q.estimated());
      }
      if (holders) {
        ArrayNode h = o.putArray("holders");
        for (LockHolder x : hs) {
          h.addObject().put("backend_pid", x.backendPid()).put("locks", x.locks()).put("language", x.language())
              .put("host", x.host().orElse(null)).put("os_pid", x.osPid().isPresent() ? x.osPid().getAsLong() : null)
              .put("application_name", x.applicationName().orElse(null)).put("client_address", x.clientAddress().orElse(null))
              .put("state", x.state().orElse(null));
        }
      }
      printJson(o);
      return Que.OK;
    }
    List<String> headers = new ArrayList<>(List.of("QUEUE", "READY", "SCHEDULED", "RUNNING", "FAILING"));
    if (modern) {
      headers.addAll(List.of("FINISHED", "EXPIRED"));
    }
    if (r.deadLetters()) {
      headers.add("DEAD");
    }
    headers.add("OLDEST READY");
    List<List<String>> rows = new ArrayList<>();
    for (QueueStats q : r.queues()) {
      String e = q.estimated() ? "~" : "";
      List<String> row = new ArrayList<>(row(q.queue().isEmpty() ? "''" : q.queue(), e + q.ready(), e + q.scheduled(),
          q.running(), e + q.failing()));
      if (modern) {
        row.addAll(row(e + q.finished(), e + q.expired()));
      }
      if (r.deadLetters()) {
        row.add(q.dead().isPresent() ? (modern ? e : "") + q.dead().getAsLong() : "");
      }
      row.add(q.oldestReadyAt().isPresent() ? Text.age(q.oldestReadyAge()) : "-");
      rows.add(row);
    }
    if (rows.isEmpty()) {
      println("no jobs (que_jobs schema " + r.schemaVersion() + ")");
    } else {
      print(Text.table(headers, rows, 40));
    }
    if (r.estimated()) {
      println("~ estimate from a block sample (queues over " + r.exactLimit() + " rows); running and oldest ready are exact");
    }
    if (r.runningUnlocated() > 0) {
      println(r.runningUnlocated() + " more job lock(s) held on ids not found at the head of any queue"
          + " (running jobs behind more urgent ones, or the application's own bigint advisory locks)");
    }
    if (holders) {
      println("");
      List<List<String>> hr = new ArrayList<>();
      for (LockHolder x : hs) {
        hr.add(row(x.backendPid(), x.locks(), x.language(), x.host().orElse(""),
            x.osPid().isPresent() ? x.osPid().getAsLong() : "", x.applicationName().orElse(""),
            x.clientAddress().orElse(""), x.state().orElse("")));
      }
      print(hr.isEmpty() ? "no session holds a job\n"
          : Text.table(List.of("PID", "LOCKS", "LANGUAGE", "HOST", "OS PID", "APPLICATION", "ADDRESS", "STATE"), hr, 40));
    }
    return Que.OK;
  }

  private int byClass(Statistics stats) {
    List<JobClassStats> rows = stats.byJobClass(queue);
    if (json) {
      ArrayNode a = array();
      for (JobClassStats c : rows) {
        a.addObject().put("queue", c.queue()).put("job_class", c.jobClass()).put("ready", c.ready())
            .put("scheduled", c.scheduled()).put("running", c.running()).put("failing", c.failing())
            .put("finished", c.finished()).put("expired", c.expired()).put("oldest_ready_at", iso(c.oldestReadyAt()))
            .put("oldest_ready_age_seconds", c.oldestReadyAge().toMillis() / 1000.0).put("estimated", c.estimated());
      }
      printJson(a);
      return Que.OK;
    }
    boolean modern = stats.schemaVersion() >= 4;
    List<List<String>> t = new ArrayList<>();
    boolean est = false;
    for (JobClassStats c : rows) {
      String e = c.estimated() ? "~" : "";
      est |= c.estimated();
      List<String> r = new ArrayList<>(row(c.jobClass(), e + c.ready(), e + c.scheduled(), e + c.running(), e + c.failing()));
      if (modern) {
        r.addAll(row(e + c.finished(), e + c.expired()));
      }
      r.add(c.oldestReadyAt().isPresent() ? Text.age(c.oldestReadyAge()) : "-");
      t.add(r);
    }
    List<String> headers = new ArrayList<>(List.of("CLASS", "READY", "SCHEDULED", "RUNNING", "FAILING"));
    if (modern) {
      headers.addAll(List.of("FINISHED", "EXPIRED"));
    }
    headers.add("OLDEST READY");
    if (t.isEmpty()) {
      println("no jobs in queue '" + Text.safe(queue) + "'");
    } else {
      print(Text.table(headers, t, 60));
    }
    if (est) {
      println("~ estimate from a block sample");
    }
    return Que.OK;
  }
}
