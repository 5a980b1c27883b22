package io.quejava.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quejava.Client;
import io.quejava.QueException;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import javax.sql.DataSource;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** What every command shares: the application's streams and environment, the database, --json. */
abstract class Cli implements Callable<Integer> {
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Spec
  CommandSpec spec;

  @Mixin
  DbOptions db = new DbOptions();

  @Option(names = "--json", description = "print JSON (for scripts) instead of a table")
  boolean json;

  Que app() {
    return (Que) spec.root().userObject();
  }

  DataSource dataSource() {
    return db.dataSource(app().env);
  }

  Client client() {
    return db.client(app().env);
  }

  void println(String s) {
    app().out.println(s);
  }

  void print(String s) {
    app().out.print(s);
  }

  void printJson(Object node) {
    try {
      app().out.println(JSON.writeValueAsString(node));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  ObjectNode object() {
    return JSON.createObjectNode();
  }

  ArrayNode array() {
    return JSON.createArrayNode();
  }

  static String iso(Optional<Instant> t) {
    return t.map(Instant::toString).orElse(null);
  }

  static String iso(Instant t) {
    return t == null ? null : t.toString();
  }

  /** A usage error (exit 2) about this command. */
  CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  /**
   * Asks before a bulk change unless --yes: reads a line from stdin; anything but y/yes aborts with
   * exit 1 and nothing changed.
   */
  void confirm(boolean yes, String question) {
    if (yes) {
      return;
    }
    app().err.print(question + " [y/N] ");
    app().err.flush();
    String answer;
    try {
      answer = app().in.readLine();
    } catch (java.io.IOException e) {
      answer = null;
    }
    if (answer == null || !(answer.trim().equalsIgnoreCase("y") || answer.trim().equalsIgnoreCase("yes"))) {
      throw new CliException(Que.FAILED, "not confirmed; nothing changed (pass --yes to skip the question)");
    }
  }

  /** Progress on stderr, only where a person watches, for long operations. */
  java.util.function.IntConsumer progress(String what, int total) {
    if (!app().terminal || total < 100) {
      return n -> {};
    }
    int step = Math.max(1, total / 100);
    return n -> {
      if (n % step == 0 || n == total) {
        app().err.print("\r" + what + ": " + n + "/" + total);
        if (n == total) {
          app().err.println();
        }
        app().err.flush();
      }
    };
  }

  /** One failure, one line. */
  record Failure(int exitCode, String message) {}

  static Failure describe(Exception e, CommandLine cmd) {
    Object user = cmd.getCommandSpec().userObject();
    DbOptions db = user instanceof Cli c ? c.db : null;
    String password = db == null ? null : db.password();
    if (e instanceof CliException c) {
      return new Failure(c.exitCode(), redact(c.getMessage(), password));
    }
    if (e instanceof IllegalArgumentException) {
      return new Failure(Que.USAGE, redact(Text.safe(e.getMessage()), password));
    }
    SQLException sql = null;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s) {
        sql = s;
        break;
      }
    }
    String state = sql == null ? null : sql.getSQLState();
    if (state != null && (state.startsWith("08") || state.startsWith("28") || state.equals("3D000"))) {
      String where = db == null ? "the database" : db.where();
      return new Failure(Que.FAILED, "cannot connect to " + Text.safe(where) + ": " + firstLine(redact(sql.getMessage(), password)));
    }
    if (e instanceof QueException) {
      String m = firstLine(redact(Text.safe(e.getMessage()), password));
      if (m.contains("does not exist: create it with")) {
        m = m.substring(0, m.indexOf(": create it with")) + ": create it with que migrate";
      }
      return new Failure(Que.FAILED, m);
    }
    return new Failure(Que.FAILED, firstLine(redact(Text.safe(e.toString()), password)));
  }

  static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** The message with the password, wherever it appears, replaced. */
  static String redact(String message, String password) {
    if (message == null) {
      return "";
    }
    if (password == null || password.isEmpty()) {
      return message;
    }
    return message.replace(password, "***");
  }

  static List<String> row(Object... cells) {
    java.util.ArrayList<String> r = new java.util.ArrayList<>();
    for (Object c : cells) {
      r.add(c == null ? "" : Text.safe(c.toString()));
    }
    return r;
  }
}
