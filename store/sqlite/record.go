package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/claude-insights/insights/store"
)

// saveRecord writes the tool calls, file changes, subagents and summaries
// of a batch, noting every session whose derived columns change.
func saveRecord(ctx context.Context, tx *writeTx, b *store.Batch, touched map[string]bool) error {
	if err := saveToolUses(ctx, tx, b.ToolUses, touched); err != nil {
		return err
	}
	if err := saveToolResults(ctx, tx, b.ToolResults, touched); err != nil {
		return err
	}
	if err := saveFileChanges(ctx, tx, b.FileChanges, touched); err != nil {
		return err
	}
	if err := saveSubagents(ctx, tx, b.Subagents, touched); err != nil {
		return err
	}
	if err := saveSummaries(ctx, tx, b.Summaries, touched); err != nil {
		return err
	}
	if err := saveCommits(ctx, tx, b.Commits); err != nil {
		return err
	}
	if err := saveTags(ctx, tx, b.Tags); err != nil {
		return err
	}
	if err := savePlans(ctx, tx, b.Plans); err != nil {
		return err
	}
	if err := saveTodos(ctx, tx, b.TodoLists); err != nil {
		return err
	}
	return savePrompts(ctx, tx, b.Prompts)
}

// saveCommits keeps one row per (call, hash): of copies in several sessions,
// the smallest session's.
func saveCommits(ctx context.Context, tx *writeTx, cs []store.Commit) error {
	const q = `INSERT INTO commits (tool_use_id, hash, session_id, branch, subject, ts) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tool_use_id, hash) DO UPDATE SET session_id = excluded.session_id, branch = excluded.branch,
			subject = excluded.subject, ts = excluded.ts
		WHERE excluded.session_id <= commits.session_id`
	for _, c := range cs {
		if _, err := tx.ExecContext(ctx, q, c.ToolUseID, c.Hash, c.SessionID, c.Branch, c.Subject, nullTime(c.At)); err != nil {
			return fmt.Errorf("save commit %s: %w", c.Hash, err)
		}
	}
	return nil
}

func saveTags(ctx context.Context, tx *writeTx, ts []store.Tag) error {
	for _, t := range ts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO session_tags (session_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING`,
			t.SessionID, t.Tag); err != nil {
			return fmt.Errorf("tag session %s: %w", t.SessionID, err)
		}
	}
	return nil
}

func savePlans(ctx context.Context, tx *writeTx, ps []store.Plan) error {
	const q = `INSERT INTO plans (slug, path, content, mod_time) VALUES (?, ?, ?, ?)
		ON CONFLICT (slug) DO UPDATE SET path = excluded.path, content = excluded.content, mod_time = excluded.mod_time`
	for _, p := range ps {
		if _, err := tx.ExecContext(ctx, q, p.Slug, p.Path, p.Markdown, nullTime(p.ModTime)); err != nil {
			return fmt.Errorf("save plan %s: %w", p.Slug, err)
		}
	}
	return nil
}

// saveTodos replaces the items of each list.
func saveTodos(ctx context.Context, tx *writeTx, ls []store.TodoList) error {
	for _, l := range ls {
		if _, err := tx.ExecContext(ctx, `DELETE FROM todos WHERE session_id = ? AND agent_id = ?`, l.SessionID, l.AgentID); err != nil {
			return fmt.Errorf("clear todos of %s: %w", l.SessionID, err)
		}
		for i, it := range l.Items {
			if _, err := tx.ExecContext(ctx, `INSERT INTO todos (session_id, agent_id, position, content, status, active_form)
				VALUES (?, ?, ?, ?, ?, ?)`, l.SessionID, l.AgentID, i, it.Content, it.Status, it.ActiveForm); err != nil {
				return fmt.Errorf("save todos of %s: %w", l.SessionID, err)
			}
		}
	}
	return nil
}

func savePrompts(ctx context.Context, tx *writeTx, ps []store.Prompt) error {
	const q = `INSERT INTO prompt_history (key, ts, project, session_id, display, pasted) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`
	for _, p := range ps {
		if _, err := tx.ExecContext(ctx, q, p.Key, nullTime(p.At), p.Project, nullString(p.SessionID), p.Text, nullJSON(p.Pasted)); err != nil {
			return fmt.Errorf("save prompt of %s: %w", p.At, err)
		}
	}
	return nil
}

// previousSession returns the session a row is stored in, or "" if it is
// not stored; the caller notes it as touched, since the row may move away.
func previousSession(ctx context.Context, stmt *sql.Stmt, args ...any) (string, error) {
	var sid string
	err := stmt.QueryRowContext(ctx, args...).Scan(&sid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return sid, err
}

// toolCallUpsert writes one half of tool call rows: the columns named. The
// row belongs to the smaller session id of the stored and the incoming one;
// the incoming half replaces the stored half when there is none yet or when
// it comes from that smaller session, so that of copies in several sessions
// the smallest session's is kept whatever the order they arrive in.
type toolCallUpsert struct {
	old, upsert *sql.Stmt
}

// prepareToolCalls prepares the upsert of one half: its columns, and the
// condition under which the stored half is missing.
func prepareToolCalls(ctx context.Context, tx *writeTx, cols []string, missing string) (*toolCallUpsert, error) {
	old, err := tx.PrepareContext(ctx, `SELECT session_id FROM tool_calls WHERE id = ?`)
	if err != nil {
		return nil, fmt.Errorf("prepare tool calls: %w", err)
	}
	q := `INSERT INTO tool_calls (id, session_id`
	vals, set := `?, ?`, `session_id = min(tool_calls.session_id, excluded.session_id)`
	for _, c := range cols {
		q += ", " + c
		vals += ", ?"
		set += ", " + c + " = CASE WHEN " + missing + " OR excluded.session_id <= tool_calls.session_id THEN excluded." + c +
			" ELSE tool_calls." + c + " END"
	}
	q += `) VALUES (` + vals + `) ON CONFLICT (id) DO UPDATE SET ` + set
	upsert, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare tool calls: %w", err)
	}
	return &toolCallUpsert{old: old, upsert: upsert}, nil
}

func (u *toolCallUpsert) save(ctx context.Context, id, sid string, touched map[string]bool, args ...any) error {
	prev, err := previousSession(ctx, u.old, id)
	if err != nil {
		return fmt.Errorf("read tool call %s: %w", id, err)
	}
	if prev != "" {
		touched[prev] = true
	}
	if _, err := u.upsert.ExecContext(ctx, append([]any{id, sid}, args...)...); err != nil {
		return fmt.Errorf("save tool call %s: %w", id, err)
	}
	touched[sid] = true
	return nil
}

func saveToolUses(ctx context.Context, tx *writeTx, uses []store.ToolUse, touched map[string]bool) error {
	if len(uses) == 0 {
		return nil
	}
	u, err := prepareToolCalls(ctx, tx, []string{"message_uuid", "message_id", "agent_id", "seq", "name", "input", "started_at"},
		"tool_calls.name = ''")
	if err != nil {
		return err
	}
	for _, c := range uses {
		if err := u.save(ctx, c.ID, c.SessionID, touched, nullString(c.MessageUUID), nullString(c.MessageID),
			nullString(c.AgentID), c.Seq, c.Name, nullJSON(c.Input), nullTime(c.At)); err != nil {
			return err
		}
	}
	return nil
}

func saveToolResults(ctx context.Context, tx *writeTx, results []store.ToolResult, touched map[string]bool) error {
	if len(results) == 0 {
		return nil
	}
	u, err := prepareToolCalls(ctx, tx, []string{"result_uuid", "result", "result_json", "is_error", "interrupted", "finished_at"},
		"tool_calls.result IS NULL")
	if err != nil {
		return err
	}
	for _, r := range results {
		if err := u.save(ctx, r.ToolUseID, r.SessionID, touched, nullString(r.MessageUUID), r.Text,
			nullJSON(r.Structured), r.IsError, r.Interrupted, nullTime(r.At)); err != nil {
			return err
		}
	}
	return nil
}

func saveFileChanges(ctx context.Context, tx *writeTx, fcs []store.FileChange, touched map[string]bool) error {
	if len(fcs) == 0 {
		return nil
	}
	old, err := tx.PrepareContext(ctx, `SELECT session_id FROM file_changes WHERE tool_use_id = ? AND path = ?`)
	if err != nil {
		return fmt.Errorf("prepare file changes: %w", err)
	}
	const q = `INSERT INTO file_changes (tool_use_id, path, session_id, operation, lines_added, lines_removed, ts)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tool_use_id, path) DO UPDATE SET session_id = excluded.session_id,
			operation = excluded.operation, lines_added = excluded.lines_added,
			lines_removed = excluded.lines_removed, ts = excluded.ts
		WHERE excluded.session_id <= file_changes.session_id`
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("prepare file changes: %w", err)
	}
	for _, f := range fcs {
		prev, err := previousSession(ctx, old, f.ToolUseID, f.Path)
		if err != nil {
			return fmt.Errorf("read file change %s: %w", f.Path, err)
		}
		if prev != "" {
			touched[prev] = true
		}
		if _, err := stmt.ExecContext(ctx, f.ToolUseID, f.Path, f.SessionID, f.Operation, f.Added, f.Removed, nullTime(f.At)); err != nil {
			return fmt.Errorf("save file change %s: %w", f.Path, err)
		}
		touched[f.SessionID] = true
	}
	return nil
}

func saveSubagents(ctx context.Context, tx *writeTx, as []store.Subagent, touched map[string]bool) error {
	const q = `INSERT INTO subagents (session_id, agent_id, tool_use_id, path) VALUES (?, ?, ?, ?)
		ON CONFLICT (session_id, agent_id) DO UPDATE SET
			tool_use_id = coalesce(excluded.tool_use_id, subagents.tool_use_id),
			path = coalesce(excluded.path, subagents.path)`
	for _, a := range as {
		if _, err := tx.ExecContext(ctx, q, a.SessionID, a.AgentID, nullString(a.ToolUseID), nullString(a.Path)); err != nil {
			return fmt.Errorf("save subagent %s: %w", a.AgentID, err)
		}
		touched[a.SessionID] = true
	}
	return nil
}

// saveSummaries stores titles; the session holding a summarized message, if
// stored yet, takes its title from it.
func saveSummaries(ctx context.Context, tx *writeTx, ss []store.Summary, touched map[string]bool) error {
	const q = `INSERT INTO summaries (leaf_uuid, summary) VALUES (?, ?)
		ON CONFLICT (leaf_uuid) DO UPDATE SET summary = excluded.summary`
	for _, s := range ss {
		if _, err := tx.ExecContext(ctx, q, s.LeafUUID, s.Text); err != nil {
			return fmt.Errorf("save summary of %s: %w", s.LeafUUID, err)
		}
		var sid string
		err := tx.QueryRowContext(ctx, `SELECT session_id FROM messages WHERE uuid = ?`, s.LeafUUID).Scan(&sid)
		switch {
		case err == nil:
			touched[sid] = true
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find the session of %s: %w", s.LeafUUID, err)
		}
	}
	return nil
}

// index keeps messages_fts in step with messages.
type index struct {
	ins, del *sql.Stmt
}

func prepareIndex(ctx context.Context, tx *writeTx) (*index, error) {
	ins, err := tx.PrepareContext(ctx, `INSERT INTO messages_fts (rowid, body) VALUES (?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("prepare search index: %w", err)
	}
	del, err := tx.PrepareContext(ctx, `DELETE FROM messages_fts WHERE rowid = ?`)
	if err != nil {
		return nil, fmt.Errorf("prepare search index: %w", err)
	}
	return &index{ins: ins, del: del}, nil
}

func (x *index) add(ctx context.Context, rowid int64, text string) error {
	if text == "" {
		return nil
	}
	if _, err := x.ins.ExecContext(ctx, rowid, store.SearchBody(text)); err != nil {
		return fmt.Errorf("index message: %w", err)
	}
	return nil
}

func (x *index) replace(ctx context.Context, rowid int64, text string) error {
	if _, err := x.del.ExecContext(ctx, rowid); err != nil {
		return fmt.Errorf("index message: %w", err)
	}
	return x.add(ctx, rowid, text)
}

func nullJSON(j json.RawMessage) any {
	if len(j) == 0 {
		return nil
	}
	return string(j)
}
