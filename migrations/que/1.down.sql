DROP TABLE que_jobs;
