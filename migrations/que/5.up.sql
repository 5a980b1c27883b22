-- Schema step 5 (Ruby Que 1.3): a job schema version per job and per locker, so that Que 1.x and
-- 2.x workers can share the table during an upgrade, each taking only the jobs it understands.
-- Existing jobs and lockers get version 1. The announcing trigger now only tells lockers of the
-- job's version. @SCHEMA@: see 4.up.sql.

ALTER TABLE que_jobs ADD COLUMN job_schema_version integer DEFAULT 1;
ALTER TABLE que_lockers ADD COLUMN job_schema_version integer DEFAULT 1;

CREATE INDEX que_poll_idx_with_job_schema_version
  ON que_jobs (job_schema_version, queue, priority, run_at, id)
  WHERE finished_at IS NULL AND expired_at IS NULL;

-- As in 4.up.sql, with one more condition on the lockers.
CREATE OR REPLACE FUNCTION que_job_notify() RETURNS trigger
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
      AND l.job_schema_version = NEW.job_schema_version
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
