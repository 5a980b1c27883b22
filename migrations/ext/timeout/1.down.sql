-- que-java extension "timeout", step 1 down.
DROP TABLE que_job_timeouts;
