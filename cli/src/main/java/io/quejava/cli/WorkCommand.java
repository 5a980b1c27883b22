package io.quejava.cli;

import com.sun.net.httpserver.HttpServer;
import io.quejava.Client;
import io.quejava.HandlerProvider;
import io.quejava.WorkMap;
import io.quejava.WorkerPool;
import io.quejava.ext.deadletter.DeadLetterInterceptor;
import io.quejava.ext.heartbeat.Heartbeats;
import io.quejava.ext.notify.NotifyWakeups;
import io.quejava.ext.schedule.Scheduler;
import io.quejava.ext.timeout.Timeouts;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code que work}: the handlers an application ships (found through {@link HandlerProvider} and
 * ServiceLoader), on one pool of --workers workers over every --queue, until SIGTERM or SIGINT,
 * which stop taking jobs and give running ones until --shutdown-timeout. {@code --queue name=N}
 * caps that queue at N of the pool's workers at once; the queues are tried in the order given.
 */
@Command(name = "work", description = {
    "Run the job handlers an application ships: every io.quejava.HandlerProvider on --classpath",
    "(META-INF/services). SIGTERM or SIGINT stop taking jobs and wait for running ones until",
    "--shutdown-timeout. Exits 0 when every job ended in time, 1 otherwise."})
final class WorkCommand extends Cli {
  private static final Pattern QUEUE_SPEC = Pattern.compile("(.*?)(?:=(\\d+))?");

  @Option(names = "--queue", paramLabel = "NAME[=N]", description = "a queue to work, optionally with the most workers it may take at once (repeatable; tried in the order given; default: the default queue)")
  List<String> queues = new ArrayList<>();

  @Option(names = "--workers", paramLabel = "N", defaultValue = "4", description = "workers of the pool, shared by every queue (default: ${DEFAULT-VALUE})")
  int workers;

  @Option(names = "--classpath", paramLabel = "PATH", description = "jars or folders holding the handlers, separated by ':' (';' on Windows) (repeatable)")
  List<String> classpath = new ArrayList<>();

  @Option(names = "--wake-interval", paramLabel = "DURATION", defaultValue = "5s", converter = Durations.class,
      description = "how often an idle pool polls (default: ${DEFAULT-VALUE})")
  Duration wakeInterval;

  @Option(names = "--shutdown-timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Durations.class,
      description = "how long running jobs get after SIGTERM/SIGINT (default: ${DEFAULT-VALUE})")
  Duration shutdownTimeout;

  @Option(names = "--notify", description = "wake idle workers by LISTEN/NOTIFY (installs the trigger if missing)")
  boolean notify;

  @Option(names = "--heartbeats", description = "write heartbeats for running jobs (installs que_heartbeats if missing)")
  boolean heartbeats;

  @Option(names = "--timeout", paramLabel = "DURATION", converter = Durations.class, description = "cancel jobs that run longer (the timeout extension)")
  Duration timeout;

  @Option(names = "--dead-letters", paramLabel = "N", description = "give a job up after N attempts and keep it as a dead letter (installs the extension if missing)")
  Integer deadLetters;

  @Option(names = "--schedules", description = "also enqueue due cron and interval schedules (the schedule extension)")
  boolean schedules;

  @Option(names = "--batched-completion", paramLabel = "MAXJOBS[/MAXDELAY]",
      description = {"opt-in: each worker deletes its succeeded jobs up to MAXJOBS (1 to 1000) at a time in one"
          + " statement and commit; none waits longer than MAXDELAY (1ms to 10s, default 50ms). Fewer commits,"
          + " but a crash or a forced stop may re-run up to MAXJOBS succeeded jobs per worker: for idempotent"
          + " jobs only (for instance 50/20ms)"})
  String batchedCompletion;

  @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
      description = "trace, debug, info, warn or error: the library's and the handlers' logs on stderr (default: ${DEFAULT-VALUE})")
  String logLevel;

  @Option(names = "--probe-port", paramLabel = "PORT", description = "serve /health/live, /health/ready and /stats (the pools' figures as JSON) on this port (0: any free port, printed)")
  Integer probePort;

  @Override
  public Integer call() throws Exception {
    if (!List.of("trace", "debug", "info", "warn", "error").contains(logLevel)) {
      throw usage("--log-level must be trace, debug, info, warn or error, got '" + Text.safe(logLevel) + "'");
    }
    // Read when the first logger is made, which in the que process is after this point.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", logLevel);
    if (workers < 1 || workers > 1000) {
      throw usage("--workers must be 1 to 1000, got " + workers);
    }
    BatchedCompletion batched = batchedCompletion == null ? null : parseBatchedCompletion(batchedCompletion);
    Map<String, Integer> specs = new LinkedHashMap<>(); // queue to its limit, or null
    for (String q : queues) {
      var m = QUEUE_SPEC.matcher(q);
      m.matches();
      Integer n = m.group(2) == null ? null : Integer.valueOf(m.group(2));
      if (n != null && (n < 1 || n > 1000)) {
        throw usage("--queue " + Text.safe(q) + ": the worker count must be 1 to 1000");
      }
      if (specs.containsKey(m.group(1))) {
        throw usage("--queue " + Text.safe(m.group(1)) + " is given twice");
      }
      specs.put(m.group(1), n);
    }
    WorkMap work = loadHandlers();
    Client client = client();
    if (specs.isEmpty()) {
      specs.put(client.defaultQueue(), null);
    }
    if (notify) {
      NotifyWakeups.install(dataSource());
    }
    if (heartbeats) {
      Heartbeats.install(dataSource());
    }
    if (deadLetters != null) {
      io.quejava.ext.deadletter.DeadLetters.migrator(dataSource()).migrate();
    }
    if (timeout != null) {
      Timeouts.install(dataSource());
    }
    List<WorkerPool> pools = new ArrayList<>();
    {
      WorkerPool.Builder b = WorkerPool.builder(client, work).workers(workers).wakeInterval(wakeInterval).name("que-worker");
      for (Map.Entry<String, Integer> e : specs.entrySet()) {
        if (e.getValue() == null) {
          b.queue(e.getKey());
        } else {
          b.queue(e.getKey(), e.getValue());
        }
      }
      if (batched != null) {
        b.batchedCompletion(batched.maxJobs(), batched.maxDelay());
      }
      if (deadLetters != null) {
        b.interceptor(DeadLetterInterceptor.builder(client).maxAttempts(deadLetters).build());
      }
      if (heartbeats) {
        Heartbeats h = Heartbeats.create(dataSource());
        b.interceptor(h).extension(h);
      }
      if (timeout != null) {
        b.interceptor(Timeouts.builder().defaultTimeout(timeout).build());
      }
      if (notify) {
        b.extension(NotifyWakeups.create(dataSource()));
      }
      if (schedules) {
        b.extension(Scheduler.builder(client).build());
      }
      pools.add(b.build());
    }
    CountDownLatch stop = new CountDownLatch(1);
    AtomicBoolean running = new AtomicBoolean(false);
    onSignal("TERM", stop);
    onSignal("INT", stop);
    HttpServer probe = probePort == null ? null : probe(running, pools);
    for (WorkerPool p : pools) {
      p.start();
    }
    running.set(true);
    app().err.println("que work: " + workers + " workers on " + String.join(", ", specs.entrySet().stream()
        .map(e -> "'" + Text.safe(e.getKey()) + "'" + (e.getValue() == null ? "" : " (at most " + e.getValue() + ")"))
        .toList()) + "; handlers: "
        + Text.safe(String.join(", ", work.jobClasses())) + "; schema " + client.schemaVersion()
        + (batched == null ? "" : "; batched completion: up to " + batched.maxJobs() + " jobs or "
            + batched.maxDelay().toMillis() + " ms"));
    stop.await();
    running.set(false);
    app().err.println("que work: stopping, running jobs get " + shutdownTimeout.toSeconds() + " s");
    List<Thread> stoppers = new ArrayList<>();
    AtomicBoolean inTime = new AtomicBoolean(true);
    for (WorkerPool p : pools) {
      Thread t = new Thread(() -> {
        if (!p.shutdown(shutdownTimeout)) {
          inTime.set(false);
        }
      }, "que-work-stop");
      t.start();
      stoppers.add(t);
    }
    for (Thread t : stoppers) {
      t.join();
    }
    if (probe != null) {
      probe.stop(0);
    }
    long worked = pools.stream().mapToLong(WorkerPool::jobsWorked).sum();
    long failed = pools.stream().mapToLong(WorkerPool::jobsFailed).sum();
    app().err.println("que work: stopped; worked " + worked + ", failed " + failed + (inTime.get() ? "" : "; some jobs outlived the deadline"));
    return inTime.get() ? Que.OK : Que.FAILED;
  }

  /** The default MAXDELAY of {@code --batched-completion MAXJOBS}. */
  static final Duration DEFAULT_BATCH_DELAY = Duration.ofMillis(50);

  record BatchedCompletion(int maxJobs, Duration maxDelay) {}

  /** {@code MAXJOBS} or {@code MAXJOBS/MAXDELAY}, in the core's bounds, or a usage error naming the option. */
  private BatchedCompletion parseBatchedCompletion(String spec) {
    String s = spec.trim();
    int slash = s.indexOf('/');
    String jobs = slash < 0 ? s : s.substring(0, slash).trim();
    int maxJobs;
    try {
      maxJobs = Integer.parseInt(jobs);
    } catch (NumberFormatException e) {
      throw usage("--batched-completion must be MAXJOBS or MAXJOBS/MAXDELAY (for instance 50/20ms), got '" + Text.safe(spec) + "'");
    }
    if (maxJobs < 1 || maxJobs > 1000) {
      throw usage("--batched-completion: MAXJOBS must be 1 to 1000, got " + maxJobs);
    }
    Duration maxDelay = DEFAULT_BATCH_DELAY;
    if (slash >= 0) {
      try {
        maxDelay = Durations.parse(s.substring(slash + 1));
      } catch (picocli.CommandLine.TypeConversionException e) {
        throw usage("--batched-completion: MAXDELAY " + e.getMessage());
      }
      if (maxDelay.compareTo(Duration.ofMillis(1)) < 0 || maxDelay.compareTo(Duration.ofSeconds(10)) > 0) {
        throw usage("--batched-completion: MAXDELAY must be 1ms to 10s, got " + Text.safe(s.substring(slash + 1).trim()));
      }
    }
    return new BatchedCompletion(maxJobs, maxDelay);
  }

  private WorkMap loadHandlers() {
    ClassLoader parent = getClass().getClassLoader();
    ClassLoader loader = parent;
    List<URL> urls = new ArrayList<>();
    for (String entry : classpath) {
      for (String part : entry.split(Pattern.quote(File.pathSeparator))) {
        if (part.isBlank()) {
          continue;
        }
        Path p = Path.of(part);
        if (!Files.exists(p)) {
          throw usage("--classpath: " + Text.safe(part) + " does not exist");
        }
        try {
          urls.add(p.toUri().toURL());
        } catch (MalformedURLException e) {
          throw usage("--classpath: " + Text.safe(part) + " is not a usable path");
        }
      }
    }
    if (!urls.isEmpty()) {
      loader = new URLClassLoader("que-work-handlers", urls.toArray(new URL[0]), parent);
    }
    WorkMap.Builder b = WorkMap.builder();
    int providers = 0;
    try {
      for (HandlerProvider p : ServiceLoader.load(HandlerProvider.class, loader)) {
        p.register(b);
        providers++;
      }
    } catch (ServiceConfigurationError e) {
      throw new CliException(Que.FAILED, "a HandlerProvider could not be loaded: " + Text.safe(e.getMessage()));
    }
    if (providers == 0) {
      throw new CliException(Que.FAILED, "no io.quejava.HandlerProvider found" + (urls.isEmpty() ? "" : " on --classpath")
          + ": ship one in META-INF/services/io.quejava.HandlerProvider");
    }
    return b.build();
  }

  /** SIGTERM and SIGINT end the wait; where the JDK's signal API is missing, a shutdown hook does. */
  private static void onSignal(String name, CountDownLatch stop) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal(name), s -> stop.countDown());
    } catch (IllegalArgumentException | LinkageError e) {
      Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
    }
  }

  private HttpServer probe(AtomicBoolean running, List<WorkerPool> pools) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(probePort), 16);
    server.createContext("/health/live", ex -> answer(ex, 200, "live\n"));
    server.createContext("/health/ready", ex -> {
      String why = null;
      if (!running.get() || pools.stream().anyMatch(WorkerPool::isShuttingDown)) {
        why = "workers not running";
      } else {
        try (Connection c = dataSource().getConnection()) {
          if (!c.isValid(2)) {
            why = "database not answering";
          } else if (io.quejava.Migrator.create(dataSource()).currentVersion() != client().schemaVersion()) {
            why = "que_jobs schema changed";
          }
        } catch (Exception e) {
          why = "database: " + Cli.firstLine(Cli.redact(e.getMessage(), db.password()));
        }
      }
      answer(ex, why == null ? 200 : 503, why == null ? "ready\n" : "not ready: " + why + "\n");
    });
    server.createContext("/stats", ex -> answer(ex, 200, poolStatsJson(pools), "application/json"));
    server.setExecutor(null);
    server.start();
    app().err.println("que work: health probes on http://localhost:" + server.getAddress().getPort()
        + "/health/{live,ready}, the pools' figures on /stats");
    return server;
  }

  /** Every pool's {@link WorkerPool#stats()}: jobs worked and failed, busy workers, the jobs running now. */
  static String poolStatsJson(List<WorkerPool> pools) {
    com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode root = mapper.createObjectNode();
    com.fasterxml.jackson.databind.node.ArrayNode list = root.putArray("pools");
    for (WorkerPool pool : pools) {
      io.quejava.PoolStats s = pool.stats();
      com.fasterxml.jackson.databind.node.ObjectNode o = list.addObject().put("pool", s.pool()).put("workers", s.workers())
          .put("busy_workers", s.busyWorkers()).put("idle_workers", s.idleWorkers())
          .put("jobs_worked", s.jobsWorked()).put("jobs_failed", s.jobsFailed());
      com.fasterxml.jackson.databind.node.ArrayNode running = o.putArray("running");
      for (io.quejava.PoolStats.Running r : s.running()) {
        running.addObject().put("job_id", r.jobId()).put("job_class", r.jobClass()).put("queue", r.queue())
            .put("attempt", r.attempt()).put("started_at", r.startedAt().toString()).put("worker", r.workerName());
      }
    }
    return root.toString() + "\n";
  }

  private static void answer(com.sun.net.httpserver.HttpExchange ex, int status, String body) throws IOException {
    answer(ex, status, body, "text/plain");
  }

  private static void answer(com.sun.net.httpserver.HttpExchange ex, int status, String body, String type)
      throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }
}
