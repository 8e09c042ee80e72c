-- Parquet snapshots read one UTC day at a time, table by table.
CREATE INDEX messages_ts ON messages(ts);
CREATE INDEX tool_calls_started ON tool_calls(started_at);
CREATE INDEX file_changes_ts ON file_changes(ts);

-- The UTC days holding rows, each with a version that every write changing
-- its rows or their sessions raises: a snapshot taken at a smaller version
-- is out of date.
CREATE TABLE export_days (
    day     date PRIMARY KEY,
    version bigint NOT NULL
);
INSERT INTO export_days (day, version)
    SELECT DISTINCT d::date, 1 FROM sessions s,
        generate_series((s.first_at AT TIME ZONE 'UTC')::date, (s.last_at AT TIME ZONE 'UTC')::date, interval '1 day') AS d
    WHERE s.first_at IS NOT NULL AND s.last_at IS NOT NULL
    UNION SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date, 1 FROM usage;

UPDATE schema_migrations SET version = 7, dirty = false;
