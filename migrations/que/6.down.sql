-- Back from schema step 6 to 5. Keyword arguments are dropped with their column, as in Ruby Que.

ALTER TABLE que_jobs
  ALTER COLUMN job_schema_version DROP NOT NULL,
  ALTER COLUMN job_schema_version SET DEFAULT 1;

ALTER INDEX que_poll_idx RENAME TO que_poll_idx_with_job_schema_version;
CREATE INDEX que_poll_idx ON que_jobs (queue, priority, run_at, id)
  WHERE finished_at IS NULL AND expired_at IS NULL;

DROP INDEX que_jobs_kwargs_gin_idx;
ALTER TABLE que_jobs DROP COLUMN kwargs;
