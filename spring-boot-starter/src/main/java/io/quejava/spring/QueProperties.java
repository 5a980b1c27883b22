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

  private final Worker worker = new Worker();

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

  public Worker getWorker() {
    return worker;
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
