-- que-java extension "heartbeat", step 1: one row per job a que-java worker is running now, kept
-- fresh by the worker's process (io.quejava.ext.heartbeat.Heartbeats), so that jobs that hang can
-- be told from jobs that are merely long. que_jobs is not touched; Ruby Que and que-go never see
-- this table (their running jobs are known from their advisory locks, see InFlight).
--
-- (job_id, backend_pid) is one attempt: the job and the session holding its advisory lock.
-- last_beat is the database's now() at the last write; a row is stale when last_beat is older
-- than a few beat_intervals (the writer's own interval, kept per row so readers need no settings).
-- started_at is when the attempt started by the worker's clock; timeout is the attempt's timeout
-- when the timeout extension gave it one. UNLOGGED: the rows describe live sessions, which a
-- server crash ends anyway, and beats then cost no WAL; they are not replicated to standbys.
CREATE UNLOGGED TABLE que_heartbeats (
  job_id        bigint      NOT NULL,
  backend_pid   integer     NOT NULL,
  queue         text        NOT NULL,
  job_class     text        NOT NULL,
  worker_name   text,
  host          text        NOT NULL,
  os_pid        bigint      NOT NULL,
  started_at    timestamptz NOT NULL,
  last_beat     timestamptz NOT NULL DEFAULT now(),
  beat_interval interval    NOT NULL,
  progress      smallint,
  timeout       interval,
  CONSTRAINT que_heartbeats_pkey PRIMARY KEY (job_id, backend_pid),
  CONSTRAINT que_heartbeats_progress CHECK (progress BETWEEN 0 AND 100),
  CONSTRAINT que_heartbeats_beat_interval CHECK (beat_interval > interval '0')
) WITH (fillfactor = 70);
