DROP TABLE skipped_lines;
DROP TABLE session_files;
ALTER TABLE ingest_files DROP COLUMN gone_at;
ALTER TABLE ingest_files DROP COLUMN imported_at;
ALTER TABLE ingest_files DROP COLUMN head_hash;
ALTER TABLE ingest_files DROP COLUMN head_len;
ALTER TABLE ingest_files DROP COLUMN inode;
ALTER TABLE ingest_files DROP COLUMN dev;
