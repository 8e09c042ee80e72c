-- The session list: its filter on sessions with an API error finds them
-- without reading their messages.
CREATE INDEX messages_api_error ON messages(session_id) WHERE is_api_error;
CREATE INDEX sessions_first_at ON sessions(first_at);

UPDATE schema_migrations SET version = 4, dirty = false;
