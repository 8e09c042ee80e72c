package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/claude-insights/insights/store"
)

// FileState returns the import state of one transcript file.
func (db *DB) FileState(ctx context.Context, path string) (store.FileState, bool, error) {
	const q = `SELECT size, offset, lines, broken, mod_time FROM ingest_files WHERE path = ?`
	s := store.FileState{Path: path}
	var mod int64
	err := db.r.QueryRowContext(ctx, q, path).Scan(&s.Size, &s.Offset, &s.Lines, &s.Broken, &mod)
	if errors.Is(err, sql.ErrNoRows) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("file state of %s: %w", path, err)
	}
	s.ModTime = time.UnixMilli(mod).UTC()
	return s, true, nil
}

// Apply writes a batch and the file's state in one transaction.
func (db *DB) Apply(ctx context.Context, b *store.Batch) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin import of %s: %w", b.File.Path, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := applyTx(ctx, tx, b); err != nil {
		return fmt.Errorf("import %s: %w", b.File.Path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit import of %s: %w", b.File.Path, err)
	}
	return nil
}

func applyTx(ctx context.Context, tx *sql.Tx, b *store.Batch) error {
	touched := map[string]bool{}
	quarters := map[quarter]bool{}
	if err := upsertSessions(ctx, tx, b.Sessions, touched); err != nil {
		return err
	}
	if err := insertMessages(ctx, tx, b.Messages, touched); err != nil {
		return err
	}
	if err := upsertUsage(ctx, tx, b.Usage, touched, quarters); err != nil {
		return err
	}
	if err := refreshQuarters(ctx, tx, quarters); err != nil {
		return err
	}
	if err := refreshSessions(ctx, tx, touched); err != nil {
		return err
	}
	const q = `INSERT INTO ingest_files (path, size, offset, lines, broken, mod_time) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (path) DO UPDATE SET size = excluded.size, offset = excluded.offset,
			lines = excluded.lines, broken = excluded.broken, mod_time = excluded.mod_time`
	f := b.File
	if _, err := tx.ExecContext(ctx, q, f.Path, f.Size, f.Offset, f.Lines, f.Broken, f.ModTime.UnixMilli()); err != nil {
		return fmt.Errorf("save file state: %w", err)
	}
	return nil
}

// upsertSessions merges what a batch saw of each session: the widest time
// span, and place, branch and version from the latest record.
func upsertSessions(ctx context.Context, tx *sql.Tx, ss []store.Session, touched map[string]bool) error {
	const q = `INSERT INTO sessions (id, project, git_branch, version, first_at, last_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			project = CASE WHEN excluded.project <> '' AND (sessions.project = '' OR excluded.last_at >= sessions.last_at)
				THEN excluded.project ELSE sessions.project END,
			git_branch = CASE WHEN excluded.git_branch <> '' AND (sessions.git_branch = '' OR excluded.last_at >= sessions.last_at)
				THEN excluded.git_branch ELSE sessions.git_branch END,
			version = CASE WHEN excluded.version <> '' AND (sessions.version = '' OR excluded.last_at >= sessions.last_at)
				THEN excluded.version ELSE sessions.version END,
			first_at = min(coalesce(sessions.first_at, excluded.first_at), coalesce(excluded.first_at, sessions.first_at)),
			last_at = max(coalesce(sessions.last_at, excluded.last_at), coalesce(excluded.last_at, sessions.last_at))`
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("prepare sessions: %w", err)
	}
	defer stmt.Close()
	for _, s := range ss {
		if _, err := stmt.ExecContext(ctx, s.ID, s.Project, s.GitBranch, s.Version, nullTime(s.FirstAt), nullTime(s.LastAt)); err != nil {
			return fmt.Errorf("save session %s: %w", s.ID, err)
		}
		touched[s.ID] = true
	}
	return nil
}

// insertMessages keeps the first copy of each message uuid.
func insertMessages(ctx context.Context, tx *sql.Tx, ms []store.Message, touched map[string]bool) error {
	const q = `INSERT INTO messages (uuid, session_id, seq, parent_uuid, type, role, ts, text, model, agent_id,
			is_sidechain, is_meta, is_compact_summary, is_api_error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (uuid) DO NOTHING`
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("prepare messages: %w", err)
	}
	defer stmt.Close()
	for _, m := range ms {
		_, err := stmt.ExecContext(ctx, m.UUID, m.SessionID, m.Seq, nullString(m.ParentUUID), m.Type, m.Role,
			nullTime(m.Timestamp), m.Text, nullString(m.Model), nullString(m.AgentID),
			m.IsSidechain, m.IsMeta, m.IsCompactSummary, m.IsAPIError)
		if err != nil {
			return fmt.Errorf("save message %s: %w", m.UUID, err)
		}
		touched[m.SessionID] = true
	}
	return nil
}

// quarter is one row of usage_quarters, less the model.
type quarter struct {
	session string
	bucket  int64
}

var bucketMillis = store.BucketSize.Milliseconds()

func quarterOf(session string, ts int64) quarter {
	return quarter{session, ts / bucketMillis}
}

// upsertUsage keeps one row per reply: the fullest usage seen, dated by the
// earliest line that carries it. Identical copies in several sessions (a
// resumed session repeats earlier lines) go to the smallest session id, so
// the result does not depend on the order files are read in. It notes the sessions and quarter hours
// whose sums change: the reply's, and the ones it moved away from.
func upsertUsage(ctx context.Context, tx *sql.Tx, us []store.Usage, touched map[string]bool, quarters map[quarter]bool) error {
	const q = `INSERT INTO usage (key, message_id, request_id, session_id, model, ts, input_tokens, output_tokens,
			cache_write_5m, cache_write_1h, cache_read, total_tokens, cost)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			session_id = excluded.session_id, model = excluded.model, ts = excluded.ts,
			input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
			cache_write_5m = excluded.cache_write_5m, cache_write_1h = excluded.cache_write_1h,
			cache_read = excluded.cache_read, total_tokens = excluded.total_tokens, cost = excluded.cost
		WHERE excluded.total_tokens > usage.total_tokens
			OR (excluded.total_tokens = usage.total_tokens AND (excluded.ts < usage.ts
				OR (excluded.ts = usage.ts AND excluded.session_id < usage.session_id)))`
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("prepare usage: %w", err)
	}
	defer stmt.Close()
	old, err := tx.PrepareContext(ctx, `SELECT session_id, ts FROM usage WHERE key = ?`)
	if err != nil {
		return fmt.Errorf("prepare usage: %w", err)
	}
	defer old.Close()
	for _, u := range us {
		var cost any
		if u.Priced {
			cost = u.Cost
		}
		var oldSession string
		var oldTS int64
		err := old.QueryRowContext(ctx, u.Key).Scan(&oldSession, &oldTS)
		switch {
		case err == nil:
			touched[oldSession] = true
			quarters[quarterOf(oldSession, oldTS)] = true
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read usage %s: %w", u.Key, err)
		}
		ts := u.Timestamp.UnixMilli()
		_, err = stmt.ExecContext(ctx, u.Key, nullString(u.MessageID), nullString(u.RequestID), u.SessionID, u.Model,
			ts, u.Input, u.Output, u.CacheWrite5m, u.CacheWrite1h, u.CacheRead, u.Total(), cost)
		if err != nil {
			return fmt.Errorf("save usage %s: %w", u.Key, err)
		}
		touched[u.SessionID] = true
		quarters[quarterOf(u.SessionID, ts)] = true
	}
	return nil
}

// refreshQuarters recomputes the sums of usage_quarters for the given
// sessions and quarter hours from the usage rows.
func refreshQuarters(ctx context.Context, tx *sql.Tx, qs map[quarter]bool) error {
	del, err := tx.PrepareContext(ctx, `DELETE FROM usage_quarters WHERE session_id = ? AND bucket = ?`)
	if err != nil {
		return fmt.Errorf("prepare usage sums: %w", err)
	}
	defer del.Close()
	const q = `INSERT INTO usage_quarters (session_id, bucket, model, input_tokens, output_tokens, cache_write_5m,
			cache_write_1h, cache_read, cost, unpriced, replies, last_ts)
		SELECT session_id, ?2, model, sum(input_tokens), sum(output_tokens), sum(cache_write_5m), sum(cache_write_1h),
			sum(cache_read), coalesce(sum(cost), 0), sum(cost IS NULL), count(*), max(ts)
		FROM usage WHERE session_id = ?1 AND ts >= ?2 * ?3 AND ts < (?2 + 1) * ?3
		GROUP BY session_id, model`
	ins, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("prepare usage sums: %w", err)
	}
	defer ins.Close()
	for qt := range qs {
		if _, err := del.ExecContext(ctx, qt.session, qt.bucket); err != nil {
			return fmt.Errorf("clear usage sums of %s: %w", qt.session, err)
		}
		if _, err := ins.ExecContext(ctx, qt.session, qt.bucket, bucketMillis); err != nil {
			return fmt.Errorf("sum usage of %s: %w", qt.session, err)
		}
	}
	return nil
}

// refreshSessions recomputes the derived counts and totals of sessions.
func refreshSessions(ctx context.Context, tx *sql.Tx, ids map[string]bool) error {
	const q = `UPDATE sessions SET
		messages = (SELECT count(*) FROM messages m WHERE m.session_id = sessions.id),
		input_tokens = t.input, output_tokens = t.output, cache_write_5m = t.cw5, cache_write_1h = t.cw1,
		cache_read = t.cr, cost = t.cost
		FROM (SELECT coalesce(sum(input_tokens), 0) AS input, coalesce(sum(output_tokens), 0) AS output,
				coalesce(sum(cache_write_5m), 0) AS cw5, coalesce(sum(cache_write_1h), 0) AS cw1,
				coalesce(sum(cache_read), 0) AS cr, coalesce(sum(cost), 0) AS cost
			FROM usage_quarters WHERE session_id = ?) AS t
		WHERE sessions.id = ?`
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("prepare session totals: %w", err)
	}
	defer stmt.Close()
	for id := range ids {
		if _, err := stmt.ExecContext(ctx, id, id); err != nil {
			return fmt.Errorf("update totals of session %s: %w", id, err)
		}
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}
