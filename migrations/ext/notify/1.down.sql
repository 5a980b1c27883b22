-- que-java extension "notify", step 1 down: the trigger and its functions go; que_jobs itself is
-- exactly as it was before step 1 (if the table was dropped meanwhile, so was the trigger).
DO $do$
BEGIN
  IF to_regclass(format('%I.que_jobs', current_schema())) IS NOT NULL THEN
    EXECUTE format('DROP TRIGGER IF EXISTS que_java_notify ON %I.que_jobs', current_schema());
  END IF;
END
$do$;
DROP FUNCTION que_java_notify_install(regclass, text);
DROP FUNCTION que_java_notify_job();
