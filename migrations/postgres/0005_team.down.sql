DROP TABLE tool_usage, daily_stats;
ALTER TABLE sessions DROP COLUMN user_id;
DROP TABLE users;
