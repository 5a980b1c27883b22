package io.quejava;

/**
 * The code that runs jobs of one class. It gets the {@link RunningJob}: its args
 * ({@link RunningJob#arg}, {@link RunningJob#args(Class)}), and {@link RunningJob#connection()} for
 * work that must commit together with the job's deletion. For args bound to a record, register a
 * {@link TypedJobHandler} instead.
 *
 * <p>Returning normally means success: the worker deletes the job unless the handler already did.
 * Throwing means failure: the worker records the error and the job is retried after the {@link
 * RetryPolicy}'s delay. A handler that opens a transaction on the job's connection must commit or
 * roll it back before it returns; one left open is rolled back and counted as a failure.
 */
@FunctionalInterface
public interface JobHandler {
  void run(RunningJob job) throws Exception;
}
