package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/claude-insights/insights/store"
)

// Status sums up the database.
func (db *DB) Status(ctx context.Context, recent int) (store.Status, error) {
	var s store.Status
	var first, last sql.NullTime
	const q = `SELECT
		pg_database_size(current_database()),
		(SELECT count(*) FROM ingest_files),
		(SELECT count(*) FROM ingest_files WHERE gone_at IS NOT NULL),
		(SELECT count(*) FROM sessions),
		(SELECT count(*) FROM sessions s WHERE NOT EXISTS (
			SELECT 1 FROM session_files sf JOIN ingest_files f ON f.path = sf.path
			WHERE sf.session_id = s.id AND f.gone_at IS NULL)),
		(SELECT min(first_at) FROM sessions),
		(SELECT max(imported_at) FROM ingest_files),
		(SELECT count(*) FROM skipped_lines)`
	err := db.db.QueryRowContext(ctx, q).Scan(&s.Size, &s.Files, &s.FilesGone, &s.Sessions, &s.SessionsOnlyHere,
		&first, &last, &s.Skipped)
	if err != nil {
		return s, fmt.Errorf("status: %w", err)
	}
	s.FirstAt, s.LastImport = fromNull(first), fromNull(last)
	rows, err := db.db.QueryContext(ctx, `SELECT path, line, reason, detail, at FROM skipped_lines
		ORDER BY at DESC, path, line LIMIT $1`, recent)
	if err != nil {
		return s, fmt.Errorf("status: skipped lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sk store.Skipped
		if err := rows.Scan(&sk.Path, &sk.Line, &sk.Reason, &sk.Detail, &sk.At); err != nil {
			return s, fmt.Errorf("status: skipped lines: %w", err)
		}
		sk.At = sk.At.UTC()
		s.Recent = append(s.Recent, sk)
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("status: skipped lines: %w", err)
	}
	return s, nil
}
