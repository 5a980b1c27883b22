-- Schema step 4 (Ruby Que 1.0): the modern que_jobs.
--
-- The table is rewritten in place (one pass over every row): `id` becomes the whole primary key,
-- args move to jsonb, an error is kept as a message plus a backtrace, the empty queue name becomes
-- 'default', and finished or expired jobs can stay in the table. Around it come que_lockers (one row
-- per Ruby locker process, UNLOGGED), que_values (spare key/value storage Que itself never reads),
-- a tag validator, a job-state function and two NOTIFY triggers.
--
-- @SCHEMA@ is the target schema as a quoted identifier, put in by the Migrator. Everything that
-- runs later under someone else's search_path (function bodies, CHECKs, triggers) names its tables
-- and functions through it; in the public schema this is what Ruby Que's hard-coded `public.` gives.

ALTER TABLE que_jobs SET (fillfactor = 90);

ALTER TABLE que_jobs DROP CONSTRAINT que_jobs_pkey;
ALTER TABLE que_jobs RENAME COLUMN job_id TO id;
ALTER SEQUENCE que_jobs_job_id_seq RENAME TO que_jobs_id_seq;
ALTER TABLE que_jobs RENAME COLUMN last_error TO last_error_message;
-- The json args are copied into a new jsonb column below, then this one is dropped.
ALTER TABLE que_jobs RENAME COLUMN args TO args_v3;

-- Added in this order so that column positions match a table Ruby Que migrated.
ALTER TABLE que_jobs
  ADD COLUMN last_error_backtrace text,
  ADD COLUMN finished_at          timestamptz,
  ADD COLUMN expired_at           timestamptz,
  ADD COLUMN args                 jsonb,
  ADD COLUMN data                 jsonb;

-- The error text splits at its first line break: the line before it (at most 500 characters) is
-- the message, everything after it (at most 10000) the backtrace. Two edge cases follow Que: a text
-- that is empty or starts with a line break has no message, and the latter keeps its whole text,
-- break included, as the backtrace. Args that were not a JSON array become a one-element array.
UPDATE que_jobs
SET queue = CASE WHEN queue = '' THEN 'default' ELSE queue END,
    last_error_message = left(nullif(
        CASE strpos(last_error_message, E'\n')
          WHEN 0 THEN last_error_message
          ELSE left(last_error_message, strpos(last_error_message, E'\n') - 1)
        END, ''), 500),
    last_error_backtrace =
        CASE strpos(last_error_message, E'\n')
          WHEN 0 THEN NULL
          WHEN 1 THEN left(last_error_message, 10000)
          ELSE left(substr(last_error_message, strpos(last_error_message, E'\n') + 1), 10000)
        END,
    args = CASE WHEN json_typeof(args_v3) = 'array' THEN args_v3::jsonb
                ELSE jsonb_build_array(args_v3::jsonb) END,
    data = '{}';

ALTER TABLE que_jobs DROP COLUMN args_v3;

-- True when every element of the array is a JSON string whose text, quotes included, is at most
-- 100 characters (so 98 characters of tag); NULL for an empty array, which a CHECK accepts.
CREATE FUNCTION que_validate_tags(tags_array jsonb) RETURNS boolean
LANGUAGE sql
AS $body$
  SELECT bool_and(jsonb_typeof(tag) = 'string' AND char_length(tag::text) <= 100)
  FROM jsonb_array_elements(tags_array) AS t(tag)
$body$;

ALTER TABLE que_jobs
  ALTER COLUMN queue SET DEFAULT 'default',
  ALTER COLUMN args SET DEFAULT '[]',
  ALTER COLUMN args SET NOT NULL,
  ALTER COLUMN data SET DEFAULT '{}',
  ALTER COLUMN data SET NOT NULL,
  ADD CONSTRAINT que_jobs_pkey PRIMARY KEY (id),
  ADD CONSTRAINT queue_length CHECK (char_length(queue) <= 100),
  -- ActiveJob jobs all share one wrapper class; the class that counts is the wrapped one.
  ADD CONSTRAINT job_class_length CHECK (
    char_length(CASE job_class
                  WHEN 'ActiveJob::QueueAdapters::QueAdapter::JobWrapper' THEN args -> 0 ->> 'job_class'
                  ELSE job_class
                END) <= 200),
  ADD CONSTRAINT valid_args CHECK (jsonb_typeof(args) = 'array'),
  ADD CONSTRAINT valid_data CHECK (
    jsonb_typeof(data) = 'object'
    AND (NOT data ? 'tags'
         OR jsonb_typeof(data -> 'tags') = 'array'
            AND jsonb_array_length(data -> 'tags') <= 5
            AND @SCHEMA@.que_validate_tags(data -> 'tags'))),
  ADD CONSTRAINT error_length CHECK (
    char_length(last_error_message) <= 500 AND char_length(last_error_backtrace) <= 10000);

CREATE INDEX que_poll_idx ON que_jobs (queue, priority, run_at, id)
  WHERE finished_at IS NULL AND expired_at IS NULL;
CREATE INDEX que_jobs_data_gin_idx ON que_jobs USING gin (data jsonb_path_ops);
CREATE INDEX que_jobs_args_gin_idx ON que_jobs USING gin (args jsonb_path_ops);

CREATE TABLE que_values (
  key   text  PRIMARY KEY,
  value jsonb NOT NULL DEFAULT '{}',
  CONSTRAINT valid_value CHECK (jsonb_typeof(value) = 'object')
) WITH (fillfactor = 90);

-- One row per running Ruby locker; its contents vanish with a crash, as the lockers themselves do.
-- A NULL in worker_priorities means a worker that takes any priority.
CREATE UNLOGGED TABLE que_lockers (
  pid               integer   NOT NULL,
  worker_count      integer   NOT NULL,
  worker_priorities integer[] NOT NULL,
  ruby_pid          integer   NOT NULL,
  ruby_hostname     text      NOT NULL,
  queues            text[]    NOT NULL,
  listening         boolean   NOT NULL,
  CONSTRAINT que_lockers_pkey PRIMARY KEY (pid),
  CONSTRAINT valid_worker_priorities CHECK (
    array_ndims(worker_priorities) = 1 AND array_length(worker_priorities, 1) IS NOT NULL),
  CONSTRAINT valid_queues CHECK (array_ndims(queues) = 1 AND array_length(queues, 1) IS NOT NULL)
);

-- Announces a job that is due now to one listening locker of its queue, on the channel
-- que_listener_<locker pid>. Each locker owns one slot per worker; the slots are shuffled by the
-- md5 of (pid, slot number) and the job id, modulo the number of slots, picks one, so that
-- announcements spread over lockers in proportion to their workers. The payload carries only what
-- a locker needs to decide whether to lock the job (NOTIFY payloads are limited in size).
CREATE FUNCTION que_job_notify() RETURNS trigger
LANGUAGE plpgsql
AS $body$
DECLARE
  chosen  integer;
  payload json;
BEGIN
  IF NEW.run_at > now() THEN
    RETURN NULL;  -- a job for later is found by polling
  END IF;

  SELECT s.pid INTO chosen
  FROM (
    SELECT l.pid,
           row_number() OVER (ORDER BY md5(l.pid::text || n.slot::text), l.pid, n.slot) - 1 AS position,
           count(*) OVER () AS slots
    FROM @SCHEMA@.que_lockers AS l
    CROSS JOIN LATERAL generate_series(1, l.worker_count) AS n(slot)
    WHERE l.listening
      AND l.queues @> ARRAY[NEW.queue]
  ) AS s
  WHERE s.position = NEW.id % s.slots;

  IF chosen IS NOT NULL THEN
    SELECT row_to_json(m) INTO payload
    FROM (SELECT 'job_available' AS message_type,
                 NEW.queue       AS queue,
                 NEW.priority    AS priority,
                 NEW.id          AS id,
                 to_char(NEW.run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS run_at) AS m;
    PERFORM pg_notify('que_listener_' || chosen::text, payload::text);
  END IF;
  RETURN NULL;
END
$body$;

-- The state of a job as Que's tools show it; the first rule that holds wins.
CREATE FUNCTION que_determine_job_state(job @SCHEMA@.que_jobs) RETURNS text
LANGUAGE sql
AS $body$
  SELECT CASE
           WHEN job.expired_at IS NOT NULL THEN 'expired'
           WHEN job.finished_at IS NOT NULL THEN 'finished'
           WHEN job.error_count > 0 THEN 'errored'
           WHEN job.run_at > CURRENT_TIMESTAMP THEN 'scheduled'
           ELSE 'ready'
         END
$body$;

-- Sends every change of a job's state (insert and delete count as changes from and to
-- 'nonexistent') to the channel que_state. Nothing in Que listens to it.
CREATE FUNCTION que_state_notify() RETURNS trigger
LANGUAGE plpgsql
AS $body$
DECLARE
  job       record;
  old_state text;
  new_state text;
  payload   json;
BEGIN
  CASE TG_OP
    WHEN 'INSERT' THEN
      job := NEW;
      old_state := 'nonexistent';
      new_state := @SCHEMA@.que_determine_job_state(NEW);
    WHEN 'DELETE' THEN
      job := OLD;
      old_state := @SCHEMA@.que_determine_job_state(OLD);
      new_state := 'nonexistent';
    WHEN 'UPDATE' THEN
      job := NEW;
      old_state := @SCHEMA@.que_determine_job_state(OLD);
      new_state := @SCHEMA@.que_determine_job_state(NEW);
      IF old_state = new_state THEN
        RETURN NULL;
      END IF;
  END CASE;

  SELECT row_to_json(m) INTO payload
  FROM (SELECT 'job_change' AS message_type,
               job.id       AS id,
               job.queue    AS queue,
               coalesce(job.data -> 'tags', '[]'::jsonb) AS tags,
               to_char(job.run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS run_at,
               to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS time,
               CASE WHEN job.job_class = 'ActiveJob::QueueAdapters::QueAdapter::JobWrapper'
                    THEN coalesce(job.args -> 0 ->> 'job_class', job.job_class)
                    ELSE job.job_class
               END AS job_class,
               old_state AS previous_state,
               new_state AS current_state) AS m;
  PERFORM pg_notify('que_state', payload::text);
  RETURN NULL;
END
$body$;

CREATE TRIGGER que_job_notify
  AFTER INSERT ON que_jobs
  FOR EACH ROW EXECUTE FUNCTION @SCHEMA@.que_job_notify();

CREATE TRIGGER que_state_notify
  AFTER INSERT OR UPDATE OR DELETE ON que_jobs
  FOR EACH ROW EXECUTE FUNCTION @SCHEMA@.que_state_notify();
