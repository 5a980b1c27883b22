-- que-java extension "unique", step 1 down: the triggers, their functions and the keys go; que_jobs
-- itself is exactly as it was before step 1 (if the table was dropped meanwhile, so were the triggers).
DO $do$
BEGIN
  IF to_regclass(format('%I.que_jobs', current_schema())) IS NOT NULL THEN
    EXECUTE format('DROP TRIGGER IF EXISTS que_java_unique_sync ON %I.que_jobs', current_schema());
    EXECUTE format('DROP TRIGGER IF EXISTS que_java_unique_truncate ON %I.que_jobs', current_schema());
  END IF;
END
$do$;
DROP FUNCTION que_java_unique_install(regclass);
DROP FUNCTION que_java_unique_sync();
DROP FUNCTION que_java_unique_truncate();
DROP TABLE que_unique_jobs;
