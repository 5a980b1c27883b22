package io.quejava;

import com.fasterxml.jackson.databind.JsonNode;
import io.quejava.internal.JobRow;
import io.quejava.internal.Json;
import java.time.Instant;

/** A que_jobs row as it was read: at enqueue, or when it was locked. Immutable. */
public final class Job {
  private final JobRow row;
  private volatile JsonNode args;

  Job(JobRow row) {
    this.row = row;
  }

  JobRow row() {
    return row;
  }

  /** The job id ({@code job_id} on schema 3); also the key of its advisory lock. */
  public long id() {
    return row.id();
  }

  public String queue() {
    return row.queue();
  }

  public int priority() {
    return row.priority();
  }

  /** When the job becomes (or became) ready, with the database's microsecond precision. */
  public Instant runAt() {
    return row.runAt().toInstant();
  }

  /** The job class, the key a {@link WorkMap} (or Ruby's constant lookup) resolves. */
  public String jobClass() {
    return row.jobClass();
  }

  /** The args exactly as stored: a JSON array. */
  public String argsJson() {
    return row.argsJson();
  }

  /**
   * The args parsed as a JSON array; numbers that do not fit a long or a double come back as
   * BigInteger or BigDecimal.
   */
  public JsonNode args() {
    JsonNode a = args;
    if (a == null) {
      a = Json.parse(row.argsJson());
      args = a;
    }
    return a;
  }

  /** Argument {@code index} converted to {@code type} with Jackson. */
  public <T> T arg(int index, Class<T> type) {
    JsonNode node = args().get(index);
    if (node == null) {
      throw new IndexOutOfBoundsException("job " + id() + " has " + args().size() + " args, no index " + index);
    }
    return Json.MAPPER.convertValue(node, type);
  }

  /** How many times the job has failed so far. */
  public int errorCount() {
    return row.errorCount();
  }

  /** The last failure's text, or null. */
  public String lastError() {
    return row.lastError();
  }

  @Override
  public String toString() {
    return "Job{id=" + id() + ", class=" + jobClass() + ", queue='" + queue() + "', priority=" + priority()
        + ", runAt=" + runAt() + ", errorCount=" + errorCount() + "}";
  }
}
