-- Nothing: see the up migration.
SELECT 1;
