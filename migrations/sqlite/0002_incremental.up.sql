-- File identity and head hash for incremental import, sessions per file, and
-- lines that could not be imported.

ALTER TABLE ingest_files ADD COLUMN dev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ingest_files ADD COLUMN inode INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ingest_files ADD COLUMN head_len INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ingest_files ADD COLUMN head_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE ingest_files ADD COLUMN imported_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ingest_files ADD COLUMN gone_at INTEGER;

-- Which files a session was read from: a session whose files are all gone
-- lives only in the database.
CREATE TABLE session_files (
    session_id TEXT NOT NULL,
    path       TEXT NOT NULL,
    PRIMARY KEY (session_id, path)
);
CREATE INDEX session_files_path ON session_files(path);

-- Lines (line >= 1) and whole files (line 0) that could not be imported.
CREATE TABLE skipped_lines (
    path   TEXT NOT NULL,
    line   INTEGER NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    at     INTEGER NOT NULL,
    PRIMARY KEY (path, line)
);
CREATE INDEX skipped_lines_at ON skipped_lines(at);

-- Read every file once more, so that session_files and skipped_lines cover
-- what was imported before them; rows already imported are not duplicated.
DELETE FROM ingest_files;

-- Every migration from this one on ends by recording itself as applied, inside
-- its own transaction: a crash leaves it either applied and recorded or neither.
UPDATE schema_migrations SET version = 2, dirty = 0;
