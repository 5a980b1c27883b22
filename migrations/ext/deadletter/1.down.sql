-- Removes the deadletter extension's table, and the dead jobs in it.
DROP TABLE que_dead_jobs;
