-- Back from schema step 7 to 6: both triggers fire unconditionally again.
--
-- Ruby Que's own step down (2.4.1) re-creates only que_job_notify and leaves the skip condition on
-- que_state_notify. que-java restores both, so a table stepped down from 7 is the same as one
-- migrated up to 6. The difference is invisible to Que 2.0, which never sets que.skip_notify.
-- @SCHEMA@: see 4.up.sql.

DROP TRIGGER que_job_notify ON que_jobs;
CREATE TRIGGER que_job_notify
  AFTER INSERT ON que_jobs
  FOR EACH ROW EXECUTE FUNCTION @SCHEMA@.que_job_notify();

DROP TRIGGER que_state_notify ON que_jobs;
CREATE TRIGGER que_state_notify
  AFTER INSERT OR UPDATE OR DELETE ON que_jobs
  FOR EACH ROW EXECUTE FUNCTION @SCHEMA@.que_state_notify();
