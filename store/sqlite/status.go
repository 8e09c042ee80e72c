package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/claude-insights/insights/store"
)

// Status sums up the database.
func (db *DB) Status(ctx context.Context, recent int) (store.Status, error) {
	var s store.Status
	var first, last sql.NullInt64
	const q = `SELECT
		(SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()),
		(SELECT count(*) FROM ingest_files),
		(SELECT count(*) FROM ingest_files WHERE gone_at IS NOT NULL),
		(SELECT count(*) FROM sessions),
		(SELECT count(*) FROM sessions s WHERE NOT EXISTS (
			SELECT 1 FROM session_files sf JOIN ingest_files f ON f.path = sf.path
			WHERE sf.session_id = s.id AND f.gone_at IS NULL)),
		(SELECT min(first_at) FROM sessions),
		(SELECT nullif(max(imported_at), 0) FROM ingest_files),
		(SELECT count(*) FROM skipped_lines)`
	err := db.r.QueryRowContext(ctx, q).Scan(&s.Size, &s.Files, &s.FilesGone, &s.Sessions, &s.SessionsOnlyHere,
		&first, &last, &s.Skipped)
	if err != nil {
		return s, fmt.Errorf("status: %w", err)
	}
	s.FirstAt, s.LastImport = fromMillis(first), fromMillis(last)
	rows, err := db.r.QueryContext(ctx, `SELECT path, line, reason, detail, at FROM skipped_lines
		ORDER BY at DESC, path, line LIMIT ?`, recent)
	if err != nil {
		return s, fmt.Errorf("status: skipped lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sk store.Skipped
		var at sql.NullInt64
		if err := rows.Scan(&sk.Path, &sk.Line, &sk.Reason, &sk.Detail, &at); err != nil {
			return s, fmt.Errorf("status: skipped lines: %w", err)
		}
		sk.At = fromMillis(at)
		s.Recent = append(s.Recent, sk)
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("status: skipped lines: %w", err)
	}
	return s, nil
}
