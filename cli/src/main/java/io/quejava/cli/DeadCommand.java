package io.quejava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.quejava.ext.deadletter.DeadJob;
import io.quejava.ext.deadletter.DeadJobFilter;
import io.quejava.ext.deadletter.DeadLetters;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "dead", description = "Dead letters (the deadletter extension): schema 3's que_dead_jobs, 4-7's expired jobs.",
    subcommands = {DeadCommand.ListDead.class, DeadCommand.Replay.class, DeadCommand.Purge.class})
final class DeadCommand implements Runnable {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: list, replay or purge");
  }

  static DeadLetters dead(Cli cli) {
    if (DeadLetters.migrator(cli.dataSource()).currentVersion() == 0) {
      throw new CliException(Que.FAILED, "the deadletter extension is not installed (que migrate --extension deadletter)");
    }
    return DeadLetters.create(cli.client());
  }

  static final class Filter {
    @Option(names = "--queue", paramLabel = "QUEUE")
    String queue;

    @Option(names = "--class", paramLabel = "CLASS")
    String jobClass;

    @Option(names = "--error", paramLabel = "TEXT", description = "last error contains TEXT")
    String error;

    boolean any() {
      return queue != null || jobClass != null || error != null;
    }

    DeadJobFilter filter(int limit) {
      DeadJobFilter f = DeadJobFilter.all().limit(limit);
      if (queue != null) {
        f = f.queue(queue);
      }
      if (jobClass != null) {
        f = f.jobClass(jobClass);
      }
      if (error != null) {
        f = f.errorContains(error);
      }
      return f;
    }
  }

  @Command(name = "list", description = "Dead jobs, the most recent death first.")
  static final class ListDead extends Cli {
    @picocli.CommandLine.Mixin
    Filter filter = new Filter();

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50")
    int limit;

    @Override
    public Integer call() {
      List<DeadJob> jobs = dead(this).list(filter.filter(limit));
      if (json) {
        ArrayNode a = array();
        for (DeadJob j : jobs) {
          a.addObject().put("id", j.id()).put("queue", j.queue()).put("job_class", j.jobClass()).put("args", j.argsJson())
              .put("error_count", j.errorCount()).put("last_error", j.lastError().orElse(null)).put("died_at", iso(j.diedAt()))
              .put("reason", j.reason()).put("worker", j.workerName().orElse(null));
        }
        printJson(a);
        return Que.OK;
      }
      if (jobs.isEmpty()) {
        println("no dead jobs");
        return Que.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (DeadJob j : jobs) {
        rows.add(row(j.id(), j.queue().isEmpty() ? "''" : j.queue(), j.jobClass(), j.errorCount(), j.diedAt(), j.reason(),
            Cli.firstLine(j.lastError().orElse(""))));
      }
      print(Text.table(List.of("ID", "QUEUE", "CLASS", "ERRORS", "DIED AT", "REASON", "LAST ERROR"), rows, 60));
      return Que.OK;
    }
  }

  @Command(name = "replay", description = {"Put dead jobs back in their queue (error_count 0, run now).",
      "Jobs whose lock a session holds are skipped and named."})
  static final class Replay extends Cli {
    @Parameters(paramLabel = "ID", arity = "0..*")
    List<Long> ids = new ArrayList<>();

    @picocli.CommandLine.Mixin
    Filter filter = new Filter();

    @Option(names = "--all", description = "replay every dead job (with or without a filter)")
    boolean all;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "10000")
    int limit;

    @Option(names = {"-y", "--yes"})
    boolean yes;

    @Override
    public Integer call() {
      boolean bulk = all || filter.any();
      if (ids.isEmpty() == !bulk) {
        throw usage(ids.isEmpty() ? "give dead job ids, a filter (--queue, --class, --error) or --all" : "give ids or a filter, not both");
      }
      DeadLetters dead = dead(this);
      Set<Long> targets = new LinkedHashSet<>(ids);
      if (!ids.isEmpty()) {
        requireDead(dead, targets);
      } else {
        dead.list(filter.filter(Math.min(limit, DeadJobFilter.MAX_LIMIT))).forEach(j -> targets.add(j.id()));
        if (targets.isEmpty()) {
          println("no dead jobs match; nothing to replay");
          return Que.OK;
        }
        confirm(yes, "replay " + targets.size() + " dead job(s)?");
      }
      List<Long> replayed = new ArrayList<>();
      java.util.function.IntConsumer p = progress("replay", targets.size());
      for (List<Long> chunk : chunks(new ArrayList<>(targets), DeadLetters.MAX_IDS)) {
        replayed.addAll(dead.replay(chunk));
        p.accept(replayed.size());
      }
      List<Long> skipped = targets.stream().filter(i -> !replayed.contains(i)).toList();
      if (json) {
        printJson(object().<com.fasterxml.jackson.databind.node.ObjectNode>set("replayed", JSON.valueToTree(replayed))
            .set("skipped", JSON.valueToTree(skipped)));
      } else {
        println("replayed " + replayed.size() + " job(s)");
        if (!skipped.isEmpty()) {
          println("skipped " + skipped.size() + " held by a session or changed meanwhile: "
              + skipped.stream().limit(50).map(String::valueOf).collect(Collectors.joining(", ")));
        }
      }
      return skipped.isEmpty() ? Que.OK : Que.PARTIAL;
    }
  }

  @Command(name = "purge", description = "Delete dead jobs for good: these ids, or those that died before --older-than.")
  static final class Purge extends Cli {
    @Parameters(paramLabel = "ID", arity = "0..*")
    List<Long> ids = new ArrayList<>();

    @Option(names = "--older-than", paramLabel = "DURATION", description = "e.g. 30d, 12h, PT90M")
    String olderThan;

    @Option(names = {"-y", "--yes"})
    boolean yes;

    @Override
    public Integer call() {
      if (ids.isEmpty() == (olderThan == null)) {
        throw usage(ids.isEmpty() ? "give dead job ids or --older-than" : "give ids or --older-than, not both");
      }
      DeadLetters dead = dead(this);
      int n;
      if (olderThan != null) {
        Duration age = parseDuration(olderThan);
        confirm(yes, "delete every dead job that died more than " + olderThan + " ago?");
        n = dead.purgeOlderThan(age);
      } else {
        requireDead(dead, new LinkedHashSet<>(ids));
        n = 0;
        for (List<Long> chunk : chunks(new ArrayList<>(new LinkedHashSet<>(ids)), DeadLetters.MAX_IDS)) {
          n += dead.delete(chunk);
        }
      }
      if (json) {
        printJson(object().put("deleted", n));
      } else {
        println("deleted " + n + " dead job(s)");
      }
      return !ids.isEmpty() && n < new LinkedHashSet<>(ids).size() ? Que.PARTIAL : Que.OK;
    }

    private Duration parseDuration(String s) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(s|m|h|d)").matcher(s.trim());
      if (m.matches()) {
        long v = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
          case "s" -> Duration.ofSeconds(v);
          case "m" -> Duration.ofMinutes(v);
          case "h" -> Duration.ofHours(v);
          default -> Duration.ofDays(v);
        };
      }
      try {
        return Duration.parse(s.trim());
      } catch (java.time.format.DateTimeParseException e) {
        throw usage("--older-than: '" + Text.safe(s) + "' is not a duration (30d, 12h, 90m, 45s or PT1H)");
      }
    }
  }

  /** Refuses, before any change, ids that are not dead jobs. */
  static void requireDead(DeadLetters dead, java.util.Collection<Long> ids) {
    Set<Long> known = new java.util.HashSet<>();
    for (List<Long> chunk : chunks(new ArrayList<>(ids), DeadLetters.MAX_IDS)) {
      known.addAll(dead.existing(chunk));
    }
    List<Long> unknown = ids.stream().filter(i -> !known.contains(i)).toList();
    if (!unknown.isEmpty()) {
      throw new CliException(Que.FAILED, "no dead job with id " + unknown.stream().limit(50).map(String::valueOf)
          .collect(Collectors.joining(", ")) + "; nothing changed");
    }
  }

  static List<List<Long>> chunks(List<Long> ids, int size) {
    List<List<Long>> out = new ArrayList<>();
    for (int i = 0; i < ids.size(); i += size) {
      out.add(ids.subList(i, Math.min(ids.size(), i + size)));
    }
    return out;
  }
}
