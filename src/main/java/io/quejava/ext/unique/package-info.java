/**
 * Unique jobs: the {@code unique} extension's table and triggers, which the core's
 * {@link io.quejava.NewJob#unique(io.quejava.UniqueOptions)} option needs.
 *
 * <p><b>Structure.</b> An additive table, {@code que_unique_jobs (unique_key PRIMARY KEY, job_id
 * UNIQUE, ...)}, kept by a row trigger on {@code que_jobs} ({@code AFTER UPDATE OR DELETE}) and a
 * statement trigger ({@code AFTER TRUNCATE}). que_jobs keeps its columns, constraints and indexes;
 * Ruby Que and que-go enqueue, lock, update and delete exactly as before. A partial unique index
 * over {@code data} was the other candidate: it would change que_jobs' catalog, cannot exist on
 * schema 3 (which has no {@code data} column), and cannot express a period or the time-dependent
 * states; a table works on every schema.
 *
 * <p><b>Claim.</b> A unique job's enqueue claims its key and inserts the job in one statement: the
 * key row first ({@code ON CONFLICT DO NOTHING}), the job only if the key was free. The primary key
 * decides, never a check before the insert, so two transactions enqueueing one key at the same
 * moment end with one job: the second waits for the first to commit or roll back. A rolled-back
 * enqueue releases its key with everything else in its transaction. A duplicate never writes to
 * que_jobs.
 *
 * <p><b>Release.</b> The trigger deletes a job's key when the job is deleted, finished or expired
 * (schema 4-7), whoever does it; a TRUNCATE of que_jobs empties the table. It also copies the job's
 * queue, priority, run_at and error_count when they change, so that an enqueue can tell the holder's
 * state and find its row on schema 3 by the full key.
 *
 * <p>Triggers do not run under {@code session_replication_role = replica}; {@link UniqueJobs#purge}
 * cleans up after such changes (and the next enqueue of a key whose job is gone takes it over anyway).
 */
package io.quejava.ext.unique;
