-- Schema step 7 (Ruby Que 2.1): a transaction that runs SET LOCAL que.skip_notify TO true
-- inserts, changes and deletes jobs without either NOTIFY trigger firing (Ruby's bulk enqueue does
-- this). The WHEN condition is written as Que writes it, so the catalogs compare equal.
-- @SCHEMA@: see 4.up.sql.

DROP TRIGGER que_job_notify ON que_jobs;
CREATE TRIGGER que_job_notify
  AFTER INSERT ON que_jobs
  FOR EACH ROW
  WHEN (NOT coalesce(current_setting('que.skip_notify', true), '') = 'true')
  EXECUTE FUNCTION @SCHEMA@.que_job_notify();

DROP TRIGGER que_state_notify ON que_jobs;
CREATE TRIGGER que_state_notify
  AFTER INSERT OR UPDATE OR DELETE ON que_jobs
  FOR EACH ROW
  WHEN (NOT coalesce(current_setting('que.skip_notify', true), '') = 'true')
  EXECUTE FUNCTION @SCHEMA@.que_state_notify();
