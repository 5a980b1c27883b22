-- que-java extension "notify", step 1: an AFTER INSERT trigger on que_jobs that announces every new
-- job with pg_notify, so that que-java pools (io.quejava.ext.notify.NotifyWakeups) wake at once
-- instead of at their next poll. It is additive: no column, constraint or index of que_jobs changes,
-- and Ruby Que and que-go insert exactly as before (the trigger never raises; see below).
--
-- Names start with que_java_ so they never meet Que's own que_job_notify / que_state_notify
-- (schema 4-7). Unqualified names resolve to the extension's schema (ExtensionMigrator sets the
-- search_path); @SCHEMA@ is that schema as a quoted identifier, for what runs later under other
-- sessions' search_paths.

-- The trigger function. Its two arguments are set by que_java_notify_install below:
--   TG_ARGV[0]  the channel (a plain identifier, checked by the installer)
--   TG_ARGV[1]  the job id column: job_id (schema 3) or id (schema 4-7)
-- The payload is small, one JSON object per job:
--   {"schema":"public","queue":"billing","run_at":"2026-01-02T03:04:05.123456Z","id":42}
-- run_at is UTC with microseconds, as Que's own job_available message writes it; a job for later
-- is announced too, so that a listener can wake a worker at run_at. Listeners read a message
-- without "queue" as "any queue": that is what is sent when the payload would not fit NOTIFY's
-- 8000 bytes (a very long queue name), and when que_jobs moved between schema 3 and 4 after the
-- trigger was made (the id column it names is gone; NotifyWakeups.install puts it right).
--
-- Nothing here raises: any other error becomes a WARNING, the job is inserted whatever happens,
-- and workers still find it by polling. The one failure a trigger cannot catch is NOTIFY's own
-- at commit (PREPARE TRANSACTION after a NOTIFY, or a full notification queue); see package-info.
CREATE FUNCTION que_java_notify_job() RETURNS trigger
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

-- (Re)creates the trigger on que_jobs for a channel, with the id column the table has now.
-- Idempotent: a trigger that already has these arguments is left alone. Returns the channel.
-- NotifyWakeups.install calls it (with bind parameters) after every migration, so that it also
-- repairs a trigger left behind by a move between the classic and modern schemas.
CREATE FUNCTION que_java_notify_install(jobs regclass, channel text) RETURNS text
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
BEGIN
  IF to_regclass(format('%I.que_jobs', current_schema())) IS NULL THEN
    RAISE EXCEPTION 'there is no que_jobs table in schema %: create it first (Migrator.migrate())', current_schema();
  END IF;
END
$do$;

SELECT que_java_notify_install(format('%I.que_jobs', current_schema())::regclass, 'que_java_jobs');
