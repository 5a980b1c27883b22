-- que-java extension "notify", step 2 down: the trigger function announces every job again, as
-- step 1 made it, and the key function goes. que_jobs and its trigger are not touched.
CREATE OR REPLACE FUNCTION que_java_notify_job() RETURNS trigger
LANGUAGE plpgsql
AS $body$
DECLARE
  job     bigint;
  run_at  text;
  payload text;
BEGIN
  run_at := to_char(NEW.run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
  BEGIN
    IF TG_ARGV[1] = 'id' THEN
      job := NEW.id;
    ELSE
      job := NEW.job_id;
    END IF;
    payload := json_build_object('schema', TG_TABLE_SCHEMA, 'queue', NEW.queue, 'run_at', run_at, 'id', job)::text;
    IF octet_length(payload) > 7999 THEN
      payload := json_build_object('schema', TG_TABLE_SCHEMA, 'run_at', run_at, 'id', job)::text;
    END IF;
    PERFORM pg_notify(TG_ARGV[0], payload);
  EXCEPTION
    WHEN undefined_column THEN
      -- At most 63 + 40 bytes: this cannot be too long, and the channel was checked at install.
      PERFORM pg_notify(TG_ARGV[0], json_build_object('schema', TG_TABLE_SCHEMA, 'run_at', run_at)::text);
    WHEN OTHERS THEN
      RAISE WARNING 'que-java notify trigger on %.%: % (SQLSTATE %); the job was inserted and is found by polling',
        TG_TABLE_SCHEMA, TG_TABLE_NAME, SQLERRM, SQLSTATE;
  END;
  RETURN NULL;
END
$body$;

DROP FUNCTION que_java_notify_key(text, text);
