-- Back from schema step 4 to 3. Like Ruby Que's own step down, this loses what schema 3 cannot hold:
-- finished and expired jobs are deleted, data (tags) is dropped, the queue 'default' becomes the
-- empty name again, and message and backtrace are joined with a line break. Args go back to json
-- and, since the column cannot move, stay last in column order (as they do after Ruby's step down).

DROP TRIGGER que_state_notify ON que_jobs;
DROP TRIGGER que_job_notify ON que_jobs;
DROP FUNCTION que_state_notify();
DROP FUNCTION que_job_notify();
DROP FUNCTION que_determine_job_state(que_jobs);
DROP TABLE que_lockers;
DROP TABLE que_values;

DELETE FROM que_jobs WHERE finished_at IS NOT NULL OR expired_at IS NOT NULL;

ALTER TABLE que_jobs
  DROP CONSTRAINT que_jobs_pkey,
  DROP CONSTRAINT queue_length,
  DROP CONSTRAINT job_class_length,
  DROP CONSTRAINT valid_args,
  DROP CONSTRAINT valid_data,
  DROP CONSTRAINT error_length;
DROP INDEX que_poll_idx;
DROP INDEX que_jobs_data_gin_idx;
DROP INDEX que_jobs_args_gin_idx;
DROP FUNCTION que_validate_tags(jsonb);

ALTER TABLE que_jobs RESET (fillfactor);
ALTER TABLE que_jobs RENAME COLUMN id TO job_id;
ALTER SEQUENCE que_jobs_id_seq RENAME TO que_jobs_job_id_seq;
ALTER TABLE que_jobs RENAME COLUMN last_error_message TO last_error;

UPDATE que_jobs
SET queue = CASE WHEN queue = 'default' THEN '' ELSE queue END,
    last_error = last_error || coalesce(E'\n' || last_error_backtrace, '');

ALTER TABLE que_jobs
  DROP COLUMN last_error_backtrace,
  DROP COLUMN finished_at,
  DROP COLUMN expired_at,
  DROP COLUMN data,
  ALTER COLUMN args DROP DEFAULT,
  ALTER COLUMN args TYPE json USING args::json,
  ALTER COLUMN args SET DEFAULT '[]',
  ALTER COLUMN queue SET DEFAULT '',
  ADD CONSTRAINT que_jobs_pkey PRIMARY KEY (queue, priority, run_at, job_id);
