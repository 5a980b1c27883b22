package io.quejava;

/**
 * Code that runs around every job a worker runs, on the worker's thread, with the job's lock held:
 * the hook the extensions (heartbeats, timeouts, dead letters) use. Interceptors are given to
 * {@link WorkerConfig.Builder#interceptor} and nest in the order given: the first one is outermost.
 *
 * <p>Call {@code next.proceed()} to run the rest of the chain and finally the handler. Returning
 * normally means success (the worker deletes the job unless it was already resolved); throwing means
 * failure (the worker records the error unless the job was already resolved). An interceptor may
 * resolve the job itself through the {@link RunningJob}, for instance move it elsewhere and
 * {@link RunningJob#delete()} it inside one transaction on {@link RunningJob#connection()}, committed
 * before it returns or rethrows.
 *
 * <p>For a job class no handler is registered for, {@code next.proceed()} throws
 * {@link UnknownJobClassException}.
 */
@FunctionalInterface
public interface JobInterceptor {
  void intercept(RunningJob job, Chain next) throws Exception;

  /** The rest of the chain. */
  @FunctionalInterface
  interface Chain {
    void proceed() throws Exception;
  }
}
