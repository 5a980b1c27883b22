package io.quejava;

/**
 * Thrown inside a worker for a job whose class the {@link WorkMap} does not know. The job is not
 * deleted: its error is recorded (as {@code unknown job type: "<class>"}, the text que-go writes) and
 * it is retried after the backoff, as Ruby Que and que-go do.
 */
public final class UnknownJobClassException extends RuntimeException {
  private final String jobClass;

  public UnknownJobClassException(String jobClass, String message) {
    super(message, null, false, false);
    this.jobClass = jobClass;
  }

  public String jobClass() {
    return jobClass;
  }
}
