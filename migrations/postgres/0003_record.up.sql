-- The whole record: message content and kinds, tool calls, file changes,
-- subagents, titles and full-text search (as migrations/sqlite/0003_record).

ALTER TABLE messages
    ADD COLUMN message_id text COLLATE "C",
    ADD COLUMN subtype text COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN logical_parent_uuid text COLLATE "C",
    ADD COLUMN is_prompt boolean NOT NULL DEFAULT false,
    -- The message's content: a string or a list of blocks.
    ADD COLUMN content jsonb,
    -- A compaction boundary's compactMetadata: auto or manual, and the tokens before it.
    ADD COLUMN compact_trigger text COLLATE "C",
    ADD COLUMN compact_pre_tokens bigint,
    -- Full-text search: the indexed text (text, tool inputs and results;
    -- NULL when it is the message's text) and its words (store.SearchWords,
    -- with their positions) as a tsvector, so that words split as in
    -- SQLite's FTS5.
    ADD COLUMN search_text text,
    ADD COLUMN search tsvector;
CREATE INDEX messages_message_id ON messages(message_id);
-- Messages whose file is gone are not read again: index their text, split
-- into words near enough to store.SearchWords and cut to 65536 characters
-- (at most store.MaxSearchBytes bytes), which also keeps the tsvector of a
-- huge text under PostgreSQL's limit of 1 MB.
UPDATE messages SET search = CASE WHEN text <> '' THEN
        to_tsvector('simple', regexp_replace(left(text, 65536), '[^[:alnum:]]+', ' ', 'g')) END;
CREATE INDEX messages_search ON messages USING gin (search);

ALTER TABLE sessions
    ADD COLUMN slug text COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN title text NOT NULL DEFAULT '',
    ADD COLUMN tool_calls bigint NOT NULL DEFAULT 0,
    ADD COLUMN tool_errors bigint NOT NULL DEFAULT 0,
    ADD COLUMN compactions bigint NOT NULL DEFAULT 0,
    ADD COLUMN subagents bigint NOT NULL DEFAULT 0;
CREATE INDEX sessions_slug ON sessions(slug);

-- The subagent whose reply a usage row is (NULL: the main thread).
ALTER TABLE usage ADD COLUMN agent_id text COLLATE "C";

-- One row per tool_use id. The call and its result may arrive in either
-- order; result is NULL until the result came.
CREATE TABLE tool_calls (
    id           text COLLATE "C" PRIMARY KEY,
    session_id   text COLLATE "C" NOT NULL,
    message_uuid text COLLATE "C",
    message_id   text COLLATE "C",
    agent_id     text COLLATE "C",
    seq          bigint,
    name         text COLLATE "C" NOT NULL DEFAULT '',
    input        jsonb,
    started_at   timestamptz,
    result_uuid  text COLLATE "C",
    result       text,
    result_json  jsonb,
    is_error     boolean NOT NULL DEFAULT false,
    interrupted  boolean NOT NULL DEFAULT false,
    finished_at  timestamptz
);
CREATE INDEX tool_calls_session ON tool_calls(session_id, started_at);
CREATE INDEX tool_calls_message ON tool_calls(message_uuid);
CREATE INDEX tool_calls_result ON tool_calls(result_uuid);
CREATE INDEX tool_calls_name ON tool_calls(name);

-- Files changed by Edit, MultiEdit and Write calls.
CREATE TABLE file_changes (
    tool_use_id   text COLLATE "C" NOT NULL,
    path          text COLLATE "C" NOT NULL,
    session_id    text COLLATE "C" NOT NULL,
    operation     text COLLATE "C" NOT NULL,
    lines_added   bigint NOT NULL DEFAULT 0,
    lines_removed bigint NOT NULL DEFAULT 0,
    ts            timestamptz,
    PRIMARY KEY (tool_use_id, path)
);
CREATE INDEX file_changes_session ON file_changes(session_id, ts);
CREATE INDEX file_changes_path ON file_changes(path);

-- Subagents: the session they ran in, the call that started them, their file.
CREATE TABLE subagents (
    session_id  text COLLATE "C" NOT NULL,
    agent_id    text COLLATE "C" NOT NULL,
    tool_use_id text COLLATE "C",
    path        text COLLATE "C",
    PRIMARY KEY (session_id, agent_id)
);
CREATE INDEX subagents_tool_use ON subagents(tool_use_id);

-- Titles of the conversations ending at a message (summary records).
CREATE TABLE summaries (
    leaf_uuid text COLLATE "C" PRIMARY KEY,
    summary   text NOT NULL
);

-- Commits that sessions made (from the output of git commit in Bash calls).
CREATE TABLE commits (
    tool_use_id text COLLATE "C" NOT NULL,
    hash        text COLLATE "C" NOT NULL,
    session_id  text COLLATE "C" NOT NULL,
    branch      text NOT NULL DEFAULT '',
    subject     text NOT NULL DEFAULT '',
    ts          timestamptz,
    PRIMARY KEY (tool_use_id, hash)
);
CREATE INDEX commits_session ON commits(session_id, ts);

-- Tags of sessions (ingest.Tags says how they are made).
CREATE TABLE session_tags (
    session_id text COLLATE "C" NOT NULL,
    tag        text COLLATE "C" NOT NULL,
    PRIMARY KEY (session_id, tag)
);
CREATE INDEX session_tags_tag ON session_tags(tag);

-- Plans written in plan mode (plans/<slug>.md); sessions share their slug.
CREATE TABLE plans (
    slug     text COLLATE "C" PRIMARY KEY,
    path     text COLLATE "C" NOT NULL,
    content  text NOT NULL,
    mod_time timestamptz
);

-- TodoWrite lists (todos/<session>-agent-<agent>.json), item by item.
CREATE TABLE todos (
    session_id  text COLLATE "C" NOT NULL,
    agent_id    text COLLATE "C" NOT NULL,
    position    bigint NOT NULL,
    content     text NOT NULL,
    status      text COLLATE "C" NOT NULL,
    active_form text NOT NULL DEFAULT '',
    PRIMARY KEY (session_id, agent_id, position)
);

-- Prompts typed, from history.jsonl; key identifies the line's content.
CREATE TABLE prompt_history (
    key        text COLLATE "C" PRIMARY KEY,
    ts         timestamptz,
    project    text COLLATE "C" NOT NULL DEFAULT '',
    session_id text COLLATE "C",
    display    text NOT NULL,
    pasted     jsonb
);
CREATE INDEX prompt_history_ts ON prompt_history(ts);
CREATE INDEX prompt_history_session ON prompt_history(session_id);

-- Read every file once more to fill the new columns and tables.
DELETE FROM ingest_files;

UPDATE schema_migrations SET version = 3, dirty = false;
