-- que-java extension "deadletter", version 1.
--
-- Jobs that failed their last allowed attempt on a schema-3 que_jobs (Ruby Que 0.x, que-go), moved
-- here with their row intact, in the same transaction that deleted them from que_jobs while their
-- worker held the job's advisory lock. On schemas 4 to 7 the extension uses Que's own expired_at
-- instead and this table stays empty. que_jobs itself is never altered.
CREATE TABLE que_dead_jobs (
  priority    smallint    NOT NULL,
  run_at      timestamptz NOT NULL,
  job_id      bigint      NOT NULL,
  job_class   text        NOT NULL,
  args        json        NOT NULL,
  error_count integer     NOT NULL,
  last_error  text,
  queue       text        NOT NULL,
  died_at     timestamptz NOT NULL DEFAULT now(),
  reason      text        NOT NULL,
  worker      text,
  CONSTRAINT que_dead_jobs_pkey PRIMARY KEY (job_id)
);

CREATE INDEX que_dead_jobs_died_at_idx ON que_dead_jobs (died_at);
CREATE INDEX que_dead_jobs_queue_class_idx ON que_dead_jobs (queue, job_class);

COMMENT ON TABLE que_dead_jobs IS 'que-java deadletter: jobs moved out of que_jobs after their last allowed attempt';
