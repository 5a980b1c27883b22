package io.quejava.cli;

import io.quejava.Migrator;
import io.quejava.ext.ExtensionMigrator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "migrate", description = {
    "Create que_jobs (schema 3, as que-go and Ruby Que 0.x) when there is none, or move it to --to N.",
    "Without --to an existing table is only checked, never changed. Stop every worker (Ruby and Go too)",
    "before --to: 3 -> 4 rewrites every row."})
final class MigrateCommand extends Cli {
  @Option(names = "--to", paramLabel = "N", description = "the schema version to move to (0 to 7; 0 drops the table)")
  Integer to;

  @Option(names = "--dry-run", description = "say what would run, change nothing")
  boolean dryRun;

  @Option(names = "--show-sql", description = "print the SQL of each step (with --dry-run: without running it)")
  boolean showSql;

  @Option(names = "--extension", paramLabel = "NAME", description = "also install or upgrade this que-java extension: deadletter, heartbeat, notify, schedule, timeout (repeatable)")
  List<String> extensions = new ArrayList<>();

  @Override
  public Integer call() {
    if (to != null && (to < 0 || to > Migrator.NEWEST_VERSION)) {
      throw usage("--to must be 0 to " + Migrator.NEWEST_VERSION + ", got " + to);
    }
    for (String e : extensions) {
      if (!SchemaCommand.EXTENSIONS.contains(e)) {
        throw usage("--extension must be one of " + SchemaCommand.EXTENSIONS + ", got '" + Text.safe(e) + "'");
      }
    }
    Migrator migrator = db.schema == null ? Migrator.create(dataSource()) : Migrator.create(dataSource(), db.schema);
    int current = migrator.currentVersion(); // refuses unknown or inconsistent versions before anything runs
    int target = to != null ? to : current == 0 ? Migrator.DEFAULT_VERSION : current;
    List<String> steps = new ArrayList<>();
    if (target > current) {
      for (int v = current + 1; v <= target; v++) {
        steps.add(v + ".up.sql");
      }
    } else {
      for (int v = current; v > target; v--) {
        steps.add(v + ".down.sql");
      }
    }
    if (showSql) {
      for (String s : steps) {
        println("-- migrations/que/" + s);
        println(load(s));
      }
    }
    if (dryRun) {
      if (!json) {
        println(steps.isEmpty() ? "que_jobs is at version " + current + "; nothing to do"
            : "would migrate que_jobs from version " + current + " to " + target + ": " + String.join(", ", steps)
                + (current <= 3 && target >= 4 ? " (rewrites every row)" : ""));
      } else {
        printJson(object().put("from", current).put("to", target).put("dry_run", true)
            .set("steps", JSON.valueToTree(steps)));
      }
      return Que.OK;
    }
    long t0 = System.nanoTime();
    Thread ticker = null;
    if (app().terminal && !steps.isEmpty()) {
      app().err.println("migrating que_jobs from version " + current + " to " + target + " in one transaction...");
      ticker = new Thread(() -> {
        try {
          while (true) {
            Thread.sleep(1000);
            app().err.print("\r" + (System.nanoTime() - t0) / 1_000_000_000 + " s");
            app().err.flush();
          }
        } catch (InterruptedException done) {
          app().err.println();
        }
      }, "que-migrate-progress");
      ticker.setDaemon(true);
      ticker.start();
    }
    int now;
    try {
      now = to == null ? migrator.migrate() : migrator.migrateTo(target);
    } finally {
      if (ticker != null) {
        ticker.interrupt();
      }
    }
    List<String> installed = new ArrayList<>();
    for (String e : extensions) {
      ExtensionMigrator m = db.schema == null ? ExtensionMigrator.create(dataSource(), e)
          : ExtensionMigrator.create(dataSource(), db.schema, e);
      installed.add(e + " " + m.migrate());
    }
    if (json) {
      printJson(object().put("from", current).put("to", now).set("extensions", JSON.valueToTree(installed)));
    } else {
      println(current == now ? "que_jobs is at version " + now + "; nothing to do"
          : "migrated que_jobs from version " + current + " to " + now);
      for (String e : installed) {
        println("extension " + e);
      }
    }
    return Que.OK;
  }

  private static String load(String name) {
    try (InputStream in = Migrator.class.getResourceAsStream("/migrations/que/" + name)) {
      return in == null ? "-- (missing)" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "-- (cannot read: " + e.getMessage() + ")";
    }
  }
}
