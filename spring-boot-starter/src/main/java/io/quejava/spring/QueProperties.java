package io.quejava.spring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/** Settings under {@code que.*}; see the starter's README for the table. */
@ConfigurationProperties(prefix = "que")
public class QueProperties {
  /** Whether the que-java auto-configuration is on at all. */
  private boolean enabled = true;

  /**
   * Whether to create que_jobs at start-up (Migrator.migrate: creates the table at the default
   * version when missing, otherwise only checks its version).
   */
  private boolean migrate = false;

  /**
   * Whether to install, at start-up, the SQL of the worker extensions switched on under
   * que.worker.extensions (notify trigger, heartbeat, dead-letter and schedule tables). Idempotent;
   * never changes que_jobs itself.
   */
  private boolean migrateExtensions = false;

  private final Worker worker = new Worker();

  private final Metrics metrics = new Metrics();

  private final Dashboard dashboard = new Dashboard();

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public boolean isMigrate() {
    return migrate;
  }

  public void setMigrate(boolean migrate) {
    this.migrate = migrate;
  }

  public boolean isMigrateExtensions() {
    return migrateExtensions;
  }

  public void setMigrateExtensions(boolean migrateExtensions) {
    this.migrateExtensions = migrateExtensions;
  }

  public Worker getWorker() {
    return worker;
  }

  public Metrics getMetrics() {
    return metrics;
  }

  public Dashboard getDashboard() {
    return dashboard;
  }

  /**
   * The web dashboard mounted into a servlet web application, when que-java-dashboard and Spring
   * MVC are on the class path. Off unless enabled: its pages retry and delete jobs.
   */
  public static class Dashboard {
    /**
     * Whether to mount the dashboard under que.dashboard.path. Needs an Authenticator bean,
     * que.dashboard.basic-auth.* or que.dashboard.insecure=true.
     */
    private boolean enabled = false;

    /** The path the dashboard answers under, within the application (e.g. /que or /admin/que). */
    private String path = "/que";

    /** Refuse every change (retry, delete, replay, schedule switches) and show no buttons for them. */
    private boolean readOnly = false;

    /**
     * Serve the dashboard with no authentication of its own: only when something in front of it
     * (a reverse proxy, the application's Spring Security filter chain) authenticates its path.
     */
    private boolean insecure = false;

    /** Seconds between automatic reloads of the overview and in-flight pages, 0 for none. */
    private int refreshSeconds = 5;

    private final BasicAuth basicAuth = new BasicAuth();

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getPath() {
      return path;
    }

    public void setPath(String path) {
      if (path == null || path.length() < 2 || !path.startsWith("/") || path.endsWith("/") || path.contains("//")
          || !path.matches("[A-Za-z0-9/_.\\-]+")) {
        throw new IllegalArgumentException("que.dashboard.path must look like /que (start with '/', not end with"
            + " '/', not be '/' alone, only letters, digits and / - _ .), got '" + path + "'");
      }
      this.path = path;
    }

    public boolean isReadOnly() {
      return readOnly;
    }

    public void setReadOnly(boolean readOnly) {
      this.readOnly = readOnly;
    }

    public boolean isInsecure() {
      return insecure;
    }

    public void setInsecure(boolean insecure) {
      this.insecure = insecure;
    }

    public int getRefreshSeconds() {
      return refreshSeconds;
    }

    public void setRefreshSeconds(int refreshSeconds) {
      if (refreshSeconds < 0 || refreshSeconds > 3600) {
        throw new IllegalArgumentException("que.dashboard.refresh-seconds must be 0 to 3600, got " + refreshSeconds);
      }
      this.refreshSeconds = refreshSeconds;
    }

    public BasicAuth getBasicAuth() {
      return basicAuth;
    }
  }

  /** HTTP Basic authentication of the dashboard with one user; set both or neither. */
  public static class BasicAuth {
    /** The user name (no ':'). */
    private String username;

    /** The password. Basic sends it in clear: serve the application over TLS. */
    private String password;

    public String getUsername() {
      return username;
    }

    public void setUsername(String username) {
      this.username = username;
    }

    public String getPassword() {
      return password;
    }

    public void setPassword(String password) {
      this.password = password;
    }
  }

  /** Micrometer meters, when micrometer-core is on the class path and a MeterRegistry bean exists. */
  public static class Metrics {
    /** Whether to bind que-java's meters to the application's MeterRegistry. */
    private boolean enabled = true;

    /**
     * Whether to keep the queue gauges (que.queue.jobs, que.queue.oldest.ready.age) fresh: one
     * statistics query on one connection per refresh interval.
     */
    private boolean queues = true;

    /** How often the queue gauges are refreshed. */
    private Duration queuesInterval = Duration.ofSeconds(15);

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public boolean isQueues() {
      return queues;
    }

    public void setQueues(boolean queues) {
      this.queues = queues;
    }

    public Duration getQueuesInterval() {
      return queuesInterval;
    }

    public void setQueuesInterval(Duration queuesInterval) {
      if (queuesInterval == null || queuesInterval.isNegative() || queuesInterval.isZero()) {
        throw new IllegalArgumentException("que.metrics.queues-interval must be positive, got " + queuesInterval);
      }
      this.queuesInterval = queuesInterval;
    }
  }

  /**
   * The core's pool extensions, each off unless set; what the que work command line switches on with
   * --notify, --heartbeats, --timeout, --dead-letters and --schedules.
   */
  public static class Extensions {
    /**
     * Wake idle workers by LISTEN/NOTIFY the moment a job for their queue is inserted (by any
     * language). Needs the notify trigger (que.migrate-extensions=true installs it). Holds two
     * connections of its own.
     */
    private boolean notify = false;

    /**
     * Write a heartbeat row per running job (table que_heartbeats), which the health indicator and
     * InFlight read to tell hung jobs from long ones. Holds one connection of its own.
     */
    private boolean heartbeats = false;

    /** How often heartbeats are refreshed. */
    private Duration heartbeatInterval = Duration.ofSeconds(5);

    /** Cancel and fail jobs that run longer than this (unset: no timeout). */
    private Duration timeout;

    /**
     * Give a job up after this many failed attempts and keep it as a dead letter (table
     * que_dead_jobs on schema 3, expired rows on 4-7). Unset: jobs are retried for ever.
     */
    private Integer deadLetterMaxAttempts;

    /** Also enqueue due cron and interval schedules (table que_schedules). */
    private boolean schedules = false;

    public boolean isNotify() {
      return notify;
    }

    public void setNotify(boolean notify) {
      this.notify = notify;
    }

    public boolean isHeartbeats() {
      return heartbeats;
    }

    public void setHeartbeats(boolean heartbeats) {
      this.heartbeats = heartbeats;
    }

    public Duration getHeartbeatInterval() {
      return heartbeatInterval;
    }

    public void setHeartbeatInterval(Duration heartbeatInterval) {
      if (heartbeatInterval == null || heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
        throw new IllegalArgumentException(
            "que.worker.extensions.heartbeat-interval must be positive, got " + heartbeatInterval);
      }
      this.heartbeatInterval = heartbeatInterval;
    }

    public Duration getTimeout() {
      return timeout;
    }

    public void setTimeout(Duration timeout) {
      if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
        throw new IllegalArgumentException("que.worker.extensions.timeout must be positive, got " + timeout);
      }
      this.timeout = timeout;
    }

    public Integer getDeadLetterMaxAttempts() {
      return deadLetterMaxAttempts;
    }

    public void setDeadLetterMaxAttempts(Integer deadLetterMaxAttempts) {
      if (deadLetterMaxAttempts != null && deadLetterMaxAttempts < 1) {
        throw new IllegalArgumentException(
            "que.worker.extensions.dead-letter-max-attempts must be at least 1, got " + deadLetterMaxAttempts);
      }
      this.deadLetterMaxAttempts = deadLetterMaxAttempts;
    }

    public boolean isSchedules() {
      return schedules;
    }

    public void setSchedules(boolean schedules) {
      this.schedules = schedules;
    }
  }

  /**
   * Opt-in batched completion ({@code WorkerPool.Builder.batchedCompletion}): each worker deletes the
   * jobs whose handler succeeded up to {@code max-jobs} at a time, in one statement and one commit.
   * Off unless {@code max-jobs} is set. A crash or a forced stop may re-run up to {@code max-jobs}
   * succeeded jobs per worker, so use it for idempotent jobs.
   */
  public static class BatchedCompletion {
    /**
     * The most succeeded jobs a worker deletes with one statement, 1 to 1000; unset: batched
     * completion is off. A crash may re-run up to this many succeeded jobs per worker.
     */
    private Integer maxJobs;

    /** The longest a succeeded job waits for its batched delete, 1ms to 10s. */
    private Duration maxDelay = Duration.ofMillis(50);

    public Integer getMaxJobs() {
      return maxJobs;
    }

    public void setMaxJobs(Integer maxJobs) {
      if (maxJobs != null && (maxJobs < 1 || maxJobs > 1000)) {
        throw new IllegalArgumentException("que.worker.batched-completion.max-jobs must be 1 to 1000, got " + maxJobs);
      }
      this.maxJobs = maxJobs;
    }

    public Duration getMaxDelay() {
      return maxDelay;
    }

    public void setMaxDelay(Duration maxDelay) {
      if (maxDelay == null || maxDelay.compareTo(Duration.ofMillis(1)) < 0 || maxDelay.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException("que.worker.batched-completion.max-delay must be 1ms to 10s, got " + maxDelay);
      }
      this.maxDelay = maxDelay;
    }
  }

  /** The worker pool: started with the application context when at least one handler bean exists. */
  public static class Worker {
    /**
     * Whether to run a worker pool. With it on and no handler beans, no pool starts (an
     * enqueue-only application).
     */
    private boolean enabled = true;

    /**
     * Queues to work, in order of precedence: a name, or name=max for a queue at most max workers
     * work at once (for instance default,mailers=2). Empty: the client's default queue.
     */
    private List<String> queues = new ArrayList<>();

    /** Number of workers (threads, and database connections). */
    private int workers = 4;

    /** How often an idle pool polls for jobs. */
    private Duration wakeInterval = Duration.ofSeconds(5);

    /**
     * How long stopping waits for running jobs before cancelling them. Keep it below
     * spring.lifecycle.timeout-per-shutdown-phase (30s by default).
     */
    private Duration shutdownTimeout = Duration.ofSeconds(20);

    /** Thread name prefix of the workers. */
    private String name = "que-worker";

    private final Extensions extensions = new Extensions();

    private final BatchedCompletion batchedCompletion = new BatchedCompletion();

    public Extensions getExtensions() {
      return extensions;
    }

    public BatchedCompletion getBatchedCompletion() {
      return batchedCompletion;
    }

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public List<String> getQueues() {
      return queues;
    }

    public void setQueues(List<String> queues) {
      this.queues = queues;
    }

    public int getWorkers() {
      return workers;
    }

    public void setWorkers(int workers) {
      if (workers < 1 || workers > 1000) {
        throw new IllegalArgumentException("que.worker.workers must be 1 to 1000, got " + workers);
      }
      this.workers = workers;
    }

    public Duration getWakeInterval() {
      return wakeInterval;
    }

    public void setWakeInterval(Duration wakeInterval) {
      this.wakeInterval = wakeInterval;
    }

    public Duration getShutdownTimeout() {
      return shutdownTimeout;
    }

    public void setShutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
    }

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }
  }
}
