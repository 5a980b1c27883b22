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

  /**
   * Called on a worker's thread, between {@code start} and {@code stop}, when the pool's number of
   * idle workers ({@link WorkerPool#idleWorkers()}) goes from 0 to 1 or from 1 to 0. Calls from
   * different workers may arrive out of order: treat it as a hint and read
   * {@link WorkerPool#idleWorkers()}. Must return at once (no I/O). Does nothing by default.
   */
  default void idleWorkersChanged(int idleWorkers) {}
}
