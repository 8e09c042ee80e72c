package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/claude-insights/insights/store"
)

var _ store.Exports = (*DB)(nil)

// markDays raises the version of the days a transaction's batches change:
// those of their rows, and every day the sessions they touched span.
func markDays(ctx context.Context, tx *writeTx, batches []*store.Batch, touched map[string]bool) error {
	set := map[int64]bool{}
	for _, d := range store.BatchDays(batches) {
		set[d] = true
	}
	var spans [][2]time.Time
	if len(touched) > 0 {
		ids := make([]string, 0, len(touched))
		for id := range touched {
			ids = append(ids, id)
		}
		list, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT first_at, last_at FROM sessions
			WHERE id IN (SELECT value FROM json_each(?)) AND first_at IS NOT NULL AND last_at IS NOT NULL`, string(list))
		if err != nil {
			return fmt.Errorf("spans of sessions: %w", err)
		}
		spans, err = collect(rows, func(s *[2]time.Time) error {
			var first, last int64
			err := rows.Scan(&first, &last)
			s[0], s[1] = time.UnixMilli(first), time.UnixMilli(last)
			return err
		}, "spans of sessions")
		if err != nil {
			return err
		}
	}
	days := store.SpanDays(set, spans)
	if len(days) == 0 {
		return nil
	}
	list, err := json.Marshal(days)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO export_days (day, version)
		SELECT value, (SELECT coalesce(max(version), 0) + 1 FROM export_days) FROM json_each(?) WHERE true
		ON CONFLICT (day) DO UPDATE SET version = excluded.version`, string(list)); err != nil {
		return fmt.Errorf("mark %d days changed: %w", len(days), err)
	}
	return nil
}

// ExportDays lists the UTC days holding rows from since to until, inclusive.
func (db *DB) ExportDays(ctx context.Context, since, until time.Time) ([]store.ExportDay, error) {
	lo, hi := int64(-1<<62), int64(1<<62)
	if !since.IsZero() {
		lo = store.DayNumber(since)
	}
	if !until.IsZero() {
		hi = store.DayNumber(until)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT day, version FROM export_days WHERE day >= ? AND day <= ? ORDER BY day`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("list days: %w", err)
	}
	return collect(rows, func(d *store.ExportDay) error {
		var n int64
		err := rows.Scan(&n, &d.Version)
		d.Day = store.DayOf(n)
		return err
	}, "list days")
}

// ExportDay reads one UTC day's rows inside one read transaction, so that
// they and the version returned are one state of the database.
func (db *DB) ExportDay(ctx context.Context, day time.Time, sink store.ExportSink) (int64, error) {
	n := store.DayNumber(day)
	lo, hi := n*86400000, (n+1)*86400000
	what := "export " + store.DayOf(n).Format(time.DateOnly)
	// One pass over a day reads each page once: mapping the file would only
	// add every page read to the process's resident memory.
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA mmap_size = 0`); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA mmap_size = %d`, readerMmap)) //nolint:errcheck // the next reader maps again
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM export_days WHERE day = ?`, n).Scan(&version); err != nil {
		return 0, fmt.Errorf("%s: version: %w", what, err)
	}
	owner := store.Owner{Share: store.ShareFull}
	for _, t := range []struct {
		table, query string
		row          func(*sql.Rows) error
	}{
		{"sessions", `SELECT ` + sessionColumns + ` FROM sessions s WHERE s.first_at >= ?1 AND s.first_at < ?2 ORDER BY s.first_at, s.id`,
			func(r *sql.Rows) error {
				var s store.Session
				if err := scanSession(r, &s); err != nil {
					return err
				}
				return sink.Session(owner, s)
			}},
		{"messages", `SELECT ` + messageCols + ` FROM messages m WHERE m.ts >= ?1 AND m.ts < ?2 ORDER BY m.ts, m.session_id, m.seq, m.uuid`,
			func(r *sql.Rows) error {
				var m store.Message
				if err := scanMessage(r, &m); err != nil {
					return err
				}
				return sink.Message(owner, m)
			}},
		{"tool calls", `SELECT ` + toolCallCols + ` FROM tool_calls c WHERE c.started_at >= ?1 AND c.started_at < ?2 ORDER BY c.started_at, c.id`,
			func(r *sql.Rows) error {
				var c store.ToolCall
				if err := scanToolCall(r, &c); err != nil {
					return err
				}
				return sink.ToolCall(owner, c)
			}},
		{"file changes", `SELECT ` + fileChangeCols + ` FROM file_changes f WHERE f.ts >= ?1 AND f.ts < ?2 ORDER BY f.ts, f.tool_use_id, f.path`,
			func(r *sql.Rows) error {
				var f store.FileChange
				if err := scanFileChange(r, &f); err != nil {
					return err
				}
				return sink.FileChange(owner, f)
			}},
		{"replies", `SELECT ` + usageRowCols + ` FROM usage u WHERE u.ts >= ?1 AND u.ts < ?2 ORDER BY u.ts, u.key`,
			func(r *sql.Rows) error {
				var u store.Usage
				if err := scanUsage(r, &u); err != nil {
					return err
				}
				return sink.Usage(owner, u)
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
