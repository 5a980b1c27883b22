package io.quejava.ext.timeout;

import java.time.Duration;

/**
 * A job ran past its timeout: the {@link Timeouts} interceptor cancelled it at the deadline and,
 * once the handler returned or threw, failed the attempt with this exception. The worker records it
 * like any failure (error count + 1, retried after the backoff), so {@code last_error} starts with
 * this class's name and the message, which names the timeout and where it came from. The handler's
 * own exception, if it threw one, is the cause.
 */
public final class JobTimeoutException extends RuntimeException {
  /** Version 1. */
  private static final long serialVersionUID = 1L;

  private final long jobId;
  private final transient Duration timeout;

  JobTimeoutException(long jobId, String jobClass, Duration timeout, String source, Throwable cause) {
    super("job " + jobId + " (" + jobClass + ") timed out after " + Timeouts.describe(timeout) + " (" + source + ")", cause);
    this.jobId = jobId;
    this.timeout = timeout;
  }

  /** The id of the job that timed out. */
  public long jobId() {
    return jobId;
  }

  /** The timeout that passed. */
  public Duration timeout() {
    return timeout;
  }
}
