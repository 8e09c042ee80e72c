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
	s, err := scanFile(db.r.QueryRowContext(ctx, `SELECT `+fileColumns+` FROM ingest_files WHERE path = ?`, path))
	if errors.Is(err, sql.ErrNoRows) {
		return store.FileState{Path: path}, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("file state of %s: %w", path, err)
	}
	return s, true, nil
}

const fileColumns = `path, size, offset, lines, broken, mod_time, dev, inode, head_len, head_hash, imported_at, gone_at`

func scanFile(row interface{ Scan(...any) error }) (store.FileState, error) {
	var s store.FileState
	var mod, imported int64
	var gone sql.NullInt64
	err := row.Scan(&s.Path, &s.Size, &s.Offset, &s.Lines, &s.Broken, &mod, &s.Dev, &s.Inode,
		&s.HeadLen, &s.HeadHash, &imported, &gone)
	s.ModTime = time.UnixMilli(mod).UTC()
	s.ImportedAt = fromMillis(sql.NullInt64{Int64: imported, Valid: imported != 0})
	s.GoneAt = fromMillis(gone)
	return s, err
}

// Apply writes batches, each with its file's state, in one transaction.
// Derived sums (usage per quarter hour, session counts and totals) are
// recomputed once, after the last batch.
func (db *DB) Apply(ctx context.Context, batches ...*store.Batch) error {
	if len(batches) == 0 {
		return nil
	}
	what := store.BatchFiles(batches)
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin import of %s: %w", what, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	w := newWriteTx(tx)
	ch := changes{touched: map[string]bool{}, quarters: map[quarter]bool{}}
	for _, b := range batches {
		if err := applyBatch(ctx, w, b, ch); err != nil {
			return fmt.Errorf("import %s: %w", b.File.Path, err)
		}
	}
	if err := refreshQuarters(ctx, w, ch.quarters); err != nil {
		return fmt.Errorf("import %s: %w", what, err)
	}
	if err := refreshSessions(ctx, w, ch.touched); err != nil {
		return fmt.Errorf("import %s: %w", what, err)
	}
	if err := markDays(ctx, w, batches, ch.touched); err != nil {
		return fmt.Errorf("import %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit import of %s: %w", what, err)
	}
	return nil
}

// changes collects what a transaction's batches change in derived sums: the
// sessions touched, and the sessions' quarter hours whose usage changed.
type changes struct {
	touched  map[string]bool
	quarters map[quarter]bool
}

func applyBatch(ctx context.Context, tx *writeTx, b *store.Batch, ch changes) error {
	if b.File.Path == "" {
		return errors.New("batch names no file")
	}
	touched, quarters := ch.touched, ch.quarters
	if err := upsertSessions(ctx, tx, b.Sessions, touched); err != nil {
		return err
	}
	if err := insertMessages(ctx, tx, b.Messages, touched); err != nil {
		return err
	}
	if err := upsertUsage(ctx, tx, b.Usage, touched, quarters); err != nil {
		return err
	}
	if err := saveRecord(ctx, tx, b, touched); err != nil {
		return err
	}
	if err := linkFiles(ctx, tx, b); err != nil {
		return err
	}
	if err := saveSkipped(ctx, tx, b); err != nil {
		return err
	}
	const q = `INSERT INTO ingest_files (` + fileColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
		ON CONFLICT (path) DO UPDATE SET size = excluded.size, offset = excluded.offset,
			lines = excluded.lines, broken = excluded.broken, mod_time = excluded.mod_time,
			dev = excluded.dev, inode = excluded.inode, head_len = excluded.head_len,
			head_hash = excluded.head_hash, imported_at = excluded.imported_at, gone_at = NULL`
	f := b.File
	if _, err := tx.ExecContext(ctx, q, f.Path, f.Size, f.Offset, f.Lines, f.Broken, f.ModTime.UnixMilli(),
		f.Dev, f.Inode, f.HeadLen, f.HeadHash, millis(f.ImportedAt)); err != nil {
		return fmt.Errorf("save file state: %w", err)
	}
	return nil
}

// linkFiles notes which sessions the batch's file holds.
func linkFiles(ctx context.Context, tx *writeTx, b *store.Batch) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO session_files (session_id, path) VALUES (?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("prepare session files: %w", err)
	}
	for _, s := range b.Sessions {
		if _, err := stmt.ExecContext(ctx, s.ID, b.File.Path); err != nil {
			return fmt.Errorf("link session %s to its file: %w", s.ID, err)
		}
	}
	return nil
}

// saveSkipped records the batch's skipped lines. A reset forgets the lines
// skipped in the file's earlier content; any read clears a whole-file error.
func saveSkipped(ctx context.Context, tx *writeTx, b *store.Batch) error {
	del := `DELETE FROM skipped_lines WHERE path = ? AND line = 0`
	if b.Reset {
		del = `DELETE FROM skipped_lines WHERE path = ?`
	}
	if _, err := tx.ExecContext(ctx, del, b.File.Path); err != nil {
		return fmt.Errorf("clear skipped lines: %w", err)
	}
	for _, sk := range b.Skipped {
		if err := insertSkipped(ctx, tx, sk); err != nil {
			return err
		}
	}
	return nil
}

func insertSkipped(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, sk store.Skipped) error {
	const q = `INSERT INTO skipped_lines (path, line, reason, detail, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (path, line) DO UPDATE SET reason = excluded.reason, detail = excluded.detail, at = excluded.at`
	if _, err := ex.ExecContext(ctx, q, sk.Path, sk.Line, sk.Reason, sk.Detail, millis(sk.At)); err != nil {
		return fmt.Errorf("record skipped line %s:%d: %w", sk.Path, sk.Line, err)
	}
	return nil
}

// SkipFile records a file that could not be read.
func (db *DB) SkipFile(ctx context.Context, sk store.Skipped) error {
	sk.Line = 0
	return insertSkipped(ctx, db.w, sk)
}

// Files lists every tracked file.
func (db *DB) Files(ctx context.Context) ([]store.FileState, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+fileColumns+` FROM ingest_files ORDER BY path`)
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	defer rows.Close()
	var fs []store.FileState
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, fmt.Errorf("list files: %w", err)
		}
		fs = append(fs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	return fs, nil
}

// MarkGone records that files were deleted.
func (db *DB) MarkGone(ctx context.Context, paths []string, at time.Time) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("mark files gone: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, p := range paths {
		if _, err := tx.ExecContext(ctx, `UPDATE ingest_files SET gone_at = ? WHERE path = ? AND gone_at IS NULL`, millis(at), p); err != nil {
			return fmt.Errorf("mark %s gone: %w", p, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("mark files gone: %w", err)
	}
	return nil
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// upsertSessions merges what a batch saw of each session: the widest time
// span, and place, branch and version from the latest record.
func upsertSessions(ctx context.Context, tx *writeTx, ss []store.Session, touched map[string]bool) error {
	const q = `INSERT INTO sessions (id, project, git_branch, version, first_at, last_at, slug) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			slug = CASE WHEN excluded.slug <> '' AND (sessions.slug = '' OR excluded.last_at >= sessions.last_at)
				THEN excluded.slug ELSE sessions.slug END,
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
	for _, s := range ss {
		if _, err := stmt.ExecContext(ctx, s.ID, s.Project, s.GitBranch, s.Version, nullTime(s.FirstAt), nullTime(s.LastAt), s.Slug); err != nil {
			return fmt.Errorf("save session %s: %w", s.ID, err)
		}
		touched[s.ID] = true
	}
	return nil
}

// insertMessages keeps one copy of each message uuid: of copies in several
// sessions (a resumed session repeats earlier lines), the one in the smallest
// session id, so that the result does not depend on the order files are read
// in. A copy in the same session replaces the stored one, so that reading a
// file again refreshes what is stored. The full-text index follows each row.
func insertMessages(ctx context.Context, tx *writeTx, ms []store.Message, touched map[string]bool) error {
	const cols = `session_id, seq, parent_uuid, type, role, ts, text, model, agent_id,
			is_sidechain, is_meta, is_compact_summary, is_api_error, message_id, subtype,
			logical_parent_uuid, is_prompt, content, compact_trigger, compact_pre_tokens, uuid`
	ins, err := tx.PrepareContext(ctx, `INSERT INTO messages (`+cols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uuid) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("prepare messages: %w", err)
	}
	old, err := tx.PrepareContext(ctx, `SELECT rowid, session_id FROM messages WHERE uuid = ?`)
	if err != nil {
		return fmt.Errorf("prepare messages: %w", err)
	}
	replace, err := tx.PrepareContext(ctx, `UPDATE messages SET (`+cols+`) =
		(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE uuid = ?21`)
	if err != nil {
		return fmt.Errorf("prepare messages: %w", err)
	}
	idx, err := prepareIndex(ctx, tx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		args := []any{m.SessionID, m.Seq, nullString(m.ParentUUID), m.Type, m.Role,
			nullTime(m.Timestamp), m.Text, nullString(m.Model), nullString(m.AgentID),
			m.IsSidechain, m.IsMeta, m.IsCompactSummary, m.IsAPIError, nullString(m.MessageID), m.Subtype,
			nullString(m.LogicalParentUUID), m.IsPrompt, nullJSON(m.Content), nullString(m.CompactTrigger),
			nullInt(m.CompactPreTokens), m.UUID}
		res, err := ins.ExecContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("save message %s: %w", m.UUID, err)
		}
		touched[m.SessionID] = true
		if n, _ := res.RowsAffected(); n > 0 {
			rowid, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("save message %s: %w", m.UUID, err)
			}
			if err := idx.add(ctx, rowid, m.Search); err != nil {
				return err
			}
			continue
		}
		var rowid int64
		var prev string
		if err := old.QueryRowContext(ctx, m.UUID).Scan(&rowid, &prev); err != nil {
			return fmt.Errorf("read message %s: %w", m.UUID, err)
		}
		if m.SessionID > prev {
			continue
		}
		if _, err := replace.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("replace message %s: %w", m.UUID, err)
		}
		if err := idx.replace(ctx, rowid, m.Search); err != nil {
			return err
		}
		touched[prev] = true
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
	return quarter{session, store.Bucket(time.UnixMilli(ts))}
}

// upsertUsage keeps one row per reply: the fullest usage seen, dated by the
// earliest line that carries it. Identical copies in several sessions (a
// resumed session repeats earlier lines) go to the smallest session id, so
// the result does not depend on the order files are read in. It notes the sessions and quarter hours
// whose sums change: the reply's, and the ones it moved away from.
func upsertUsage(ctx context.Context, tx *writeTx, us []store.Usage, touched map[string]bool, quarters map[quarter]bool) error {
	const q = `INSERT INTO usage (key, message_id, request_id, session_id, model, ts, input_tokens, output_tokens,
			cache_write_5m, cache_write_1h, cache_read, total_tokens, cost, agent_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			session_id = excluded.session_id, agent_id = excluded.agent_id, model = excluded.model, ts = excluded.ts,
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
	old, err := tx.PrepareContext(ctx, `SELECT session_id, ts FROM usage WHERE key = ?`)
	if err != nil {
		return fmt.Errorf("prepare usage: %w", err)
	}
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
			ts, u.Input, u.Output, u.CacheWrite5m, u.CacheWrite1h, u.CacheRead, u.Total(), cost, nullString(u.AgentID))
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
func refreshQuarters(ctx context.Context, tx *writeTx, qs map[quarter]bool) error {
	del, err := tx.PrepareContext(ctx, `DELETE FROM usage_quarters WHERE session_id = ? AND bucket = ?`)
	if err != nil {
		return fmt.Errorf("prepare usage sums: %w", err)
	}
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

// refreshSessions recomputes the derived counts, totals and title of sessions.
func refreshSessions(ctx context.Context, tx *writeTx, ids map[string]bool) error {
	const q = `UPDATE sessions SET
		messages = (SELECT count(*) FROM messages m WHERE m.session_id = sessions.id),
		compactions = (SELECT count(*) FROM messages m WHERE m.session_id = sessions.id AND m.subtype = 'compact_boundary'),
		tool_calls = (SELECT count(*) FROM tool_calls c WHERE c.session_id = sessions.id),
		tool_errors = (SELECT count(*) FROM tool_calls c WHERE c.session_id = sessions.id AND c.is_error),
		subagents = (SELECT count(*) FROM subagents a WHERE a.session_id = sessions.id),
		title = coalesce(
			(SELECT s.summary FROM summaries s JOIN messages m ON m.uuid = s.leaf_uuid
				WHERE m.session_id = sessions.id ORDER BY m.ts IS NULL, m.ts DESC, m.seq DESC, m.uuid LIMIT 1),
			(SELECT m.text FROM messages m WHERE m.session_id = sessions.id AND m.is_prompt AND m.agent_id IS NULL
				ORDER BY m.ts IS NULL, m.ts, m.seq, m.uuid LIMIT 1),
			''),
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
	long, err := tx.PrepareContext(ctx, `INSERT INTO session_tags (session_id, tag)
		SELECT id, ?2 FROM sessions WHERE id = ?1 AND (messages >= ?3 OR last_at - first_at >= ?4)
		ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("prepare session tags: %w", err)
	}
	for id := range ids {
		if _, err := stmt.ExecContext(ctx, id, id); err != nil {
			return fmt.Errorf("update totals of session %s: %w", id, err)
		}
		if _, err := long.ExecContext(ctx, id, store.TagLong, store.LongMessages, store.LongDuration.Milliseconds()); err != nil {
			return fmt.Errorf("tag session %s: %w", id, err)
		}
	}
	return nil
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
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
