-- Schema step 6 (Ruby Que 2.0): keyword arguments get a column of their own, the poll index leads
-- with the job schema version, and every insert must now say which job schema version it writes
-- (no default). Fails if a job has a NULL job_schema_version, which schema 5 allowed.

ALTER TABLE que_jobs ADD COLUMN kwargs jsonb NOT NULL DEFAULT '{}';
CREATE INDEX que_jobs_kwargs_gin_idx ON que_jobs USING gin (kwargs jsonb_path_ops);

DROP INDEX que_poll_idx;
ALTER INDEX que_poll_idx_with_job_schema_version RENAME TO que_poll_idx;

ALTER TABLE que_jobs
  ALTER COLUMN job_schema_version DROP DEFAULT,
  ALTER COLUMN job_schema_version SET NOT NULL;
