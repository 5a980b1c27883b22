package io.quejava;

/**
 * Hears every enqueue a {@link Client} makes ({@code enqueue} and {@code enqueueAll}, on its own
 * connection or the caller's), for metrics. Register it with {@link Client.Builder#enqueueListener}.
 * Called synchronously on the enqueuing thread after the insert (on the caller's connection: after
 * the statement, before the caller's commit, so a rolled-back transaction was still heard); keep it
 * cheap. An exception it throws is logged and changes nothing.
 */
public interface EnqueueListener {
  /**
   * A job was inserted, or for a unique job whose key a counted job holds, found instead
   * ({@link Job#isDuplicate()} true). Called once per job of a batch, in order.
   */
  void enqueued(Job job);

  /**
   * An enqueue failed in the database (the {@link QueException} is then thrown to the caller).
   * Called once per job of a failed batch. Args the caller got wrong (an
   * {@link IllegalArgumentException} before any SQL) are not reported. Default: nothing.
   *
   * @param jobClass the job's class
   * @param queue the queue it was for (the client's default queue when it named none)
   * @param error what the caller gets
   */
  default void enqueueFailed(String jobClass, String queue, RuntimeException error) {}
}
