package io.quejava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.quejava.ext.heartbeat.InFlight;
import io.quejava.ext.heartbeat.InFlightJob;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "inflight", description = {
    "Every job some session holds now: que-java jobs from their heartbeats (hung ones flagged),",
    "Ruby and Go jobs from their advisory locks."})
final class InflightCommand extends Cli {
  @Option(names = "--hung", description = "only hung jobs")
  boolean hungOnly;

  @Option(names = "--stale-beats", paramLabel = "N", defaultValue = "3", description = "a heartbeat older than N beat intervals is stale (default: ${DEFAULT-VALUE})")
  int staleBeats;

  @Override
  public Integer call() {
    client(); // checks the table and its version first
    List<InFlightJob> jobs = InFlight.list(dataSource(), staleBeats).stream().filter(j -> !hungOnly || j.hung()).toList();
    if (json) {
      ArrayNode a = array();
      for (InFlightJob j : jobs) {
        a.addObject().put("job_id", j.jobId()).put("queue", j.queue()).put("job_class", j.jobClass())
            .put("source", j.source().name().toLowerCase()).put("backend_pid", j.backendPid()).put("host", j.host())
            .put("os_pid", j.osPid()).put("worker", j.workerName()).put("started_at", iso(j.startedAt()))
            .put("last_beat", iso(j.lastBeat())).put("progress", j.progress()).put("application_name", j.applicationName())
            .put("hung", j.hung()).put("hung_reason", j.hung() ? j.hungReason() : null);
      }
      printJson(a);
      return Que.OK;
    }
    if (jobs.isEmpty()) {
      println(hungOnly ? "no hung jobs" : "no jobs in flight");
      return Que.OK;
    }
    List<List<String>> rows = new ArrayList<>();
    for (InFlightJob j : jobs) {
      rows.add(row(j.jobId(), j.queue(), j.jobClass(), j.source().name().toLowerCase(), j.backendPid(),
          j.host() == null ? "" : j.host(), j.osPid() == null ? "" : j.osPid(),
          j.startedAt() == null ? "" : j.startedAt(), j.progress() == null ? "" : j.progress() + "%",
          j.hung() ? "HUNG: " + j.hungReason() : ""));
    }
    print(Text.table(List.of("JOB", "QUEUE", "CLASS", "SOURCE", "PID", "HOST", "OS PID", "STARTED", "PROGRESS", "HUNG"), rows, 48));
    return Que.OK;
  }
}
