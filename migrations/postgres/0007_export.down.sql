DROP TABLE export_days;
DROP INDEX file_changes_ts, tool_calls_started, messages_ts;
