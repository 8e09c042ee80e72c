-- The same tables and meaning as migrations/sqlite/0001_init, in PostgreSQL's
-- own types. Every migration ends by recording itself as applied, inside its
-- own transaction: a crash leaves it either applied and recorded or neither.
-- Identifiers, paths and names compare byte by byte (COLLATE "C"), as in SQLite: "the smallest
-- session id" and every ordering must not depend on the server's locale.

-- Settings of the database itself, such as the fingerprint of the prices its costs were computed with.
CREATE TABLE meta (
    key   text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE ingest_files (
    path     text COLLATE "C" PRIMARY KEY,
    size     bigint NOT NULL DEFAULT 0,
    "offset" bigint NOT NULL DEFAULT 0,
    lines    bigint NOT NULL DEFAULT 0,
    broken   bigint NOT NULL DEFAULT 0,
    mod_time timestamptz
);

CREATE TABLE sessions (
    id              text COLLATE "C" PRIMARY KEY,
    project         text COLLATE "C" NOT NULL DEFAULT '',
    git_branch      text COLLATE "C" NOT NULL DEFAULT '',
    version         text COLLATE "C" NOT NULL DEFAULT '',
    first_at        timestamptz,
    last_at         timestamptz,
    messages        bigint NOT NULL DEFAULT 0,
    input_tokens    bigint NOT NULL DEFAULT 0,
    output_tokens   bigint NOT NULL DEFAULT 0,
    cache_write_5m  bigint NOT NULL DEFAULT 0,
    cache_write_1h  bigint NOT NULL DEFAULT 0,
    cache_read      bigint NOT NULL DEFAULT 0,
    cost            double precision NOT NULL DEFAULT 0
);
CREATE INDEX sessions_project ON sessions(project);

CREATE TABLE messages (
    uuid               text COLLATE "C" PRIMARY KEY,
    session_id         text COLLATE "C" NOT NULL,
    seq                bigint NOT NULL,
    parent_uuid        text COLLATE "C",
    type               text COLLATE "C" NOT NULL,
    role               text COLLATE "C" NOT NULL DEFAULT '',
    ts                 timestamptz,
    text               text NOT NULL DEFAULT '',
    model              text COLLATE "C",
    agent_id           text COLLATE "C",
    is_sidechain       boolean NOT NULL DEFAULT false,
    is_meta            boolean NOT NULL DEFAULT false,
    is_compact_summary boolean NOT NULL DEFAULT false,
    is_api_error       boolean NOT NULL DEFAULT false
);
CREATE INDEX messages_session ON messages(session_id, seq);

-- One row per API reply: (message id, request id), or the line's own key.
CREATE TABLE usage (
    key            text COLLATE "C" PRIMARY KEY,
    message_id     text COLLATE "C",
    request_id     text COLLATE "C",
    session_id     text COLLATE "C" NOT NULL,
    model          text COLLATE "C" NOT NULL DEFAULT '',
    ts             timestamptz NOT NULL,
    input_tokens   bigint NOT NULL DEFAULT 0,
    output_tokens  bigint NOT NULL DEFAULT 0,
    cache_write_5m bigint NOT NULL DEFAULT 0,
    cache_write_1h bigint NOT NULL DEFAULT 0,
    cache_read     bigint NOT NULL DEFAULT 0,
    total_tokens   bigint NOT NULL DEFAULT 0,
    cost           double precision -- NULL when the model has no price
);
CREATE INDEX usage_ts ON usage(ts);
CREATE INDEX usage_session ON usage(session_id, ts);

-- usage summed per session, quarter hour (bucket = Unix seconds / 900) and model,
-- kept current by every write, so that reports never scan usage itself.
CREATE TABLE usage_quarters (
    session_id     text COLLATE "C" NOT NULL,
    bucket         bigint NOT NULL,
    model          text COLLATE "C" NOT NULL,
    input_tokens   bigint NOT NULL,
    output_tokens  bigint NOT NULL,
    cache_write_5m bigint NOT NULL,
    cache_write_1h bigint NOT NULL,
    cache_read     bigint NOT NULL,
    cost           double precision NOT NULL,
    unpriced       bigint NOT NULL,
    replies        bigint NOT NULL,
    last_ts        timestamptz NOT NULL,
    PRIMARY KEY (session_id, bucket, model)
);
CREATE INDEX usage_quarters_bucket ON usage_quarters(bucket);

UPDATE schema_migrations SET version = 1, dirty = false;
