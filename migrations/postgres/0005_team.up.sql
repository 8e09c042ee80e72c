-- Team mode: the users who upload, their API keys (only a hash and a
-- prefix), who owns each session, and the aggregates the dashboard reads so
-- that it never scans messages.
CREATE TABLE users (
    id                  bigserial PRIMARY KEY,
    name                text COLLATE "C" NOT NULL UNIQUE,
    email               text NOT NULL DEFAULT '',
    admin               boolean NOT NULL DEFAULT false,
    share_level         text COLLATE "C" NOT NULL DEFAULT 'full'
                        CHECK (share_level IN ('none', 'metadata', 'full')),
    show_in_leaderboard boolean NOT NULL DEFAULT true,
    key_hash            bytea UNIQUE,         -- SHA-256 of the key
    key_prefix          text COLLATE "C" NOT NULL DEFAULT '',
    key_created_at      timestamptz,
    revoked_at          timestamptz,          -- the key no longer opens anything
    created_at          timestamptz NOT NULL DEFAULT now()
);
-- A key is looked up by its prefix, which is not secret; its hash is then
-- compared in constant time.
CREATE INDEX users_key_prefix ON users(key_prefix);

-- The user who uploaded a session (NULL: imported locally).
ALTER TABLE sessions ADD COLUMN user_id bigint REFERENCES users(id);
CREATE INDEX sessions_user ON sessions(user_id, first_at);

-- Per user and UTC day, recomputed for the days an upload touches in the
-- same transaction.
CREATE TABLE daily_stats (
    user_id        bigint NOT NULL REFERENCES users(id),
    day            date NOT NULL,
    sessions       bigint NOT NULL DEFAULT 0,
    messages       bigint NOT NULL DEFAULT 0,
    replies        bigint NOT NULL DEFAULT 0,
    input_tokens   bigint NOT NULL DEFAULT 0,
    output_tokens  bigint NOT NULL DEFAULT 0,
    cache_write_5m bigint NOT NULL DEFAULT 0,
    cache_write_1h bigint NOT NULL DEFAULT 0,
    cache_read     bigint NOT NULL DEFAULT 0,
    cost           double precision NOT NULL DEFAULT 0,
    tool_calls     bigint NOT NULL DEFAULT 0,
    tool_errors    bigint NOT NULL DEFAULT 0,
    top_tools      jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (user_id, day)
);
CREATE INDEX daily_stats_day ON daily_stats(day);

-- Per user, UTC day and tool.
CREATE TABLE tool_usage (
    user_id bigint NOT NULL REFERENCES users(id),
    day     date NOT NULL,
    tool    text COLLATE "C" NOT NULL,
    calls   bigint NOT NULL DEFAULT 0,
    errors  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day, tool)
);
CREATE INDEX tool_usage_day ON tool_usage(day);

UPDATE schema_migrations SET version = 5, dirty = false;
