/**
 * Wake-ups by LISTEN/NOTIFY: a job inserted by anyone (Java, Ruby Que, que-go) wakes an idle worker
 * of its queue at once, instead of at the pool's next poll. Opt-in; the core knows nothing of it.
 *
 * <h2>README section (draft)</h2>
 *
 * <h3>Wake-ups by LISTEN/NOTIFY ({@code io.quejava.ext.notify})</h3>
 *
 * <pre>{@code
 * NotifyWakeups.install(dataSource);                       // once, like a migration
 * WorkerPool pool = WorkerPool.builder(client, work)
 *     .queue("billing")
 *     .extension(NotifyWakeups.create(dataSource))         // one listening connection per pool
 *     .build();
 * }</pre>
 *
 * <p>{@code install} adds an AFTER INSERT trigger, {@code que_java_notify}, to {@code que_jobs}
 * (schema 3, and 4 to 7 beside Que's own {@code que_job_notify}). For every job due later, and for a
 * job due now while some pool of its queue has an idle worker (see "Asking to be woken" in
 * {@link io.quejava.ext.notify.NotifyWakeups}), it sends
 * {@code {"schema":…,"queue":…,"run_at":"…Z","id":…}} on the channel {@code que_java_jobs} (or the
 * one given to {@code install(dataSource, channel)}; a plain identifier). The listener reads the
 * channel from the trigger, so the two cannot disagree. A job due now wakes one idle worker of the
 * pool whose queue and schema match; a job due later schedules a wake-up at its run_at (by the
 * database's clock). Polling is unchanged and remains the fallback: a lost message costs at most one
 * wake interval. Measured on a loaded 2-core machine (PostgreSQL 15, NotifyLatencyBench in the
 * tests), enqueue-to-start latency fell from p50 529 ms / p95 959 ms (polling every second) to
 * p50 15 ms / p95 28 ms from the enqueue call (3 ms / 9 ms from its commit).
 *
 * <table>
 *   <caption>NotifyWakeups.Builder</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code minReconnectDelay}</td><td>100 ms</td><td>first wait after the listening
 *       connection failed; doubles with jitter</td></tr>
 *   <tr><td>{@code maxReconnectDelay}</td><td>10 s</td><td>the longest wait between attempts</td></tr>
 *   <tr><td>{@code healthCheckInterval}</td><td>30 s</td><td>after this long without a message,
 *       one query proves the connection alive</td></tr>
 *   <tr><td>{@code maxScheduledWakes}</td><td>10,000</td><td>wake-ups kept for jobs due later;
 *       beyond it polling finds them</td></tr>
 *   <tr><td>{@code followUpWake}</td><td>50 ms</td><td>a second wake after a burst, for a worker that
 *       was mid-walk when the message came (0: off)</td></tr>
 *   <tr><td>{@code stopAskingAfter}</td><td>100 ms</td><td>how long a pool keeps asking to be woken
 *       after its last idle worker got busy</td></tr>
 * </table>
 *
 * <p><b>What it guarantees, and what not.</b>
 * <ul>
 *   <li>The trigger never fails an insert: errors become a WARNING and the job is inserted, so Ruby
 *       and Go keep enqueuing exactly as before. A payload that would not fit NOTIFY's 8000 bytes
 *       (a queue name of thousands of bytes, possible on schema 3) is sent without the queue, which
 *       listeners read as "any queue".
 *   <li>Two failures no trigger can catch happen at COMMIT, not in the trigger: a transaction that
 *       sent a NOTIFY cannot be {@code PREPARE}d (two-phase commit), and NOTIFY fails when the
 *       server's notification queue (8 GB) is full, which happens only if some session LISTENs and
 *       never reads. Que 1.x/2.x's own trigger has both properties. If you enqueue inside prepared
 *       transactions, set {@code que_java.skip_notify} there (below) or do not install this.
 *   <li>A session can silence our trigger for its transaction with
 *       {@code SET LOCAL que_java.skip_notify TO true}. Que 2.x's {@code que.skip_notify} silences
 *       Que's triggers only, not ours: que-java's own {@code enqueueAll} sets it on schema 7, as Que's
 *       bulk insert does, and Java pools must still hear of those jobs.
 *   <li>NOTIFY is delivered at commit, to sessions listening at that moment. While the listener
 *       reconnects, messages are lost; after every LISTEN it therefore wakes every worker once.
 *       Scheduled wake-ups for later jobs live in memory and are lost with the JVM; polling covers.
 *   <li>Each pool keeps two extra connections (the listener, and the one that holds the wake
 *       lock), which must be real sessions: not PgBouncer in transaction mode. On stop they are
 *       aborted, so a connection pool discards them.
 *   <li>Channels are per database, not per schema: messages carry the schema, and a listener ignores
 *       other schemas' jobs.
 *   <li>A transaction that sent a NOTIFY takes a database-wide lock at commit and holds it until its
 *       commit record is flushed, so notifying transactions commit one at a time and group commit
 *       cannot share their WAL flushes (a PostgreSQL property of NOTIFY): that, not the trigger's
 *       CPU, is what an announced job costs its enqueuer. A job due now while no pool of its queue
 *       is idle costs the trigger call and a shared lock, about 5 µs of server time. A bulk insert
 *       sends one message per row announced.
 *   <li>If que_jobs moves between schema 3 and 4 after install (the id column is renamed), the
 *       trigger keeps working but sends messages without queue or id (every pool wakes); run
 *       {@code install} again to put it right. The listener logs a warning when it sees this.
 * </ul>
 *
 * <p><b>Uninstall.</b> {@code NotifyWakeups.uninstall(dataSource)} drops the trigger and its
 * functions; que_jobs is left exactly as it was before install (the tests compare the catalog).
 */
package io.quejava.ext.notify;
