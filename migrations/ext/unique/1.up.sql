-- que-java extension "unique", step 1: uniqueness keys for jobs, kept beside que_jobs (never in it).
--
-- A job enqueued with a uniqueness option (io.quejava.NewJob.unique) claims its key here, in the
-- statement that inserts it: the key row goes in first (INSERT ... ON CONFLICT DO NOTHING on the
-- primary key), and the job row only if the key was free. Two transactions that claim one key at the
-- same moment are serialised by the primary key's index: the second waits for the first and then
-- finds the key taken (or free again if the first rolled back). A duplicate never touches que_jobs.
--
-- The key is released by triggers on que_jobs, whoever changes the job: a DELETE (Ruby Que, que-go,
-- que-java, an operator, the deadletter extension on schema 3), an UPDATE that sets finished_at or
-- expired_at (schema 4-7: Que's finish and expire, the deadletter extension), and TRUNCATE. Those are
-- the moments a job leaves the states a key counts by default (ready, scheduled, running, failing).
-- The same row trigger keeps a copy of queue, priority, run_at and error_count, so that the enqueuer
-- can tell the holder's state (failing, scheduled, ready) and find its row by the full key on schema 3,
-- which has no index on job_id alone.
--
-- Triggers and functions are additive: no column, constraint or index of que_jobs changes, and Ruby
-- and Go insert, lock, update and delete exactly as before. Names start with que_java_.

CREATE TABLE que_unique_jobs (
  unique_key  text        COLLATE "C" NOT NULL,
  job_id      bigint      NOT NULL,
  job_class   text        NOT NULL,
  queue       text        NOT NULL,
  priority    smallint    NOT NULL,
  run_at      timestamptz NOT NULL,
  error_count integer     NOT NULL DEFAULT 0,
  -- The end of the key's period, if it has one: from then on the key no longer counts, whatever the
  -- holder's state (checked by the next enqueue of the key; no sweeper is needed).
  expires_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT que_unique_jobs_pkey PRIMARY KEY (unique_key),
  CONSTRAINT que_unique_jobs_job_id_key UNIQUE (job_id)
);

-- The row trigger's function. TG_ARGV[0] names que_jobs' id column: job_id (schema 3) or id (4-7),
-- set by que_java_unique_install. The fields are read in a block of their own whose only exception
-- handler covers a table that moved between schema 3 and 4 after the install (Que's migration 4
-- renames job_id to id): then the id and the outcome columns are read from the row as JSON. That
-- block writes nothing, so it never assigns a subtransaction id; the writes come after it.
CREATE FUNCTION que_java_unique_sync() RETURNS trigger
LANGUAGE plpgsql
AS $body$
DECLARE
  job     bigint;
  gone    boolean := TG_OP = 'DELETE';
  changed boolean;
  r       jsonb;
BEGIN
  BEGIN
    IF TG_ARGV[0] = 'id' THEN
      job := OLD.id;
      IF NOT gone THEN
        gone := NEW.finished_at IS NOT NULL OR NEW.expired_at IS NOT NULL;
      END IF;
    ELSE
      job := OLD.job_id;
    END IF;
  EXCEPTION WHEN undefined_column THEN
    r := to_jsonb(OLD);
    job := coalesce(r->>'id', r->>'job_id')::bigint;
    IF NOT gone THEN
      r := to_jsonb(NEW);
      gone := (r->>'finished_at') IS NOT NULL OR (r->>'expired_at') IS NOT NULL;
    END IF;
  END;
  IF gone THEN
    DELETE FROM @SCHEMA@.que_unique_jobs WHERE job_id = job;
    RETURN NULL;
  END IF;
  changed := (OLD.queue, OLD.priority, OLD.run_at, OLD.error_count)
    IS DISTINCT FROM (NEW.queue, NEW.priority, NEW.run_at, NEW.error_count);
  IF changed THEN
    UPDATE @SCHEMA@.que_unique_jobs
    SET queue = NEW.queue, priority = NEW.priority, run_at = NEW.run_at, error_count = NEW.error_count
    WHERE job_id = job;
  END IF;
  RETURN NULL;
END
$body$;

CREATE FUNCTION que_java_unique_truncate() RETURNS trigger
LANGUAGE plpgsql
AS $body$
BEGIN
  DELETE FROM @SCHEMA@.que_unique_jobs;
  RETURN NULL;
END
$body$;

-- (Re)creates the triggers on que_jobs for the id column the table has now. Idempotent: triggers
-- that already name that column are left alone. UniqueJobs.install calls it after every migration,
-- so it also repairs triggers made before que_jobs moved between schema 3 and 4.
CREATE FUNCTION que_java_unique_install(jobs regclass) RETURNS text
LANGUAGE plpgsql
AS $body$
DECLARE
  id_column text;
  current   bytea;
BEGIN
  SELECT a.attname INTO id_column
  FROM pg_attribute a
  WHERE a.attrelid = jobs AND a.attname IN ('job_id', 'id') AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attname DESC  -- job_id (schema 3) before id
  LIMIT 1;
  IF id_column IS NULL THEN
    RAISE EXCEPTION '% has neither job_id nor id: it is not a que_jobs table', jobs;
  END IF;
  SELECT t.tgargs INTO current
  FROM pg_trigger t
  WHERE t.tgrelid = jobs AND t.tgname = 'que_java_unique_sync';
  IF current IS DISTINCT FROM convert_to(id_column, 'UTF8') || '\x00'::bytea THEN
    EXECUTE format('DROP TRIGGER IF EXISTS que_java_unique_sync ON %s', jobs);
    EXECUTE format('CREATE TRIGGER que_java_unique_sync AFTER UPDATE OR DELETE ON %s FOR EACH ROW'
      || ' EXECUTE FUNCTION @SCHEMA@.que_java_unique_sync(%L)', jobs, id_column);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = jobs AND t.tgname = 'que_java_unique_truncate') THEN
    EXECUTE format('CREATE TRIGGER que_java_unique_truncate AFTER TRUNCATE ON %s FOR EACH STATEMENT'
      || ' EXECUTE FUNCTION @SCHEMA@.que_java_unique_truncate()', jobs);
  END IF;
  RETURN id_column;
END
$body$;

DO $do$
BEGIN
  IF to_regclass(format('%I.que_jobs', current_schema())) IS NULL THEN
    RAISE EXCEPTION 'there is no que_jobs table in schema %: create it first (Migrator.migrate())', current_schema();
  END IF;
END
$do$;

SELECT que_java_unique_install(format('%I.que_jobs', current_schema())::regclass);
