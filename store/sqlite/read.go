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
	const q = `SELECT uuid, session_id, seq, coalesce(parent_uuid, ''), type, role, ts, text, coalesce(model, ''),
			coalesce(agent_id, ''), coalesce(message_id, ''), subtype, coalesce(logical_parent_uuid, ''), content,
			coalesce(compact_trigger, ''), coalesce(compact_pre_tokens, 0), is_prompt, is_sidechain, is_meta, is_compact_summary, is_api_error
		FROM messages WHERE session_id = ?
		ORDER BY agent_id IS NOT NULL, agent_id, seq, uuid`
	rows, err := db.r.QueryContext(ctx, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("messages of %s: %w", sessionID, err)
	}
	return collect(rows, func(m *store.Message) error {
		var ts sql.NullInt64
		var content sql.NullString
		err := rows.Scan(&m.UUID, &m.SessionID, &m.Seq, &m.ParentUUID, &m.Type, &m.Role, &ts, &m.Text, &m.Model,
			&m.AgentID, &m.MessageID, &m.Subtype, &m.LogicalParentUUID, &content, &m.CompactTrigger, &m.CompactPreTokens,
			&m.IsPrompt, &m.IsSidechain, &m.IsMeta, &m.IsCompactSummary, &m.IsAPIError)
		m.Timestamp, m.Content = fromMillis(ts), rawJSON(content)
		return err
	}, "messages of "+sessionID)
}

// ToolCalls returns a session's tool calls in the order they were made.
func (db *DB) ToolCalls(ctx context.Context, sessionID string) ([]store.ToolCall, error) {
	const q = `SELECT id, session_id, coalesce(message_uuid, ''), coalesce(message_id, ''), coalesce(agent_id, ''),
			coalesce(seq, 0), name, input, started_at,
			coalesce(result_uuid, ''), result, result_json, is_error, interrupted, finished_at
		FROM tool_calls WHERE session_id = ?
		ORDER BY started_at IS NULL, started_at, seq, id`
	rows, err := db.r.QueryContext(ctx, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("tool calls of %s: %w", sessionID, err)
	}
	return collect(rows, func(c *store.ToolCall) error {
		var r store.ToolResult
		var input, text, structured sql.NullString
		var started, finished sql.NullInt64
		if err := rows.Scan(&c.ID, &c.SessionID, &c.MessageUUID, &c.MessageID, &c.AgentID, &c.Seq, &c.Name, &input,
			&started, &r.MessageUUID, &text, &structured, &r.IsError, &r.Interrupted, &finished); err != nil {
			return err
		}
		c.Input, c.At = rawJSON(input), fromMillis(started)
		if text.Valid {
			r.ToolUseID, r.SessionID, r.Text = c.ID, c.SessionID, text.String
			r.Structured, r.At = rawJSON(structured), fromMillis(finished)
			c.Result = &r
		}
		return nil
	}, "tool calls of "+sessionID)
}

// FileChanges returns a session's file changes, oldest first.
func (db *DB) FileChanges(ctx context.Context, sessionID string) ([]store.FileChange, error) {
	const q = `SELECT tool_use_id, session_id, path, operation, lines_added, lines_removed, ts
		FROM file_changes WHERE session_id = ? ORDER BY ts IS NULL, ts, tool_use_id, path`
	rows, err := db.r.QueryContext(ctx, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("file changes of %s: %w", sessionID, err)
	}
	return collect(rows, func(f *store.FileChange) error {
		var ts sql.NullInt64
		err := rows.Scan(&f.ToolUseID, &f.SessionID, &f.Path, &f.Operation, &f.Added, &f.Removed, &ts)
		f.At = fromMillis(ts)
		return err
	}, "file changes of "+sessionID)
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
	rows, err := db.r.QueryContext(ctx, `SELECT u.key, coalesce(u.message_id, ''), coalesce(u.request_id, ''), u.session_id,
			coalesce(u.agent_id, ''), u.model, u.ts, u.input_tokens, u.output_tokens, u.cache_write_5m, u.cache_write_1h,
			u.cache_read, u.cost
		FROM usage u`+where+` ORDER BY u.ts, u.key`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return collect(rows, func(u *store.Usage) error {
		var ts int64
		var cost sql.NullFloat64
		err := rows.Scan(&u.Key, &u.MessageID, &u.RequestID, &u.SessionID, &u.AgentID, &u.Model, &ts,
			&u.Input, &u.Output, &u.CacheWrite5m, &u.CacheWrite1h, &u.CacheRead, &cost)
		u.Timestamp = time.UnixMilli(ts).UTC()
		u.Cost, u.Priced = cost.Float64, cost.Valid
		return err
	}, what)
}
