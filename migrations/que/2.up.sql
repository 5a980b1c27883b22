-- Schema step 2: the default priority moves from 1 to 100.
ALTER TABLE que_jobs ALTER COLUMN priority SET DEFAULT 100;
