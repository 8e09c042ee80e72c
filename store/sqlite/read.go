package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/claude-insights/insights/store"
)

// Messages returns a session's messages: the main thread's, then each
// subagent's, in file order.
func (db *DB) Messages(ctx context.Context, sessionID string) ([]store.Message, error) {
	q := `SELECT ` + messageCols + ` FROM messages m WHERE m.session_id = ?
		ORDER BY m.agent_id IS NOT NULL, m.agent_id, m.seq, m.uuid`
	rows, err := db.r.QueryContext(ctx, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("messages of %s: %w", sessionID, err)
	}
	return collect(rows, func(m *store.Message) error { return scanMessage(rows, m) }, "messages of "+sessionID)
}

// messageCols are the columns of messages m that scanMessage reads.
const messageCols = `m.uuid, m.session_id, m.seq, coalesce(m.parent_uuid, ''), m.type, m.role, m.ts, m.text,
	coalesce(m.model, ''), coalesce(m.agent_id, ''), coalesce(m.message_id, ''), m.subtype,
	coalesce(m.logical_parent_uuid, ''), m.content, coalesce(m.compact_trigger, ''), coalesce(m.compact_pre_tokens, 0),
	m.is_prompt, m.is_sidechain, m.is_meta, m.is_compact_summary, m.is_api_error`

func scanMessage(row scanner, m *store.Message, more ...any) error {
	var ts sql.NullInt64
	var content sql.NullString
	err := row.Scan(append([]any{&m.UUID, &m.SessionID, &m.Seq, &m.ParentUUID, &m.Type, &m.Role, &ts, &m.Text, &m.Model,
		&m.AgentID, &m.MessageID, &m.Subtype, &m.LogicalParentUUID, &content, &m.CompactTrigger, &m.CompactPreTokens,
		&m.IsPrompt, &m.IsSidechain, &m.IsMeta, &m.IsCompactSummary, &m.IsAPIError}, more...)...)
	m.Timestamp, m.Content = fromMillis(ts), rawJSON(content)
	return err
}

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// ToolCalls returns a session's tool calls in the order they were made.
func (db *DB) ToolCalls(ctx context.Context, sessionID string) ([]store.ToolCall, error) {
	q := `SELECT ` + toolCallCols + ` FROM tool_calls c WHERE c.session_id = ?
		ORDER BY c.started_at IS NULL, c.started_at, c.seq, c.id`
	rows, err := db.r.QueryContext(ctx, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("tool calls of %s: %w", sessionID, err)
	}
	return collect(rows, func(c *store.ToolCall) error { return scanToolCall(rows, c) }, "tool calls of "+sessionID)
}

// toolCallCols are the columns of tool_calls c that scanToolCall reads.
const toolCallCols = `c.id, c.session_id, coalesce(c.message_uuid, ''), coalesce(c.message_id, ''),
	coalesce(c.agent_id, ''), coalesce(c.seq, 0), c.name, c.input, c.started_at,
	coalesce(c.result_uuid, ''), c.result, c.result_json, c.is_error, c.interrupted, c.finished_at`

func scanToolCall(row scanner, c *store.ToolCall, more ...any) error {
	var r store.ToolResult
	var input, text, structured sql.NullString
	var started, finished sql.NullInt64
	if err := row.Scan(append([]any{&c.ID, &c.SessionID, &c.MessageUUID, &c.MessageID, &c.AgentID, &c.Seq, &c.Name,
		&input, &started, &r.MessageUUID, &text, &structured, &r.IsError, &r.Interrupted, &finished}, more...)...); err != nil {
		return err
	}
	c.Input, c.At = rawJSON(input), fromMillis(started)
	if text.Valid {
		r.ToolUseID, r.SessionID, r.Text = c.ID, c.SessionID, text.String
		r.Structured, r.At = rawJSON(structured), fromMillis(finished)
		c.Result = &r
	}
	return nil
}

// FileChanges returns a session's file changes, oldest first.
func (db *DB) FileChanges(ctx context.Context, sessionID string) ([]store.FileChange, error) {
	q := `SELECT ` + fileChangeCols + ` FROM file_changes f WHERE f.session_id = ?
		ORDER BY f.ts IS NULL, f.ts, f.tool_use_id, f.path`
	rows, err := db.r.QueryContext(ctx, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("file changes of %s: %w", sessionID, err)
	}
	return collect(rows, func(f *store.FileChange) error { return scanFileChange(rows, f) }, "file changes of "+sessionID)
}

// fileChangeCols are the columns of file_changes f that scanFileChange reads.
const fileChangeCols = `f.tool_use_id, f.session_id, f.path, f.operation, f.lines_added, f.lines_removed, f.ts`

func scanFileChange(row scanner, f *store.FileChange, more ...any) error {
	var ts sql.NullInt64
	err := row.Scan(append([]any{&f.ToolUseID, &f.SessionID, &f.Path, &f.Operation, &f.Added, &f.Removed, &ts}, more...)...)
	f.At = fromMillis(ts)
	return err
}

// Subagents returns a session's subagents by start time.
func (db *DB) Subagents(ctx context.Context, sessionID string) ([]store.SubagentInfo, error) {
	const q = `SELECT a.agent_id, coalesce(a.tool_use_id, ''), coalesce(a.path, ''),
			coalesce(json_extract(c.input, '$.subagent_type'), ''), coalesce(json_extract(c.input, '$.description'), ''),
			coalesce(m.n, 0), m.first_at, m.last_at,
			coalesce(u.input, 0), coalesce(u.output, 0), coalesce(u.cw5, 0), coalesce(u.cw1, 0), coalesce(u.cr, 0),
			coalesce(u.cost, 0), c.started_at
		FROM subagents a
		LEFT JOIN tool_calls c ON c.id = a.tool_use_id
		LEFT JOIN (SELECT agent_id, count(*) AS n, min(ts) AS first_at, max(ts) AS last_at
			FROM messages WHERE session_id = ?1 AND agent_id IS NOT NULL GROUP BY agent_id) AS m ON m.agent_id = a.agent_id
		LEFT JOIN (SELECT agent_id, sum(input_tokens) AS input, sum(output_tokens) AS output,
				sum(cache_write_5m) AS cw5, sum(cache_write_1h) AS cw1, sum(cache_read) AS cr, sum(cost) AS cost
			FROM usage WHERE session_id = ?1 AND agent_id IS NOT NULL GROUP BY agent_id) AS u ON u.agent_id = a.agent_id
		WHERE a.session_id = ?1
		ORDER BY coalesce(m.first_at, c.started_at) IS NULL, coalesce(m.first_at, c.started_at), a.agent_id`
	rows, err := db.r.QueryContext(ctx, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("subagents of %s: %w", sessionID, err)
	}
	return collect(rows, func(a *store.SubagentInfo) error {
		a.SessionID = sessionID
		var first, last, started sql.NullInt64
		err := rows.Scan(&a.AgentID, &a.ToolUseID, &a.Path, &a.Type, &a.Description, &a.Messages, &first, &last,
			&a.Input, &a.Output, &a.CacheWrite5m, &a.CacheWrite1h, &a.CacheRead, &a.Cost, &started)
		a.FirstAt, a.LastAt, a.Cost = fromMillis(first), fromMillis(last), store.RoundCost(a.Cost)
		return err
	}, "subagents of "+sessionID)
}

func rawJSON(s sql.NullString) json.RawMessage {
	if !s.Valid || s.String == "" {
		return nil
	}
	return json.RawMessage(s.String)
}

// Commits returns the commits a session made, oldest first.
func (db *DB) Commits(ctx context.Context, sessionID string) ([]store.Commit, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT tool_use_id, session_id, hash, branch, subject, ts FROM commits
		WHERE session_id = ? ORDER BY ts IS NULL, ts, tool_use_id, hash`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("commits of %s: %w", sessionID, err)
	}
	return collect(rows, func(c *store.Commit) error {
		var ts sql.NullInt64
		err := rows.Scan(&c.ToolUseID, &c.SessionID, &c.Hash, &c.Branch, &c.Subject, &ts)
		c.At = fromMillis(ts)
		return err
	}, "commits of "+sessionID)
}

// Tags returns the tags of a session, sorted.
func (db *DB) Tags(ctx context.Context, sessionID string) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT tag FROM session_tags WHERE session_id = ? ORDER BY tag`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("tags of %s: %w", sessionID, err)
	}
	return collect(rows, func(t *string) error { return rows.Scan(t) }, "tags of "+sessionID)
}

// Plans returns every plan, newest first, with the sessions sharing its slug.
func (db *DB) Plans(ctx context.Context) ([]store.PlanInfo, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT slug, path, content, mod_time FROM plans ORDER BY mod_time IS NULL, mod_time DESC, slug`)
	if err != nil {
		return nil, fmt.Errorf("plans: %w", err)
	}
	ps, err := collect(rows, func(p *store.PlanInfo) error {
		var mod sql.NullInt64
		err := rows.Scan(&p.Slug, &p.Path, &p.Markdown, &mod)
		p.ModTime = fromMillis(mod)
		return err
	}, "plans")
	if err != nil {
		return nil, err
	}
	for i := range ps {
		rows, err := db.r.QueryContext(ctx, `SELECT id FROM sessions WHERE slug = ? ORDER BY first_at IS NULL, first_at, id`, ps[i].Slug)
		if err != nil {
			return nil, fmt.Errorf("sessions of plan %s: %w", ps[i].Slug, err)
		}
		if ps[i].Sessions, err = collect(rows, func(id *string) error { return rows.Scan(id) }, "sessions of plan "+ps[i].Slug); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// Todos returns the todo lists of a session, by agent id.
func (db *DB) Todos(ctx context.Context, sessionID string) ([]store.TodoList, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT agent_id, content, status, active_form FROM todos
		WHERE session_id = ? ORDER BY agent_id, position`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("todos of %s: %w", sessionID, err)
	}
	items, err := collect(rows, func(it *store.AgentTodo) error {
		return rows.Scan(&it.AgentID, &it.Content, &it.Status, &it.ActiveForm)
	}, "todos of "+sessionID)
	if err != nil {
		return nil, err
	}
	return store.GroupTodos(sessionID, items), nil
}

// Prompts returns prompts of the history, newest first.
func (db *DB) Prompts(ctx context.Context, q store.PromptQuery) ([]store.Prompt, error) {
	w, args := promptWhere(q)
	limit, offset := store.PromptPage(q)
	rows, err := db.r.QueryContext(ctx, `SELECT key, ts, project, coalesce(session_id, ''), display, pasted
		FROM prompt_history`+w+` ORDER BY ts IS NULL, ts DESC, key LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("prompt history: %w", err)
	}
	return collect(rows, func(p *store.Prompt) error {
		var ts sql.NullInt64
		var pasted sql.NullString
		err := rows.Scan(&p.Key, &ts, &p.Project, &p.SessionID, &p.Text, &pasted)
		p.At, p.Pasted = fromMillis(ts), rawJSON(pasted)
		return err
	}, "prompt history")
}

// collect scans every row into a slice, closing rows.
func collect[T any](rows *sql.Rows, scan func(*T) error, what string) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(&v); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Replies returns the billed replies of a session, oldest first.
func (db *DB) Replies(ctx context.Context, sessionID string) ([]store.Usage, error) {
	return db.replies(ctx, ` WHERE u.session_id = ?`, []any{sessionID}, "replies of "+sessionID)
}

// RepliesBetween returns the billed replies of [since, until) (zero:
// unbounded) in the sessions of a project ("": every project), oldest first.
func (db *DB) RepliesBetween(ctx context.Context, since, until time.Time, project string) ([]store.Usage, error) {
	var join string
	var where []string
	var args []any
	if !since.IsZero() {
		where = append(where, "u.ts >= ?")
		args = append(args, since.UnixMilli())
	}
	if !until.IsZero() {
		where = append(where, "u.ts < ?")
		args = append(args, until.UnixMilli())
	}
	if project != "" {
		join = " JOIN sessions s ON s.id = u.session_id"
		where = append(where, `(s.project = ? OR s.project LIKE ? ESCAPE '\')`)
		args = append(args, project, "%/"+escapeLike(project))
	}
	w := join
	if len(where) > 0 {
		w += " WHERE " + strings.Join(where, " AND ")
	}
	return db.replies(ctx, w, args, "replies between "+since.Format(time.RFC3339)+" and "+until.Format(time.RFC3339))
}

// replies reads usage rows u, selected by the joins and conditions of where,
// by time.
func (db *DB) replies(ctx context.Context, where string, args []any, what string) ([]store.Usage, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+usageRowCols+` FROM usage u`+where+` ORDER BY u.ts, u.key`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return collect(rows, func(u *store.Usage) error { return scanUsage(rows, u) }, what)
}

// usageRowCols are the columns of usage u that scanUsage reads.
const usageRowCols = `u.key, coalesce(u.message_id, ''), coalesce(u.request_id, ''), u.session_id,
	coalesce(u.agent_id, ''), u.model, u.ts, u.input_tokens, u.output_tokens, u.cache_write_5m, u.cache_write_1h,
	u.cache_read, u.cost`

func scanUsage(row scanner, u *store.Usage, more ...any) error {
	var ts int64
	var cost sql.NullFloat64
	err := row.Scan(append([]any{&u.Key, &u.MessageID, &u.RequestID, &u.SessionID, &u.AgentID, &u.Model, &ts,
		&u.Input, &u.Output, &u.CacheWrite5m, &u.CacheWrite1h, &u.CacheRead, &cost}, more...)...)
	u.Timestamp = time.UnixMilli(ts).UTC()
	u.Cost, u.Priced = cost.Float64, cost.Valid
	return err
}
