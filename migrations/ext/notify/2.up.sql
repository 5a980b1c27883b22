-- que-java extension "notify", step 2: a job due now is announced only while some pool can be
-- woken by it, that is while a pool listening on its queue has an idle worker. Every NOTIFY makes
-- its transaction take a database-wide lock at commit, so notifying inserts commit one at a time and
-- group commit cannot share their WAL flushes; a busy pool does not need the message (its workers
-- look again right after each job). Jobs due later are announced as before (the listener wakes a
-- worker at their run_at). que_jobs itself is not touched: only our trigger is made again, with the
-- same channel and arguments, and without the WHEN clause step 1 gave it: PostgreSQL reads and
-- prepares a trigger's WHEN clause again for every statement (about 10-20 us per one-row INSERT
-- here), while the function below keeps its expressions prepared for the session. The function
-- now tests que_java.skip_notify itself.
--
-- How a pool asks to be woken, and why no job is missed (io.quejava.ext.notify.NotifyWakeups):
--   * While a pool has an idle worker it holds (or waits for) the session-level advisory lock
--     (-1364544078, que_java_notify_key(schema, queue)) in exclusive mode, on a connection of its own.
--   * For each job due now, the trigger tries the same lock in shared mode for its transaction.
--     The try fails exactly when some pool holds the lock or waits for it: then the job is
--     announced. When it succeeds the transaction holds the shared lock until it ends, so a pool
--     that asks to be woken afterwards waits until this job is committed or rolled back, and looks
--     for work once it has the lock: it finds the job without a message.
--   * Either the inserting transaction sees the pool's request (and notifies), or the pool's
--     request waits for that transaction (and the pool's next lock walk sees its jobs).
-- The try never waits, so an insert is never slowed by a pool. The first key is negative so that
-- Que's job_stats and worker_states, which read every advisory lock in pg_locks as a job id
-- ((classid << 32) + objid), decode this one as a negative id that matches no job; the two-key
-- lock is in a lock space of its own, apart from the one-key job locks of every Que peer.

-- The second key of a queue's lock: the same for the trigger and for the pools (which call it).
CREATE FUNCTION que_java_notify_key(jobs_schema text, queue text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $body$ SELECT hashtext(jobs_schema || '.' || queue) $body$;

CREATE OR REPLACE FUNCTION que_java_notify_job() RETURNS trigger
LANGUAGE plpgsql
AS $body$
DECLARE
  job     bigint;
  run_at  text;
  payload text;
BEGIN
  IF current_setting('que_java.skip_notify', true) = 'true' THEN
    RETURN NULL;  -- SET LOCAL que_java.skip_notify TO true silences this trigger for a transaction
  END IF;
  IF NEW.run_at <= now() THEN
    BEGIN
      IF pg_try_advisory_xact_lock_shared(-1364544078, @SCHEMA@.que_java_notify_key(TG_TABLE_SCHEMA, NEW.queue)) THEN
        RETURN NULL;  -- no pool is idle on this queue; one that becomes idle will find the job
      END IF;
    EXCEPTION
      WHEN OTHERS THEN
        NULL;  -- (out of lock memory): announce the job, as step 1 did
    END;
  END IF;
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
      PERFORM pg_notify(TG_ARGV[0], json_build_object('schema', TG_TABLE_SCHEMA, 'run_at', run_at)::text);
    WHEN OTHERS THEN
      RAISE WARNING 'que-java notify trigger on %.%: % (SQLSTATE %); the job was inserted and is found by polling',
        TG_TABLE_SCHEMA, TG_TABLE_NAME, SQLERRM, SQLSTATE;
  END;
  RETURN NULL;
END
$body$;

-- (Re)creates the trigger on que_jobs for a channel, as step 1's installer did, but without a WHEN
-- clause. Idempotent: a trigger with these arguments and no WHEN is left alone.
CREATE OR REPLACE FUNCTION que_java_notify_install(jobs regclass, channel text) RETURNS text
LANGUAGE plpgsql
AS $body$
DECLARE
  id_column text;
  wanted    bytea;
  current   bytea;
  has_when  boolean;
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
  SELECT t.tgargs, t.tgqual IS NOT NULL INTO current, has_when
  FROM pg_trigger t
  WHERE t.tgrelid = jobs AND t.tgname = 'que_java_notify';
  IF current IS NOT DISTINCT FROM wanted AND NOT has_when THEN
    RETURN channel;
  END IF;
  EXECUTE format('DROP TRIGGER IF EXISTS que_java_notify ON %s', jobs);
  EXECUTE format(
    'CREATE TRIGGER que_java_notify AFTER INSERT ON %s FOR EACH ROW'
    || ' EXECUTE FUNCTION @SCHEMA@.que_java_notify_job(%L, %L)',
    jobs, channel, id_column);
  RETURN channel;
END
$body$;

-- The trigger again, on the channel it has, by the installer above (without WHEN).
DO $do$
DECLARE
  jobs regclass := to_regclass(format('%I.que_jobs', current_schema()));
  args bytea;
BEGIN
  SELECT t.tgargs INTO args FROM pg_trigger t WHERE t.tgrelid = jobs AND t.tgname = 'que_java_notify';
  IF args IS NOT NULL THEN
    PERFORM que_java_notify_install(jobs, convert_from(substring(args FROM 1 FOR position('\x00'::bytea IN args) - 1), 'UTF8'));
  END IF;
END
$do$;
