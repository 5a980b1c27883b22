-- Back from schema step 5 to 4: the announcing trigger forgets job schema versions again, and the
-- columns and the index that carried them go. @SCHEMA@: see 4.up.sql.

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

DROP INDEX que_poll_idx_with_job_schema_version;
ALTER TABLE que_lockers DROP COLUMN job_schema_version;
ALTER TABLE que_jobs DROP COLUMN job_schema_version;
