package io.quejava;

/**
 * A handler whose job's args arrive bound to a record of type {@code A} (see {@link JobArgs}). The
 * binding happens before the handler runs; args that do not bind fail the attempt with a
 * {@link JobArgsException}, recorded with the backoff like any failure.
 *
 * @param <A> the record the args bind to
 */
@FunctionalInterface
public interface TypedJobHandler<A extends Record> {
  void run(A args, RunningJob job) throws Exception;
}
