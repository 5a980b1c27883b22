package io.quejava;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * The per-queue limits of one pool: a permit per worker that may work a limited queue at once. The
 * workers of a pool share one gate; a queue without a limit has no semaphore and is always open.
 */
final class QueueGate {
  private final Map<String, Semaphore> limits = new HashMap<>();

  QueueGate(List<String> queues, WorkerConfig config) {
    for (String q : queues) {
      config.maxWorkers(q).ifPresent(n -> limits.put(q, new Semaphore(n)));
    }
  }

  /** True when the caller may work {@code queue} now; it must then {@link #leave} it. */
  boolean tryEnter(String queue) {
    Semaphore s = limits.get(queue);
    return s == null || s.tryAcquire();
  }

  void leave(String queue) {
    Semaphore s = limits.get(queue);
    if (s != null) {
      s.release();
    }
  }
}
