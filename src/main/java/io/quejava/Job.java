package io.quejava;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quejava.internal.Args;
import io.quejava.internal.JobRow;
import io.quejava.internal.Json;
import io.quejava.internal.RecordArgs;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;

/** A que_jobs row as it was read: at enqueue, or when it was locked. Immutable. */
public final class Job {
  private final JobRow row;
  private final ObjectMapper mapper;
  private volatile JsonNode args;
  private final boolean duplicate;

  Job(JobRow row) {
    this(row, Json.defaultMapper());
  }

  Job(JobRow row, ObjectMapper mapper) {
    this(row, mapper, false);
  }

  Job(JobRow row, ObjectMapper mapper, boolean duplicate) {
    this.row = row;
    this.mapper = mapper;
    this.duplicate = duplicate;
  }

  /**
   * True when this came back from an enqueue of a unique job ({@link NewJob#unique}) that found the
   * key held by a job that counts: nothing was inserted, and this is that existing job as it was read
   * then. False for every job that was inserted, and for jobs read any other way.
   */
  public boolean isDuplicate() {
    return duplicate;
  }

  JobRow row() {
    return row;
  }

  /** The job id ({@code job_id} on schema 3, {@code id} on 4–7); also the key of its advisory lock. */
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

  /**
   * The args as a JSON array: verbatim on schema 3 (a json column). On schema 4–7 the jsonb column
   * normalises spacing and key order, so a locked job shows the normalised text while the Job that
   * enqueue returned shows the text that was sent.
   */
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

  /** Argument {@code index} converted to {@code type} by the client's Jackson mapper. */
  public <T> T arg(int index, Class<T> type) {
    JsonNode node = args().get(index);
    if (node == null) {
      throw new IndexOutOfBoundsException("job " + id() + " has " + args().size() + " args, no index " + index);
    }
    return mapper.convertValue(node, type);
  }

  /**
   * The args bound to a record (see {@link JobArgs}): component i from arg i, or, for
   * {@code @JobArgs(shape = OBJECT)}, every component from the one hash by its key.
   *
   * @throws JobArgsException naming the job class, the record and the field when they do not bind
   */
  public <A extends Record> A args(Class<A> type) {
    if (type == null) {
      throw new IllegalArgumentException("type: must not be null");
    }
    return RecordArgs.fromArgs(mapper, jobClass(), args(), type);
  }

  /**
   * Schema 6–7: the kwargs bound to a record, one component per key (snake_case unless the record's
   * {@link JobArgs#naming()} says otherwise). On older schemas the kwargs are empty.
   *
   * @throws JobArgsException naming the job class, the record and the field when they do not bind
   */
  public <A extends Record> A kwargs(Class<A> type) {
    if (type == null) {
      throw new IllegalArgumentException("type: must not be null");
    }
    return RecordArgs.fromKwargs(mapper, jobClass(), kwargs(), type);
  }

  /** How many times the job has failed so far. */
  public int errorCount() {
    return row.errorCount();
  }

  /** The last failure's text ({@code last_error} on schema 3, {@code last_error_message} on 4–7); empty when none. */
  public Optional<String> lastError() {
    return Optional.ofNullable(row.lastError());
  }

  /** Schema 4–7: the last failure's backtrace ({@code last_error_backtrace}); empty when none (always on 3). */
  public Optional<String> lastErrorBacktrace() {
    return Optional.ofNullable(row.lastErrorBacktrace());
  }

  /** Schema 6–7: the keyword arguments as stored (a JSON object); empty on older schemas. */
  public Optional<String> kwargsJson() {
    return Optional.ofNullable(row.kwargsJson());
  }

  /** Schema 6–7: the keyword arguments parsed; an empty object on older schemas. */
  public JsonNode kwargs() {
    return row.kwargsJson() == null ? Json.defaultMapper().createObjectNode() : Json.parse(row.kwargsJson());
  }

  /** Schema 4–7: the {@code data} column as stored (a JSON object); empty on schema 3. */
  public Optional<String> dataJson() {
    return Optional.ofNullable(row.dataJson());
  }

  /** Schema 4–7: the tags in {@code data}; empty when none (and always on schema 3). */
  public java.util.List<String> tags() {
    if (row.dataJson() == null) {
      return java.util.List.of();
    }
    JsonNode tags = Json.parse(row.dataJson()).get("tags");
    if (tags == null || !tags.isArray()) {
      return java.util.List.of();
    }
    java.util.List<String> out = new java.util.ArrayList<>(tags.size());
    tags.forEach(t -> out.add(t.asText()));
    return java.util.List.copyOf(out);
  }

  /** Schema 5–7: the row's job schema version; empty on older schemas. */
  public OptionalInt jobSchemaVersion() {
    Integer v = row.jobSchemaVersion();
    return v == null ? OptionalInt.empty() : OptionalInt.of(v);
  }

  @Override
  public String toString() {
    return "Job{id=" + id() + ", class=" + jobClass() + ", queue='" + queue() + "', priority=" + priority()
        + ", runAt=" + runAt() + ", errorCount=" + errorCount() + (duplicate ? ", duplicate" : "") + "}";
  }
}
