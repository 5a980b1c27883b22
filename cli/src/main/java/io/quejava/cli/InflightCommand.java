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
            .put("source", j.source().name().toLowerCase()).put("backend_pid", j.backendPid()).put("host", j.host().orElse(null))
            .put("os_pid", j.osPid().isPresent() ? (Long) j.osPid().getAsLong() : null).put("worker", j.workerName().orElse(null))
            .put("started_at", iso(j.startedAt().orElse(null))).put("last_beat", iso(j.lastBeat().orElse(null)))
            .put("progress", j.progress().isPresent() ? (Integer) j.progress().getAsInt() : null)
            .put("application_name", j.applicationName().orElse(null))
            .put("hung", j.hung()).put("hung_reason", j.hungReason().orElse(null));
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
          j.host().orElse(""), j.osPid().isPresent() ? Long.toString(j.osPid().getAsLong()) : "",
          j.startedAt().map(Object::toString).orElse(""), j.progress().isPresent() ? j.progress().getAsInt() + "%" : "",
          j.hungReason().map(r -> "HUNG: " + r).orElse("")));
    }
    print(Text.table(List.of("JOB", "QUEUE", "CLASS", "SOURCE", "PID", "HOST", "OS PID", "STARTED", "PROGRESS", "HUNG"), rows, 48));
    return Que.OK;
  }
}
