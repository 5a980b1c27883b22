/**
 * Per-job timeouts: {@link io.quejava.ext.timeout.Timeouts}, an interceptor that cancels a job
 * ({@link io.quejava.JobContext#cancel(String)}: a flag and an interrupt) when it has run longer
 * than its timeout and then fails the attempt with a {@link io.quejava.ext.timeout.JobTimeoutException}.
 * Opt-in; the core knows nothing of it.
 *
 * <h2>README section (draft)</h2>
 *
 * <h3>Timeouts ({@code io.quejava.ext.timeout}, extension {@code timeout})</h3>
 *
 * <pre>{@code
 * Timeouts.install(dataSource);                             // only needed for per-job timeouts
 * Timeouts timeouts = Timeouts.builder()
 *     .forClass("Reports::Monthly", Duration.ofMinutes(10))
 *     .defaultTimeout(Duration.ofMinutes(1))
 *     .build();
 * WorkerPool pool = WorkerPool.builder(client, work).interceptor(timeouts).build();
 *
 * try (Connection c = dataSource.getConnection()) {        // a timeout of its own, for one job
 *   c.setAutoCommit(false);
 *   Timeouts.enqueue(client, c, NewJob.of("Export", 7), Duration.ofSeconds(30));
 *   c.commit();                                            // job and timeout, or neither
 * }
 * }</pre>
 *
 * <p>A job's timeout is the first of: its own (a row in {@code que_job_timeouts}, keyed by job id
 * and written in the enqueuing transaction; que_jobs gets no column), its class's, the default. At
 * the deadline the interceptor cancels the job; when the handler then returns or throws, the
 * attempt fails with {@code io.quejava.ext.timeout.JobTimeoutException: job 42 (Export) timed out
 * after 30 s (the job's own timeout)} (the handler's exception, if any, as the cause), recorded and
 * retried like any failure. A handler deaf to interrupts and to
 * {@link io.quejava.JobContext#isCancelled()} runs on, holding the job's lock: the heartbeat
 * extension then reports it as hung.
 *
 * <table>
 *   <caption>Timeouts.Builder</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code forClass(class, d)}</td><td>none</td><td>the timeout of a job class</td></tr>
 *   <tr><td>{@code defaultTimeout(d)}</td><td>none</td><td>for every other job; none means never cancelled</td></tr>
 *   <tr><td>{@code perJob(b)}</td><td>true</td><td>read each job's own row when it starts (one
 *       indexed lookup per job on its connection); turn off when only class timeouts are used</td></tr>
 * </table>
 *
 * <p><b>Why a table and not a column:</b> extensions never change que_jobs (Ruby and Go share it),
 * and the job's args belong to its consumer. A job that succeeds loses its timeout row in the same
 * transaction as its delete (the interceptor then deletes the job itself rather than leaving it to
 * the worker's batched delete); one that fails keeps it for the next attempt. Rows whose jobs were
 * removed elsewhere (by Ruby, Go, by hand) or that finished or expired (schema 4-7) stay until
 * {@code Timeouts.purge(dataSource)}, which on schema 3 reads all of que_jobs: run it now and then.
 * Timeouts are measured by the worker's clock from the moment the interceptor starts. Ruby and Go
 * workers ignore per-job timeouts.
 */
package io.quejava.ext.timeout;
