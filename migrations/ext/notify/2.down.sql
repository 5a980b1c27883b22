-- que-java extension "notify", step 2 down: the trigger function announces every job again, the
-- installer and the trigger are as step 1 made them (with the WHEN clause that tests
-- que_java.skip_notify, same channel), and the key function goes. que_jobs itself is not touched.
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

CREATE OR REPLACE FUNCTION que_java_notify_install(jobs regclass, channel text) RETURNS text
LANGUAGE plpgsql
AS $body$
DECLARE
  id_column text;
  wanted    bytea;
  current   bytea;
BEGIN
  IF channel IS NULL OR channel !~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'channel: % is not a plain identifier of at most 63 characters', coalesce(channel, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT a.attname INTO id_column
  FROM pg_attribute a
  WHERE a.attrelid = jobs AND a.attname IN ('job_id', 'id') AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attname DESC  -- job_id (schema 3) before id
  LIMIT 1;
  IF id_column IS NULL THEN
    RAISE EXCEPTION '% has neither job_id nor id: it is not a que_jobs table', jobs;
  END IF;
  wanted := convert_to(channel, 'UTF8') || '\x00'::bytea || convert_to(id_column, 'UTF8') || '\x00'::bytea;
  SELECT t.tgargs INTO current
  FROM pg_trigger t
  WHERE t.tgrelid = jobs AND t.tgname = 'que_java_notify';
  IF current IS NOT DISTINCT FROM wanted THEN
    RETURN channel;
  END IF;
  EXECUTE format('DROP TRIGGER IF EXISTS que_java_notify ON %s', jobs);
  EXECUTE format(
    'CREATE TRIGGER que_java_notify AFTER INSERT ON %s FOR EACH ROW'
    || ' WHEN (NOT coalesce(current_setting(''que_java.skip_notify'', true), '''') = ''true'')'
    || ' EXECUTE FUNCTION @SCHEMA@.que_java_notify_job(%L, %L)',
    jobs, channel, id_column);
  RETURN channel;
END
$body$;

DO $do$
DECLARE
  jobs regclass := to_regclass(format('%I.que_jobs', current_schema()));
  args bytea;
BEGIN
  SELECT t.tgargs INTO args FROM pg_trigger t WHERE t.tgrelid = jobs AND t.tgname = 'que_java_notify';
  IF args IS NOT NULL THEN
    EXECUTE format('DROP TRIGGER que_java_notify ON %s', jobs);
    PERFORM que_java_notify_install(jobs, convert_from(substring(args FROM 1 FOR position('\x00'::bytea IN args) - 1), 'UTF8'));
  END IF;
END
$do$;

DROP FUNCTION que_java_notify_key(text, text);
