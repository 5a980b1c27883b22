package io.quejava;

import io.quejava.internal.Args;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Job class name to handler, as que-go's WorkMap. Immutable; build it with {@link #builder()}. */
public final class WorkMap {
  private final Map<String, JobHandler> handlers;

  private WorkMap(Map<String, JobHandler> handlers) {
    this.handlers = Map.copyOf(handlers);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A WorkMap with a single entry. */
  public static WorkMap of(String jobClass, JobHandler handler) {
    return builder().put(jobClass, handler).build();
  }

  /** The handler for {@code jobClass}; empty when none is registered. */
  public java.util.Optional<JobHandler> get(String jobClass) {
    return java.util.Optional.ofNullable(handlers.get(jobClass));
  }

  public Set<String> jobClasses() {
    return handlers.keySet();
  }

  /** Collects entries; {@link #put} refuses a class registered twice. */
  public static final class Builder {
    private final Map<String, JobHandler> handlers = new LinkedHashMap<>();

    private Builder() {}

    public Builder put(String jobClass, JobHandler handler) {
      if (jobClass == null || jobClass.isBlank()) {
        throw new IllegalArgumentException("jobClass: must not be blank");
      }
      Args.notNull(handler, "handler");
      if (handlers.putIfAbsent(jobClass, handler) != null) {
        throw new IllegalArgumentException("jobClass: '" + jobClass + "' is registered twice");
      }
      return this;
    }

    /**
     * A typed handler: the job's args are bound to {@code argsType} (see {@link JobArgs}) before
     * {@code handler} runs. Args that do not bind fail the attempt with a {@link JobArgsException}
     * that names the job class and the field, recorded with the backoff like any failure.
     */
    public <A extends Record> Builder put(String jobClass, Class<A> argsType, TypedJobHandler<A> handler) {
      if (argsType == null) {
        throw new IllegalArgumentException("argsType: must not be null");
      }
      if (!argsType.isRecord()) {
        throw new IllegalArgumentException("argsType: " + argsType.getName() + " is not a record");
      }
      if (handler == null) {
        throw new IllegalArgumentException("handler: must not be null");
      }
      return put(jobClass, job -> handler.run(job.args(argsType), job));
    }

    public WorkMap build() {
      return new WorkMap(handlers);
    }
  }
}
