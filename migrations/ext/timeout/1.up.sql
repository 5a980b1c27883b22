-- que-java extension "timeout", step 1: a timeout per job, kept beside que_jobs (never in it), so
-- that Ruby Que and que-go see the same rows as before. io.quejava.ext.timeout.Timeouts.enqueue
-- writes a row in the transaction that inserts the job; the Timeouts interceptor reads it when a
-- Java worker starts the job and cancels the job at the deadline. Ruby and Go workers ignore it.
--
-- job_id is the job's id in que_jobs (job_id on schema 3, id on 4-7). A row outlives its job when
-- the job is removed by someone else (Ruby, Go, an administrator) or expires: Timeouts.purge
-- deletes those.
CREATE TABLE que_job_timeouts (
  job_id     bigint      NOT NULL,
  timeout    interval    NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT que_job_timeouts_pkey PRIMARY KEY (job_id),
  CONSTRAINT que_job_timeouts_positive CHECK (timeout > interval '0')
);
