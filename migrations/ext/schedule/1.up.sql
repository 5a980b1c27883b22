-- que-java extension "schedule", version 1.
--
-- Recurring jobs: each row is a schedule (a cron expression in a time zone, or a fixed interval)
-- that que-java schedulers turn into ordinary que_jobs rows, one per tick, so any language's worker
-- runs them. next_run_at is the next tick not yet enqueued; a scheduler claims due rows with
-- FOR UPDATE SKIP LOCKED and enqueues and advances them in one transaction, so each tick is
-- enqueued exactly once however many schedulers run. que_jobs itself is never altered.
CREATE TABLE que_schedules (
  name        text        NOT NULL,
  cron        text,
  time_zone   text,
  every       interval,
  job_class   text        NOT NULL,
  args        json        NOT NULL DEFAULT '[]',
  queue       text,
  priority    smallint    NOT NULL DEFAULT 100,
  misfire     text        NOT NULL DEFAULT 'run_once',
  enabled     boolean     NOT NULL DEFAULT true,
  next_run_at timestamptz NOT NULL,
  last_run_at timestamptz,
  last_error  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT que_schedules_pkey PRIMARY KEY (name),
  CONSTRAINT que_schedules_timing CHECK (
    (cron IS NOT NULL AND time_zone IS NOT NULL AND every IS NULL)
    OR (cron IS NULL AND time_zone IS NULL AND every IS NOT NULL)),
  CONSTRAINT que_schedules_every_positive CHECK (every IS NULL OR every > interval '0'),
  CONSTRAINT que_schedules_args_array CHECK (json_typeof(args) = 'array'),
  CONSTRAINT que_schedules_misfire CHECK (misfire IN ('run_once', 'skip'))
);

CREATE INDEX que_schedules_due_idx ON que_schedules (next_run_at) WHERE enabled;

COMMENT ON TABLE que_schedules IS 'que-java schedule: cron and interval schedules that enqueue into que_jobs';
