-- que-java extension "heartbeat", step 1 down.
DROP TABLE que_heartbeats;
