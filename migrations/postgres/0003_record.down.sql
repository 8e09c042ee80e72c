DROP TABLE prompt_history;
DROP TABLE todos;
DROP TABLE plans;
DROP TABLE session_tags;
DROP TABLE commits;
DROP TABLE summaries;
DROP TABLE subagents;
DROP TABLE file_changes;
DROP TABLE tool_calls;
ALTER TABLE usage DROP COLUMN agent_id;
DROP INDEX sessions_slug;
ALTER TABLE sessions
    DROP COLUMN subagents, DROP COLUMN compactions, DROP COLUMN tool_errors,
    DROP COLUMN tool_calls, DROP COLUMN title, DROP COLUMN slug;
DROP INDEX messages_search;
DROP INDEX messages_message_id;
ALTER TABLE messages
    DROP COLUMN search, DROP COLUMN search_text, DROP COLUMN compact_pre_tokens, DROP COLUMN compact_trigger,
    DROP COLUMN content, DROP COLUMN is_prompt,
    DROP COLUMN logical_parent_uuid, DROP COLUMN subtype, DROP COLUMN message_id;
