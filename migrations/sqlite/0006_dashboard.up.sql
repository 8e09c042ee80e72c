-- The team dashboard's tables live in PostgreSQL only (team mode). This
-- version exists so that both databases number their migrations alike.

UPDATE schema_migrations SET version = 6, dirty = 0;
