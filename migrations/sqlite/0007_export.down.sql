DROP TABLE export_days;
DROP INDEX file_changes_ts;
DROP INDEX tool_calls_started;
DROP INDEX messages_ts;
