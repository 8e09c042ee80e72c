package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/claude-insights/insights/store"
)

var _ store.Exports = (*DB)(nil)

// markDays raises the version of the days a transaction's rows change: those
// of the rows themselves, and every day the sessions they touched span.
// Writers hold the write lock, so versions grow in the order they commit.
func markDays(ctx context.Context, tx *sql.Tx, b *store.Batch, touched map[string]bool) error {
	days := store.BatchDays([]*store.Batch{b})
	if len(days) == 0 && len(touched) == 0 {
		return nil
	}
	dates := make([]string, len(days))
	for i, d := range days {
		dates[i] = store.DayOf(d).Format(time.DateOnly)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO export_days (day, version)
		SELECT d.day, v.n FROM (
			SELECT unnest($1::date[]) AS day
			UNION
			SELECT generate_series((s.first_at AT TIME ZONE 'UTC')::date, (s.last_at AT TIME ZONE 'UTC')::date,
				interval '1 day')::date
			FROM sessions s WHERE s.id = ANY($2) AND s.first_at IS NOT NULL AND s.last_at IS NOT NULL) AS d,
			(SELECT coalesce(max(version), 0) + 1 AS n FROM export_days) AS v
		ON CONFLICT (day) DO UPDATE SET version = excluded.version`,
		pq.Array(dates), pq.Array(sortedKeys(touched))); err != nil {
		return fmt.Errorf("mark days changed: %w", err)
	}
	return nil
}

// ExportDays lists the UTC days holding rows from since to until, inclusive.
func (db *DB) ExportDays(ctx context.Context, since, until time.Time) ([]store.ExportDay, error) {
	lo, hi := "-infinity", "infinity"
	if !since.IsZero() {
		lo = store.UTCDay(since).Format(time.DateOnly)
	}
	if !until.IsZero() {
		hi = store.UTCDay(until).Format(time.DateOnly)
	}
	days, err := queryAll(ctx, db.db, func(r *sql.Rows) (store.ExportDay, error) {
		var d store.ExportDay
		err := r.Scan(&d.Day, &d.Version)
		d.Day = store.UTCDay(d.Day)
		return d, err
	}, `SELECT day, version FROM export_days WHERE day >= $1::date AND day <= $2::date ORDER BY day`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("list days: %w", err)
	}
	return days, nil
}

// owner selects, after a row's columns, the name and share level of the
// user owning session s (through the join ownerJoin).
const (
	owner     = `, coalesce(us.name, ''), coalesce(us.share_level, 'full')`
	ownerJoin = ` LEFT JOIN users us ON us.id = s.user_id`
)

// ExportDay reads one UTC day's rows inside one read-only, repeatable-read
// transaction, so that they and the version returned are one state of the
// database.
func (db *DB) ExportDay(ctx context.Context, day time.Time, sink store.ExportSink) (int64, error) {
	lo := store.UTCDay(day)
	hi := lo.AddDate(0, 0, 1)
	what := "export " + lo.Format(time.DateOnly)
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM export_days WHERE day = $1::date`,
		lo.Format(time.DateOnly)).Scan(&version); err != nil {
		return 0, fmt.Errorf("%s: version: %w", what, err)
	}
	var o store.Owner
	var share string
	own := func() store.Owner { o.Share = store.ShareLevel(share); return o }
	for _, t := range []struct {
		table, query string
		row          func(*sql.Rows) error
	}{
		{"sessions", `SELECT ` + sessionColumns + owner + ` FROM sessions s` + ownerJoin + `
			WHERE s.first_at >= $1 AND s.first_at < $2 ORDER BY s.first_at, s.id`,
			func(r *sql.Rows) error {
				s, err := scanSession(r, &o.User, &share)
				if err != nil {
					return err
				}
				return sink.Session(own(), s)
			}},
		{"messages", `SELECT ` + messageCols + owner + ` FROM messages m
			LEFT JOIN sessions s ON s.id = m.session_id` + ownerJoin + `
			WHERE m.ts >= $1 AND m.ts < $2 ORDER BY m.ts, m.session_id, m.seq, m.uuid`,
			func(r *sql.Rows) error {
				m, err := scanMessage(r, &o.User, &share)
				if err != nil {
					return err
				}
				return sink.Message(own(), m)
			}},
		{"tool calls", `SELECT ` + toolCallCols + owner + ` FROM tool_calls c
			LEFT JOIN sessions s ON s.id = c.session_id` + ownerJoin + `
			WHERE c.started_at >= $1 AND c.started_at < $2 ORDER BY c.started_at, c.id`,
			func(r *sql.Rows) error {
				c, err := scanToolCall(r, &o.User, &share)
				if err != nil {
					return err
				}
				return sink.ToolCall(own(), c)
			}},
		{"file changes", `SELECT ` + fileChangeCols + owner + ` FROM file_changes f
			LEFT JOIN sessions s ON s.id = f.session_id` + ownerJoin + `
			WHERE f.ts >= $1 AND f.ts < $2 ORDER BY f.ts, f.tool_use_id, f.path`,
			func(r *sql.Rows) error {
				f, err := scanFileChange(r, &o.User, &share)
				if err != nil {
					return err
				}
				return sink.FileChange(own(), f)
			}},
		{"replies", `SELECT ` + usageRowCols + owner + ` FROM usage u
			LEFT JOIN sessions s ON s.id = u.session_id` + ownerJoin + `
			WHERE u.ts >= $1 AND u.ts < $2 ORDER BY u.ts, u.key`,
			func(r *sql.Rows) error {
				u, err := scanUsage(r, &o.User, &share)
				if err != nil {
					return err
				}
				return sink.Usage(own(), u)
			}},
	} {
		if err := eachRow(ctx, tx, t.query, []any{lo, hi}, t.row); err != nil {
			return 0, fmt.Errorf("%s: %s: %w", what, t.table, err)
		}
	}
	return version, nil
}

// eachRow runs a query and calls row for each of its rows, stopping at the
// first error.
func eachRow(ctx context.Context, tx *sql.Tx, query string, args []any, row func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
