DROP TABLE usage_quarters;
DROP TABLE usage;
DROP TABLE messages;
DROP TABLE sessions;
DROP TABLE ingest_files;
DROP TABLE meta;
