package io.quejava.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quejava.AdminResult;
import io.quejava.JobAdmin;
import io.quejava.JobQuery;
import io.quejava.JobSnapshot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "jobs", description = "List, show, retry and delete jobs.",
    subcommands = {JobsCommand.ListJobs.class, JobsCommand.Show.class, JobsCommand.Retry.class, JobsCommand.Delete.class})
final class JobsCommand implements Runnable {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: list, show, retry or delete");
  }

  /** The filters jobs list, retry and delete share. */
  static final class Filter {
    @Option(names = "--queue", paramLabel = "QUEUE", description = "jobs of this queue")
    String queue;

    @Option(names = "--class", paramLabel = "CLASS", description = "jobs of exactly this job class")
    String jobClass;

    @Option(names = "--state", paramLabel = "STATE", description = "ready, scheduled, running, failing, finished or expired")
    String state;

    @Option(names = "--error", paramLabel = "TEXT", description = "jobs whose last error contains TEXT (any case)")
    String error;

    boolean any() {
      return queue != null || jobClass != null || state != null || error != null;
    }

    JobQuery query(int limit) {
      JobQuery q = JobQuery.all().limit(limit);
      if (queue != null) {
        q = q.queue(queue);
      }
      if (jobClass != null) {
        q = q.jobClass(jobClass);
      }
      if (state != null) {
        q = q.state(state);
      }
      if (error != null) {
        q = q.errorContains(error);
      }
      return q;
    }

    String describe() {
      List<String> parts = new ArrayList<>();
      if (queue != null) {
        parts.add("queue '" + Text.safe(queue) + "'");
      }
      if (jobClass != null) {
        parts.add("class '" + Text.safe(jobClass) + "'");
      }
      if (state != null) {
        parts.add("state " + Text.safe(state));
      }
      if (error != null) {
        parts.add("error containing '" + Text.safe(error) + "'");
      }
      return String.join(", ", parts);
    }
  }

  @Command(name = "list", description = "List jobs in lock order (priority, run_at, id).")
  static final class ListJobs extends Cli {
    @picocli.CommandLine.Mixin
    Filter filter = new Filter();

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "at most N jobs (default: ${DEFAULT-VALUE})")
    int limit;

    @Override
    public Integer call() {
      List<JobSnapshot> jobs = JobAdmin.create(client()).list(filter.query(limit));
      if (json) {
        ArrayNode a = array();
        jobs.forEach(j -> a.add(toJson(j)));
        printJson(a);
        return Que.OK;
      }
      if (jobs.isEmpty()) {
        println("no jobs");
        return Que.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (JobSnapshot j : jobs) {
        rows.add(row(j.id(), j.queue().isEmpty() ? "''" : j.queue(), j.priority(), j.runAt(), j.jobClass(),
            j.state().name().toLowerCase(Locale.ROOT) + (j.failing() ? ", failing" : ""), j.errorCount(),
            Cli.firstLine(j.lastError().orElse("")), j.argsJson()));
      }
      print(Text.table(List.of("ID", "QUEUE", "PRI", "RUN AT", "CLASS", "STATE", "ERRORS", "LAST ERROR", "ARGS"), rows, 48));
      return Que.OK;
    }
  }

  @Command(name = "show", description = "Show one job: every column, the whole last error.")
  static final class Show extends Cli {
    @Parameters(paramLabel = "ID", description = "the job id")
    long id;

    @Override
    public Integer call() {
      JobSnapshot j = JobAdmin.create(client()).find(id)
          .orElseThrow(() -> new CliException(Que.FAILED, "no job with id " + id));
      if (json) {
        printJson(toJson(j));
        return Que.OK;
      }
      println("id:           " + j.id());
      println("queue:        " + (j.queue().isEmpty() ? "''" : Text.safe(j.queue())));
      println("class:        " + Text.safe(j.jobClass()));
      println("state:        " + j.state().name().toLowerCase(Locale.ROOT) + (j.failing() ? " (failing)" : ""));
      println("priority:     " + j.priority());
      println("run at:       " + j.runAt());
      println("args:         " + Text.safe(j.argsJson()));
      j.kwargsJson().ifPresent(k -> println("kwargs:       " + Text.safe(k)));
      println("errors:       " + j.errorCount());
      j.finishedAt().ifPresent(t -> println("finished at:  " + t));
      j.expiredAt().ifPresent(t -> println("expired at:   " + t));
      if (j.lastError().isPresent()) {
        println("last error:");
        Text.safeLines(j.lastError().get()).forEach(l -> println("  " + l));
      }
      if (j.lastErrorBacktrace().isPresent()) {
        println("backtrace:");
        Text.safeLines(j.lastErrorBacktrace().get()).forEach(l -> println("  " + l));
      }
      return Que.OK;
    }
  }

  /** Retry and delete: ids, or a filter with confirmation. */
  abstract static class Write extends Cli {
    @Parameters(paramLabel = "ID", arity = "0..*", description = "job ids")
    List<Long> ids = new ArrayList<>();

    @picocli.CommandLine.Mixin
    Filter filter = new Filter();

    @Option(names = "--limit", paramLabel = "N", defaultValue = "10000",
        description = "with a filter: at most N jobs (default: ${DEFAULT-VALUE}, at most " + JobQuery.MAX_LIMIT + ")")
    int limit;

    @Option(names = {"-y", "--yes"}, description = "do not ask before changing the jobs a filter matches")
    boolean yes;

    abstract String verb();

    abstract AdminResult apply(JobAdmin admin, Collection<Long> ids, java.util.function.IntConsumer progress);

    @Override
    public Integer call() {
      if (ids.isEmpty() == !filter.any()) {
        throw usage(ids.isEmpty() ? "give job ids or a filter (--queue, --class, --state, --error)"
            : "give job ids or a filter, not both");
      }
      JobAdmin admin = JobAdmin.create(client());
      Set<Long> targets = new LinkedHashSet<>(ids);
      if (!ids.isEmpty()) {
        Set<Long> found = admin.findAll(targets).stream().map(JobSnapshot::id).collect(Collectors.toSet());
        List<Long> unknown = targets.stream().filter(i -> !found.contains(i)).toList();
        if (!unknown.isEmpty()) {
          throw new CliException(Que.FAILED, "no job with id " + unknown.stream().map(String::valueOf)
              .collect(Collectors.joining(", ")) + "; nothing changed");
        }
      } else {
        admin.list(filter.query(limit)).forEach(j -> targets.add(j.id()));
        if (targets.isEmpty()) {
          println("no jobs match " + filter.describe() + "; nothing to " + verb());
          return Que.OK;
        }
        confirm(yes, verb() + " " + targets.size() + " job(s) matching " + filter.describe()
            + (targets.size() == limit ? " (the first " + limit + ")" : "") + "?");
      }
      AdminResult r = apply(admin, targets, progress(verb(), targets.size()));
      if (json) {
        ObjectNode o = object();
        o.set("done", JSON.valueToTree(r.done()));
        o.set("held", JSON.valueToTree(r.held()));
        o.set("missing", JSON.valueToTree(r.missing()));
        printJson(o);
      } else {
        println(past() + " " + r.done().size() + " job(s)" + (r.done().size() <= 20 && !r.done().isEmpty()
            ? ": " + join(r.done()) : ""));
        if (!r.held().isEmpty()) {
          println("skipped " + r.held().size() + " job(s) a worker holds (running now, any language): " + join(r.held()));
        }
        if (!r.missing().isEmpty()) {
          println("skipped " + r.missing().size() + " job(s) that changed or went away meanwhile: " + join(r.missing()));
        }
      }
      return r.held().isEmpty() && r.missing().isEmpty() ? Que.OK : Que.PARTIAL;
    }

    abstract String past();

    private static String join(List<Long> ids) {
      String s = ids.stream().limit(50).map(String::valueOf).collect(Collectors.joining(", "));
      return ids.size() > 50 ? s + ", ..." : s;
    }
  }

  @Command(name = "retry", description = {"Run jobs now (run_at = now; on schema 4-7 an expired job comes back).",
      "Each job is locked first (pg_try_advisory_lock); jobs a worker holds are skipped and named."})
  static final class Retry extends Write {
    @Override
    String verb() {
      return "retry";
    }

    @Override
    String past() {
      return "retried";
    }

    @Override
    AdminResult apply(JobAdmin admin, Collection<Long> ids, java.util.function.IntConsumer progress) {
      return admin.retry(ids, progress);
    }
  }

  @Command(name = "delete", description = {"Delete jobs.",
      "Each job is locked first (pg_try_advisory_lock); jobs a worker holds are skipped and named."})
  static final class Delete extends Write {
    @Override
    String verb() {
      return "delete";
    }

    @Override
    String past() {
      return "deleted";
    }

    @Override
    AdminResult apply(JobAdmin admin, Collection<Long> ids, java.util.function.IntConsumer progress) {
      return admin.delete(ids, progress);
    }
  }

  static ObjectNode toJson(JobSnapshot j) {
    ObjectNode o = Cli.JSON.createObjectNode().put("id", j.id()).put("queue", j.queue()).put("priority", j.priority())
        .put("run_at", j.runAt().toString()).put("job_class", j.jobClass());
    o.set("args", parse(j.argsJson()));
    j.kwargsJson().ifPresent(k -> o.set("kwargs", parse(k)));
    o.put("error_count", j.errorCount()).put("last_error", j.lastError().orElse(null))
        .put("last_error_backtrace", j.lastErrorBacktrace().orElse(null))
        .put("finished_at", Cli.iso(j.finishedAt())).put("expired_at", Cli.iso(j.expiredAt()))
        .put("state", j.state().name().toLowerCase(Locale.ROOT)).put("failing", j.failing());
    return o;
  }

  private static JsonNode parse(String json) {
    try {
      return Cli.JSON.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return Cli.JSON.getNodeFactory().textNode(json);
    }
  }
}
