-- The whole record: message content and kinds, tool calls, file changes,
-- subagents, titles and full-text search.

ALTER TABLE messages ADD COLUMN message_id TEXT;
ALTER TABLE messages ADD COLUMN subtype TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN logical_parent_uuid TEXT;
ALTER TABLE messages ADD COLUMN is_prompt INTEGER NOT NULL DEFAULT 0;
-- The message's content as JSON: a string or a list of blocks.
ALTER TABLE messages ADD COLUMN content TEXT;
-- A compaction boundary's compactMetadata: auto or manual, and the tokens before it.
ALTER TABLE messages ADD COLUMN compact_trigger TEXT;
ALTER TABLE messages ADD COLUMN compact_pre_tokens INTEGER;
CREATE INDEX messages_message_id ON messages(message_id);

ALTER TABLE sessions ADD COLUMN slug TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN tool_errors INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN compactions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN subagents INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_slug ON sessions(slug);

-- The subagent whose reply a usage row is (NULL: the main thread).
ALTER TABLE usage ADD COLUMN agent_id TEXT;

-- One row per tool_use id. The call and its result may arrive in either
-- order; result is NULL until the result came.
CREATE TABLE tool_calls (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL,
    message_uuid TEXT,
    message_id   TEXT,
    agent_id     TEXT,
    seq          INTEGER,
    name         TEXT NOT NULL DEFAULT '',
    input        TEXT,              -- JSON
    started_at   INTEGER,
    result_uuid  TEXT,
    result       TEXT,
    result_json  TEXT,              -- toolUseResult, JSON
    is_error     INTEGER NOT NULL DEFAULT 0,
    interrupted  INTEGER NOT NULL DEFAULT 0,
    finished_at  INTEGER
);
CREATE INDEX tool_calls_session ON tool_calls(session_id, started_at);
CREATE INDEX tool_calls_message ON tool_calls(message_uuid);
CREATE INDEX tool_calls_result ON tool_calls(result_uuid);
CREATE INDEX tool_calls_name ON tool_calls(name);

-- Files changed by Edit, MultiEdit and Write calls.
CREATE TABLE file_changes (
    tool_use_id   TEXT NOT NULL,
    path          TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    operation     TEXT NOT NULL,
    lines_added   INTEGER NOT NULL DEFAULT 0,
    lines_removed INTEGER NOT NULL DEFAULT 0,
    ts            INTEGER,
    PRIMARY KEY (tool_use_id, path)
);
CREATE INDEX file_changes_session ON file_changes(session_id, ts);
CREATE INDEX file_changes_path ON file_changes(path);

-- Subagents: the session they ran in, the call that started them, their file.
CREATE TABLE subagents (
    session_id  TEXT NOT NULL,
    agent_id    TEXT NOT NULL,
    tool_use_id TEXT,
    path        TEXT,
    PRIMARY KEY (session_id, agent_id)
);
CREATE INDEX subagents_tool_use ON subagents(tool_use_id);

-- Titles of the conversations ending at a message (summary records).
CREATE TABLE summaries (
    leaf_uuid TEXT PRIMARY KEY,
    summary   TEXT NOT NULL
);

-- Commits that sessions made (from the output of git commit in Bash calls).
CREATE TABLE commits (
    tool_use_id TEXT NOT NULL,
    hash        TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    branch      TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    ts          INTEGER,
    PRIMARY KEY (tool_use_id, hash)
);
CREATE INDEX commits_session ON commits(session_id, ts);

-- Tags of sessions (ingest.Tags says how they are made).
CREATE TABLE session_tags (
    session_id TEXT NOT NULL,
    tag        TEXT NOT NULL,
    PRIMARY KEY (session_id, tag)
);
CREATE INDEX session_tags_tag ON session_tags(tag);

-- Plans written in plan mode (plans/<slug>.md); sessions share their slug.
CREATE TABLE plans (
    slug     TEXT PRIMARY KEY,
    path     TEXT NOT NULL,
    content  TEXT NOT NULL,
    mod_time INTEGER
);

-- TodoWrite lists (todos/<session>-agent-<agent>.json), item by item.
CREATE TABLE todos (
    session_id  TEXT NOT NULL,
    agent_id    TEXT NOT NULL,
    position    INTEGER NOT NULL,
    content     TEXT NOT NULL,
    status      TEXT NOT NULL,
    active_form TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (session_id, agent_id, position)
);

-- Prompts typed, from history.jsonl; key identifies the line's content.
CREATE TABLE prompt_history (
    key        TEXT PRIMARY KEY,
    ts         INTEGER,
    project    TEXT NOT NULL DEFAULT '',
    session_id TEXT,
    display    TEXT NOT NULL,
    pasted     TEXT -- JSON
);
CREATE INDEX prompt_history_ts ON prompt_history(ts);
CREATE INDEX prompt_history_session ON prompt_history(session_id);

-- Full-text index of messages (rowid = messages.rowid): text, tool inputs
-- and tool results. Words are runs of letters and digits, as in
-- store.SearchWords.
CREATE VIRTUAL TABLE messages_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 0');
INSERT INTO messages_fts (rowid, body) SELECT rowid, text FROM messages;

-- Read every file once more to fill the new columns and tables.
DELETE FROM ingest_files;

UPDATE schema_migrations SET version = 3, dirty = 0;
