-- The team dashboard: passwords and browser sessions, and the aggregates
-- its pages read besides daily_stats and tool_usage, so that no page scans
-- usage or messages.
ALTER TABLE users ADD COLUMN password_hash text NOT NULL DEFAULT '';  -- bcrypt; '' is none

-- A signed-in browser: the SHA-256 of its cookie's token, and the token its
-- forms must carry.
CREATE TABLE web_sessions (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions(expires_at);

-- Replies per user, UTC day, project, model and who spent them (the main
-- thread, or a subagent of a type: '' when unknown).
CREATE TABLE usage_stats (
    user_id        bigint NOT NULL REFERENCES users(id),
    day            date NOT NULL,
    project        text COLLATE "C" NOT NULL,
    model          text COLLATE "C" NOT NULL,
    subagent       boolean NOT NULL,
    agent_type     text COLLATE "C" NOT NULL,
    replies        bigint NOT NULL,
    input_tokens   bigint NOT NULL,
    output_tokens  bigint NOT NULL,
    cache_write_5m bigint NOT NULL,
    cache_write_1h bigint NOT NULL,
    cache_read     bigint NOT NULL,
    cost           double precision NOT NULL,
    PRIMARY KEY (user_id, day, project, model, subagent, agent_type)
);
CREATE INDEX usage_stats_day ON usage_stats(day);

-- Replies per user, UTC day and hour: the busiest hours.
CREATE TABLE hour_stats (
    user_id bigint NOT NULL REFERENCES users(id),
    day     date NOT NULL,
    hour    smallint NOT NULL,
    replies bigint NOT NULL,
    tokens  bigint NOT NULL,
    PRIMARY KEY (user_id, day, hour)
);
CREATE INDEX hour_stats_day ON hour_stats(day);

-- What was uploaded before this migration.
INSERT INTO usage_stats
SELECT s.user_id, (u.ts AT TIME ZONE 'UTC')::date, s.project, u.model, coalesce(u.agent_id, '') <> '',
    CASE WHEN coalesce(u.agent_id, '') = '' THEN '' ELSE coalesce(c.input->>'subagent_type', '') END,
    count(*), sum(u.input_tokens), sum(u.output_tokens), sum(u.cache_write_5m), sum(u.cache_write_1h),
    sum(u.cache_read), sum(coalesce(u.cost, 0))
FROM usage u JOIN sessions s ON s.id = u.session_id
    LEFT JOIN subagents a ON coalesce(u.agent_id, '') <> '' AND a.session_id = u.session_id AND a.agent_id = u.agent_id
    LEFT JOIN tool_calls c ON c.id = a.tool_use_id
WHERE s.user_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO hour_stats
SELECT s.user_id, (u.ts AT TIME ZONE 'UTC')::date, extract(hour FROM u.ts AT TIME ZONE 'UTC')::smallint, count(*),
    sum(u.input_tokens + u.output_tokens + u.cache_write_5m + u.cache_write_1h + u.cache_read)
FROM usage u JOIN sessions s ON s.id = u.session_id
WHERE s.user_id IS NOT NULL
GROUP BY 1, 2, 3;

UPDATE schema_migrations SET version = 6, dirty = false;
