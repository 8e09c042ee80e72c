DROP TABLE hour_stats, usage_stats, web_sessions;
ALTER TABLE users DROP COLUMN password_hash;
