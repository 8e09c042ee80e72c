-- Timestamps are milliseconds since the Unix epoch, UTC.

-- Settings of the database itself, such as the fingerprint of the prices its costs were computed with.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE ingest_files (
    path     TEXT PRIMARY KEY,
    size     INTEGER NOT NULL DEFAULT 0,
    offset   INTEGER NOT NULL DEFAULT 0,
    lines    INTEGER NOT NULL DEFAULT 0,
    broken   INTEGER NOT NULL DEFAULT 0,
    mod_time INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    project         TEXT NOT NULL DEFAULT '',
    git_branch      TEXT NOT NULL DEFAULT '',
    version         TEXT NOT NULL DEFAULT '',
    first_at        INTEGER,
    last_at         INTEGER,
    messages        INTEGER NOT NULL DEFAULT 0,
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    cache_write_5m  INTEGER NOT NULL DEFAULT 0,
    cache_write_1h  INTEGER NOT NULL DEFAULT 0,
    cache_read      INTEGER NOT NULL DEFAULT 0,
    cost            REAL NOT NULL DEFAULT 0
);
CREATE INDEX sessions_project ON sessions(project);

CREATE TABLE messages (
    uuid               TEXT PRIMARY KEY,
    session_id         TEXT NOT NULL,
    seq                INTEGER NOT NULL,
    parent_uuid        TEXT,
    type               TEXT NOT NULL,
    role               TEXT NOT NULL DEFAULT '',
    ts                 INTEGER,
    text               TEXT NOT NULL DEFAULT '',
    model              TEXT,
    agent_id           TEXT,
    is_sidechain       INTEGER NOT NULL DEFAULT 0,
    is_meta            INTEGER NOT NULL DEFAULT 0,
    is_compact_summary INTEGER NOT NULL DEFAULT 0,
    is_api_error       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_session ON messages(session_id, seq);

-- One row per API reply: (message id, request id), or the line's own key.
CREATE TABLE usage (
    key            TEXT PRIMARY KEY,
    message_id     TEXT,
    request_id     TEXT,
    session_id     TEXT NOT NULL,
    model          TEXT NOT NULL DEFAULT '',
    ts             INTEGER NOT NULL,
    input_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    cache_write_5m INTEGER NOT NULL DEFAULT 0,
    cache_write_1h INTEGER NOT NULL DEFAULT 0,
    cache_read     INTEGER NOT NULL DEFAULT 0,
    total_tokens   INTEGER NOT NULL DEFAULT 0,
    cost           REAL -- NULL when the model has no price
);
CREATE INDEX usage_ts ON usage(ts);
CREATE INDEX usage_session ON usage(session_id, ts);

-- usage summed per session, quarter hour (bucket = ts / 900000) and model, kept
-- current by every write, so that reports never scan usage itself.
CREATE TABLE usage_quarters (
    session_id     TEXT NOT NULL,
    bucket         INTEGER NOT NULL,
    model          TEXT NOT NULL,
    input_tokens   INTEGER NOT NULL,
    output_tokens  INTEGER NOT NULL,
    cache_write_5m INTEGER NOT NULL,
    cache_write_1h INTEGER NOT NULL,
    cache_read     INTEGER NOT NULL,
    cost           REAL NOT NULL,
    unpriced       INTEGER NOT NULL,
    replies        INTEGER NOT NULL,
    last_ts        INTEGER NOT NULL,
    PRIMARY KEY (session_id, bucket, model)
);
CREATE INDEX usage_quarters_bucket ON usage_quarters(bucket);
