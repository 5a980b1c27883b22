package io.quejava;

/**
 * A job's args (or kwargs) do not bind to the record a typed handler asked for: wrong arity, a value
 * of the wrong type, a missing key. Thrown inside the handler's attempt, so the job fails with this
 * message (it names the job class, the record and the field) and is retried after the backoff like
 * any failure: never deleted, never run in a loop. Thrown on enqueue when a record cannot be written.
 */
public final class JobArgsException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public JobArgsException(String message) {
    super(message);
  }

  public JobArgsException(String message, Throwable cause) {
    super(message, cause);
  }
}
