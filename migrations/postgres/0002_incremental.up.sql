-- File identity and head hash for incremental import, sessions per file, and
-- lines that could not be imported (as migrations/sqlite/0002_incremental).

ALTER TABLE ingest_files
    ADD COLUMN dev bigint NOT NULL DEFAULT 0,
    ADD COLUMN inode bigint NOT NULL DEFAULT 0,
    ADD COLUMN head_len bigint NOT NULL DEFAULT 0,
    ADD COLUMN head_hash text NOT NULL DEFAULT '',
    ADD COLUMN imported_at timestamptz,
    ADD COLUMN gone_at timestamptz;

-- Which files a session was read from: a session whose files are all gone
-- lives only in the database.
CREATE TABLE session_files (
    session_id text COLLATE "C" NOT NULL,
    path       text COLLATE "C" NOT NULL,
    PRIMARY KEY (session_id, path)
);
CREATE INDEX session_files_path ON session_files(path);

-- Lines (line >= 1) and whole files (line 0) that could not be imported.
CREATE TABLE skipped_lines (
    path   text COLLATE "C" NOT NULL,
    line   bigint NOT NULL,
    reason text COLLATE "C" NOT NULL,
    detail text NOT NULL DEFAULT '',
    at     timestamptz NOT NULL,
    PRIMARY KEY (path, line)
);
CREATE INDEX skipped_lines_at ON skipped_lines(at);

-- Read every file once more, so that session_files and skipped_lines cover
-- what was imported before them; rows already imported are not duplicated.
DELETE FROM ingest_files;

UPDATE schema_migrations SET version = 2, dirty = false;
