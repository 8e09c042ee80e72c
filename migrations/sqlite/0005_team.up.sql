-- Team mode keeps its users and aggregates in PostgreSQL only; a session's
-- user exists here too so that both drivers answer the same queries (it
-- stays NULL: everything in a solo database is its owner's).
ALTER TABLE sessions ADD COLUMN user_id INTEGER;

UPDATE schema_migrations SET version = 5, dirty = 0;
