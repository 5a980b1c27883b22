package io.quejava.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.quejava.Job;
import io.quejava.NewJob;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "enqueue", description = {
    "Enqueue one job. Each ARG is one positional arg: JSON when it parses as JSON (42, true, null,",
    "\"text\", [1,2], {\"a\":1}), a string otherwise. Or give the whole array with --args."})
final class EnqueueCommand extends Cli {
  private static final Pattern RELATIVE = Pattern.compile("\\+(\\d+)(ms|s|m|h|d)");

  @Parameters(index = "0", paramLabel = "CLASS", description = "the job class the consumer resolves (Ruby constant path, Go/Java WorkMap key)")
  String jobClass;

  @Parameters(index = "1..*", paramLabel = "ARG", arity = "0..*", description = "positional args")
  List<String> args = new ArrayList<>();

  @Option(names = "--args", paramLabel = "JSON", description = "the args as one JSON array (instead of ARG...)")
  String argsJson;

  @Option(names = "--kwargs", paramLabel = "JSON", description = "schema 6-7: keyword args, a JSON object")
  String kwargsJson;

  @Option(names = "--queue", paramLabel = "QUEUE", description = "default: '' on schema 3, 'default' on 4-7")
  String queue;

  @Option(names = "--priority", paramLabel = "P", description = "lower runs first (default: 100)")
  Integer priority;

  @Option(names = "--run-at", paramLabel = "TIME", description = "ISO-8601 time (2026-12-24T18:00:00Z) or +N[ms|s|m|h|d] from now; default: the database's now()")
  String runAt;

  @Option(names = "--tag", paramLabel = "TAG", description = "schema 4-7: a tag (repeatable, at most 5)")
  List<String> tags = new ArrayList<>();

  @Override
  public Integer call() {
    if (argsJson != null && !args.isEmpty()) {
      throw usage("give ARG... or --args, not both");
    }
    String json;
    if (argsJson != null) {
      JsonNode n = readJson(argsJson, "--args");
      if (!n.isArray()) {
        throw usage("--args must be a JSON array, got " + n.getNodeType().name().toLowerCase());
      }
      json = argsJson;
    } else {
      ArrayNode a = array();
      for (String s : args) {
        a.add(asValue(s));
      }
      json = a.toString();
    }
    NewJob job = NewJob.ofJson(jobClass, json);
    if (queue != null) {
      job = job.queue(queue);
    }
    if (priority != null) {
      job = job.priority(priority);
    }
    if (runAt != null) {
      job = job.runAt(parseTime(runAt));
    }
    if (kwargsJson != null) {
      JsonNode n = readJson(kwargsJson, "--kwargs");
      if (!n.isObject()) {
        throw usage("--kwargs must be a JSON object");
      }
      job = job.kwargsJson(kwargsJson);
    }
    if (!tags.isEmpty()) {
      job = job.tags(tags.toArray(new String[0]));
    }
    Job done = client().enqueue(job);
    if (json()) {
      printJson(object().put("id", done.id()).put("queue", done.queue()).put("priority", done.priority())
          .put("run_at", done.runAt().toString()).put("job_class", done.jobClass()));
    } else {
      println("enqueued job " + done.id() + " (" + Text.safe(done.jobClass()) + ") in queue "
          + (done.queue().isEmpty() ? "''" : "'" + Text.safe(done.queue()) + "'") + ", run at " + done.runAt());
    }
    return Que.OK;
  }

  private boolean json() {
    return json;
  }

  private JsonNode readJson(String text, String what) {
    try {
      return JSON.readTree(text);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw usage(what + " is not valid JSON: " + Text.safe(Cli.firstLine(e.getOriginalMessage())));
    }
  }

  private static JsonNode asValue(String s) {
    try {
      JsonNode n = JSON.readTree(s);
      if (n != null && !n.isMissingNode()) {
        return n;
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException notJson) {
      // a plain string
    }
    return JSON.getNodeFactory().textNode(s);
  }

  private Instant parseTime(String s) {
    Matcher m = RELATIVE.matcher(s.trim());
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      Duration d = switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
      return Instant.now().plus(d);
    }
    try {
      return OffsetDateTime.parse(s.trim()).toInstant();
    } catch (DateTimeParseException e) {
      throw usage("--run-at: '" + Text.safe(s) + "' is neither an ISO-8601 time with an offset nor +N[ms|s|m|h|d]");
    }
  }
}
