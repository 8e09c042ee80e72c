-- Parquet snapshots read one UTC day at a time, table by table.
CREATE INDEX messages_ts ON messages(ts);
CREATE INDEX tool_calls_started ON tool_calls(started_at);
CREATE INDEX file_changes_ts ON file_changes(ts);

-- The UTC days (counted from the Unix epoch) holding rows, each with a
-- version that every write changing its rows or their sessions raises: a
-- snapshot taken at a smaller version is out of date.
CREATE TABLE export_days (
    day     INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
);
WITH RECURSIVE d(day, last) AS (
    SELECT first_at / 86400000, last_at / 86400000 FROM sessions WHERE first_at IS NOT NULL AND last_at IS NOT NULL
    UNION
    SELECT day + 1, last FROM d WHERE day < last)
INSERT INTO export_days (day, version) SELECT DISTINCT day, 1 FROM d WHERE true
    ON CONFLICT (day) DO NOTHING;
INSERT INTO export_days (day, version) SELECT DISTINCT ts / 86400000, 1 FROM usage WHERE true
    ON CONFLICT (day) DO NOTHING;

UPDATE schema_migrations SET version = 7, dirty = 0;
