ALTER TABLE que_jobs DROP CONSTRAINT que_jobs_pkey;
ALTER TABLE que_jobs DROP COLUMN queue;
ALTER TABLE que_jobs ALTER COLUMN priority TYPE integer;
ALTER TABLE que_jobs ADD CONSTRAINT que_jobs_pkey PRIMARY KEY (priority, run_at, job_id);
