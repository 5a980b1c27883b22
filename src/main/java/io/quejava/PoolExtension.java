package io.quejava;

/**
 * Something that lives as long as a {@link WorkerPool}: a NOTIFY listener, a heartbeat writer, a
 * scheduler loop. Given to {@link WorkerPool.Builder#extension}; started after the workers start and
 * stopped before they are shut down, in reverse order. A failing {@code start} fails
 * {@link WorkerPool#start()} (the workers already started are shut down again).
 */
public interface PoolExtension {
  /** Called once, after the pool's workers have started. */
  void start(WorkerPool pool) throws Exception;

  /** Called once when the pool shuts down, before its workers stop; must not throw. */
  void stop();
}
