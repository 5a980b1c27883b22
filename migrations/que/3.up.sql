-- Schema step 3: priority becomes smallint, jobs gain a queue, and the queue leads the key.
ALTER TABLE que_jobs DROP CONSTRAINT que_jobs_pkey;
ALTER TABLE que_jobs ALTER COLUMN priority TYPE smallint;
ALTER TABLE que_jobs ADD COLUMN queue text NOT NULL DEFAULT '';
ALTER TABLE que_jobs ADD CONSTRAINT que_jobs_pkey PRIMARY KEY (queue, priority, run_at, job_id);
