package io.quejava.spring;

import io.quejava.Client;
import io.quejava.Migrator;
import io.quejava.PoolStats;
import io.quejava.WorkerPool;
import io.quejava.ext.heartbeat.InFlight;
import io.quejava.ext.heartbeat.InFlightJob;
import java.util.List;
import java.util.Optional;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/**
 * The state of que-java in this application, as the actuator's {@code que} component:
 *
 * <ul>
 *   <li><b>OUT_OF_SERVICE</b> once the worker pool has begun its graceful shutdown (it takes no new
 *       jobs and finishes the running ones); the database is not asked then.
 *   <li><b>DOWN</b> when the database does not answer, or que_jobs is no longer at the schema
 *       version the client started with (dropped, or migrated under a running application).
 *   <li><b>UP</b> otherwise, with details: {@code schemaVersion}, {@code defaultQueue}, and for a
 *       running pool {@code queues}, {@code workers}, {@code busyWorkers}, {@code jobsWorked},
 *       {@code jobsFailed}; with heartbeats on, {@code jobsInFlight}, {@code hungJobs} and the ids
 *       of up to ten hung jobs ({@code hungJobIds}). Hung jobs do not make it DOWN: restarting
 *       this application does not end a job hung in another one.
 * </ul>
 *
 * <p>Every check is one short query on one connection of the client's data source.
 */
public class QueHealthIndicator implements HealthIndicator {
  private static final int MAX_HUNG_IDS = 10;

  private final Client client;
  private final QueWorkerLifecycle lifecycle;
  private final boolean heartbeats;

  /**
   * @param lifecycle the starter's pool, or null when there is none
   * @param heartbeats whether to report hung jobs (the heartbeat extension is on)
   */
  public QueHealthIndicator(Client client, QueWorkerLifecycle lifecycle, boolean heartbeats) {
    this.client = client;
    this.lifecycle = lifecycle;
    this.heartbeats = heartbeats;
  }

  @Override
  public Health health() {
    if (lifecycle != null && lifecycle.isStopping()) {
      return Health.outOfService().withDetail("reason", "worker pool shutting down").build();
    }
    int version;
    try {
      version = Migrator.create(client.dataSource()).currentVersion();
    } catch (RuntimeException e) {
      return Health.down(e).withDetail("reason", "database not answering").build();
    }
    if (version != client.schemaVersion()) {
      return Health.down()
          .withDetail("reason", version == 0 ? "que_jobs is missing"
              : "que_jobs is at schema version " + version + ", the client started on " + client.schemaVersion())
          .withDetail("schemaVersion", version)
          .build();
    }
    Health.Builder up = Health.up().withDetail("schemaVersion", version).withDetail("defaultQueue", client.defaultQueue());
    Optional<WorkerPool> pool = lifecycle == null ? Optional.empty() : lifecycle.pool();
    pool.ifPresent(p -> {
      PoolStats s = p.stats();
      up.withDetail("queues", p.queues())
          .withDetail("workers", s.workers())
          .withDetail("busyWorkers", s.busyWorkers())
          .withDetail("jobsWorked", s.jobsWorked())
          .withDetail("jobsFailed", s.jobsFailed());
    });
    if (heartbeats) {
      try {
        List<InFlightJob> inFlight = InFlight.list(client.dataSource());
        List<Long> hung = inFlight.stream().filter(InFlightJob::hung).map(InFlightJob::jobId).toList();
        up.withDetail("jobsInFlight", inFlight.size())
            .withDetail("hungJobs", hung.size())
            .withDetail("hungJobIds", hung.subList(0, Math.min(hung.size(), MAX_HUNG_IDS)));
      } catch (RuntimeException e) {
        return Health.down(e).withDetail("reason", "cannot list the jobs in flight").build();
      }
    }
    return up.build();
  }
}
