-- Removes the schedule extension's table, and the schedules in it.
DROP TABLE que_schedules;
