package io.quejava.cli;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code que}: the command line of que-java.
 *
 * <p>Exit codes: 0 done; 1 failed (the database said no, a job or schedule that does not exist, a
 * confirmation refused); 2 bad usage (an unknown command or flag, a malformed value); 3 done in
 * part: some jobs were skipped because a worker holds them or they changed meanwhile (the output
 * names them).
 */
@Command(name = "que", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, versionProvider = VersionCommand.Provider.class,
    description = "Operate a Que job queue (que_jobs, schema 3 to 7) from the command line.",
    subcommands = {MigrateCommand.class, SchemaCommand.class, StatusCommand.class, JobsCommand.class,
        EnqueueCommand.class, DeadCommand.class, SchedulesCommand.class, InflightCommand.class,
        WorkCommand.class, DashboardCommand.class, VersionCommand.class, CommandLine.HelpCommand.class},
    footerHeading = "%nEnvironment:%n",
    footer = {
        "  Every flag can come from a variable QUE_<FLAG> (--database-url: QUE_DATABASE_URL, --json: QUE_JSON).",
        "  The database: --database-url, else QUE_DATABASE_URL, else DATABASE_URL, else PGHOST, PGPORT,",
        "  PGDATABASE, PGUSER, PGPASSWORD (libpq's).",
        "%nExit codes:%n  0 done; 1 failed; 2 bad usage; 3 done in part (jobs a worker holds were skipped)."})
public final class Que implements Runnable {
  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int PARTIAL = 3;

  final Map<String, String> env;
  final PrintStream out;
  final PrintStream err;
  final BufferedReader in;
  /** Whether a person watches: progress lines go to stderr only then. */
  final boolean terminal;

  Que(Map<String, String> env, PrintStream out, PrintStream err, InputStream in, boolean terminal) {
    this.env = env;
    this.out = out;
    this.err = err;
    this.in = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    this.terminal = terminal;
  }

  public static void main(String[] args) {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
    int code = run(args, System.getenv(), out, err, System.in, System.console() != null);
    out.flush();
    err.flush();
    System.exit(code);
  }

  /** Runs one command line; returns its exit code. */
  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err, InputStream in, boolean terminal) {
    Que que = new Que(env, out, err, in, terminal);
    CommandLine cl = new CommandLine(que);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setDefaultValueProvider(que::envDefault);
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      Cli.Failure f = Cli.describe(e, cmd);
      err.println("que: " + f.message());
      return f.exitCode();
    });
    cl.setParameterExceptionHandler((e, a) -> {
      err.println("que: " + Text.safe(e.getMessage()));
      CommandLine c = e.getCommandLine();
      err.println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
      return USAGE;
    });
    return cl.execute(args);
  }

  /** QUE_&lt;FLAG&gt; for each option: --database-url reads QUE_DATABASE_URL. */
  private String envDefault(ArgSpec arg) {
    if (arg instanceof OptionSpec o && o.longestName().startsWith("--")) {
      String name = "QUE_" + o.longestName().substring(2).toUpperCase(Locale.ROOT).replace('-', '_');
      String v = env.get(name);
      if (v != null) {
        return v;
      }
    }
    return arg.defaultValue();
  }

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }
}
