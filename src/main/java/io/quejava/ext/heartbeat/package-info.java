/**
 * Heartbeats of running jobs, the list of every job in flight (Java, Ruby, Go), hung-job
 * detection, and an opt-in rescuer for hung que-java workers. Opt-in; the core knows nothing of it.
 *
 * <h2>README section (draft)</h2>
 *
 * <h3>Heartbeats, jobs in flight, hung jobs ({@code io.quejava.ext.heartbeat}, extension {@code heartbeat})</h3>
 *
 * <pre>{@code
 * Heartbeats.install(dataSource);                          // que_heartbeats (UNLOGGED)
 * Heartbeats beats = Heartbeats.create(dataSource);        // beats every 5 s
 * WorkerPool pool = WorkerPool.builder(client, work)
 *     .interceptor(beats).extension(beats)                 // the same instance, both
 *     .build();
 *
 * job.context().progress(40);                              // in a handler: stored with the next beat
 *
 * for (InFlightJob j : InFlight.list(dataSource)) {        // Java from heartbeats, Ruby/Go from locks
 *   if (j.hung()) alert(j.jobId(), j.host(), j.hungReason());
 * }
 * Rescuer.create(dataSource).rescue();                     // opt-in: end hung Java workers' sessions
 * }</pre>
 *
 * <p><b>Heartbeats.</b> A row per running job in {@code que_heartbeats}: job id, queue, class,
 * worker (thread) name, host, OS pid, the backend pid of the session holding the job's lock, start,
 * last beat, progress, timeout (from the timeout extension). The worker's thread only records the
 * job in memory; one writer thread and connection per pool turns changes into one statement: rows
 * for jobs that started, deletes for jobs that ended, and every interval one
 * {@code UPDATE ... FROM unnest(...)} of {@code last_beat} and progress for the rest. A job that
 * starts and ends between two writes costs nothing; {@code writeDelay} extends that to every job
 * shorter than it. On shutdown the writer keeps beating the jobs still running until they end.
 *
 * <table>
 *   <caption>Heartbeats.Builder</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code interval(d)}</td><td>5 s</td><td>how often running jobs' rows are refreshed (10 ms to 1 day)</td></tr>
 *   <tr><td>{@code writeDelay(d)}</td><td>0</td><td>jobs shorter than this are never written</td></tr>
 * </table>
 *
 * <p><b>Jobs in flight.</b> {@code InFlight.list(dataSource[, staleBeats])} lists every job some
 * session holds the advisory lock of (one-argument form, this database), by job id:
 * <ul>
 *   <li>{@code HEARTBEAT}: a que-java job whose heartbeat row names the session that holds its
 *       lock; with worker, host, pid, start, last beat, progress and timeout.
 *   <li>{@code ADVISORY_LOCK}: any other locked job (Ruby, Go, Java without heartbeats), from
 *       {@code pg_locks} (key {@code classid << 32 | objid}, {@code objsubid = 1}) joined with
 *       que_jobs and {@code pg_stat_activity} (application name, client address, state); on schema
 *       4-7 with the Ruby locker's host and pid from {@code que_lockers}. {@code javaHolder} marks
 *       jobs a que-java worker locked ahead in a batch and has not started.
 * </ul>
 * A job is <b>hung</b> when its lock is held and its heartbeat is older than {@code staleBeats}
 * (default 3) of its writer's intervals, or it runs more than one interval past its timeout. Only
 * heartbeat jobs can be hung: nothing tells a long Ruby or Go job from a stuck one. Heartbeat rows
 * whose lock is gone are never listed (a crashed process's rows are deleted by any writer after
 * three of their intervals).
 *
 * <p><b>Rescuer (opt-in).</b> {@code Rescuer.rescue()} (or {@code .extension(rescuer)} for a pass
 * every 30 s) calls {@code pg_terminate_backend} on the session of each hung que-java job, in one
 * statement per session that re-checks the heartbeat and the lock, and logs a WARN for each. That is
 * all it does: never a Ruby or Go session, never a fresh heartbeat, never a que_jobs row; jobs are
 * not reclaimed for their age (rule R9). PostgreSQL then drops the session's locks and another
 * worker runs the job again, with its row unchanged. The hung thread itself keeps running in its
 * JVM until it returns (and then cannot write its outcome), so a handler deaf to interrupts can
 * overlap its own re-run: jobs must be idempotent. A stalled writer (blocked connection, long GC
 * pause) looks hung too, hence opt-in. The role needs the right to signal the workers' sessions.
 *
 * <p><b>Costs and limits.</b> One connection per pool for the writer, one statement per beat and per
 * burst of starts and ends. {@code que_heartbeats} is UNLOGGED (no WAL for beats; emptied by a
 * server crash, which ends the sessions it describes anyway; not on standbys). On schema 3,
 * {@code InFlight.list} finds lock-only jobs by id in que_jobs, which has no index on the id alone:
 * call it for a dashboard, not per job. Advisory lock keys are shared by all schemas of a database.
 */
package io.quejava.ext.heartbeat;
