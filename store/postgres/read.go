package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/claude-insights/insights/store"
)

// querier is a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryAll runs a query and scans each of its rows with scan.
func queryAll[T any](ctx context.Context, db querier, scan func(*sql.Rows) (T, error), q string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// rawJSON is a JSON column as read: nil for NULL.
func rawJSON(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	return json.RawMessage(b)
}

// Messages returns the messages of a session: the main thread's, then each
// subagent's, each in file order.
func (db *DB) Messages(ctx context.Context, sessionID string) ([]store.Message, error) {
	q := `SELECT ` + messageCols + ` FROM messages m WHERE m.session_id = $1
		ORDER BY m.agent_id NULLS FIRST, m.seq, m.uuid`
	ms, err := queryAll(ctx, db.db, func(r *sql.Rows) (store.Message, error) { return scanMessage(r) }, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("messages of session %s: %w", sessionID, err)
	}
	return ms, nil
}

// messageCols are the columns of messages m that scanMessage reads.
const messageCols = `m.uuid, m.session_id, m.seq, coalesce(m.parent_uuid, ''), m.type, m.role, m.ts, m.text,
	coalesce(m.model, ''), coalesce(m.agent_id, ''), coalesce(m.message_id, ''), m.subtype,
	coalesce(m.logical_parent_uuid, ''), m.content, coalesce(m.compact_trigger, ''), coalesce(m.compact_pre_tokens, 0),
	m.is_prompt, m.is_sidechain, m.is_meta, m.is_compact_summary, m.is_api_error`

// scanMessage reads messageCols, then into more.
func scanMessage(rows *sql.Rows, more ...any) (store.Message, error) {
	var m store.Message
	var ts sql.NullTime
	var content []byte
	err := rows.Scan(append([]any{&m.UUID, &m.SessionID, &m.Seq, &m.ParentUUID, &m.Type, &m.Role, &ts, &m.Text, &m.Model,
		&m.AgentID, &m.MessageID, &m.Subtype, &m.LogicalParentUUID, &content, &m.CompactTrigger, &m.CompactPreTokens,
		&m.IsPrompt, &m.IsSidechain, &m.IsMeta, &m.IsCompactSummary, &m.IsAPIError}, more...)...)
	m.Timestamp, m.Content = fromNull(ts), rawJSON(content)
	return m, err
}

// ToolCalls returns the tool calls of a session in the order they were made.
func (db *DB) ToolCalls(ctx context.Context, sessionID string) ([]store.ToolCall, error) {
	q := `SELECT ` + toolCallCols + ` FROM tool_calls c WHERE c.session_id = $1
		ORDER BY c.started_at NULLS LAST, c.seq NULLS FIRST, c.id`
	cs, err := queryAll(ctx, db.db, func(r *sql.Rows) (store.ToolCall, error) { return scanToolCall(r) }, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("tool calls of session %s: %w", sessionID, err)
	}
	return cs, nil
}

// toolCallCols are the columns of tool_calls c that scanToolCall reads.
const toolCallCols = `c.id, c.session_id, coalesce(c.message_uuid, ''), coalesce(c.message_id, ''),
	coalesce(c.agent_id, ''), coalesce(c.seq, 0), c.name, c.input, c.started_at, coalesce(c.result_uuid, ''),
	c.result, c.result_json, c.is_error, c.interrupted, c.finished_at`

// scanToolCall reads toolCallCols, then into more.
func scanToolCall(rows *sql.Rows, more ...any) (store.ToolCall, error) {
	var c store.ToolCall
	var r store.ToolResult
	var input, structured []byte
	var started, finished sql.NullTime
	var text sql.NullString
	err := rows.Scan(append([]any{&c.ID, &c.SessionID, &c.MessageUUID, &c.MessageID, &c.AgentID, &c.Seq, &c.Name,
		&input, &started, &r.MessageUUID, &text, &structured, &r.IsError, &r.Interrupted, &finished}, more...)...)
	c.Input, c.At = rawJSON(input), fromNull(started)
	if text.Valid {
		r.ToolUseID, r.SessionID, r.Text = c.ID, c.SessionID, text.String
		r.Structured, r.At = rawJSON(structured), fromNull(finished)
		c.Result = &r
	}
	return c, err
}

// FileChanges returns the file changes of a session, oldest first.
func (db *DB) FileChanges(ctx context.Context, sessionID string) ([]store.FileChange, error) {
	q := `SELECT ` + fileChangeCols + ` FROM file_changes f WHERE f.session_id = $1
		ORDER BY f.ts NULLS LAST, f.tool_use_id, f.path`
	fcs, err := queryAll(ctx, db.db, func(r *sql.Rows) (store.FileChange, error) { return scanFileChange(r) }, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("file changes of session %s: %w", sessionID, err)
	}
	return fcs, nil
}

// fileChangeCols are the columns of file_changes f that scanFileChange reads.
const fileChangeCols = `f.tool_use_id, f.session_id, f.path, f.operation, f.lines_added, f.lines_removed, f.ts`

// scanFileChange reads fileChangeCols, then into more.
func scanFileChange(rows *sql.Rows, more ...any) (store.FileChange, error) {
	var f store.FileChange
	var ts sql.NullTime
	err := rows.Scan(append([]any{&f.ToolUseID, &f.SessionID, &f.Path, &f.Operation, &f.Added, &f.Removed, &ts}, more...)...)
	f.At = fromNull(ts)
	return f, err
}

// Subagents returns the subagents of a session, by start time, with what
// their starting call, messages and usage tell of them.
func (db *DB) Subagents(ctx context.Context, sessionID string) ([]store.SubagentInfo, error) {
	const q = `SELECT a.session_id, a.agent_id, coalesce(a.tool_use_id, ''), coalesce(a.path, ''),
			coalesce(c.input->>'subagent_type', ''), coalesce(c.input->>'description', ''),
			coalesce(m.n, 0), m.first_at, m.last_at, coalesce(u.input_tokens, 0), coalesce(u.output_tokens, 0),
			coalesce(u.cache_write_5m, 0), coalesce(u.cache_write_1h, 0), coalesce(u.cache_read, 0), coalesce(u.cost, 0)
		FROM subagents a
		LEFT JOIN tool_calls c ON c.id = a.tool_use_id
		LEFT JOIN (
			SELECT agent_id, count(*) AS n, min(ts) AS first_at, max(ts) AS last_at
			FROM messages WHERE session_id = $1 AND agent_id IS NOT NULL GROUP BY agent_id) m ON m.agent_id = a.agent_id
		LEFT JOIN (
			SELECT agent_id, sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
				sum(cache_write_5m)::bigint AS cache_write_5m, sum(cache_write_1h)::bigint AS cache_write_1h,
				sum(cache_read)::bigint AS cache_read, sum(cost) AS cost
			FROM usage WHERE session_id = $1 AND agent_id IS NOT NULL GROUP BY agent_id) u ON u.agent_id = a.agent_id
		WHERE a.session_id = $1
		ORDER BY coalesce(m.first_at, c.started_at) NULLS LAST, a.agent_id`
	sas, err := queryAll(ctx, db.db, scanSubagent, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("subagents of session %s: %w", sessionID, err)
	}
	return sas, nil
}

func scanSubagent(rows *sql.Rows) (store.SubagentInfo, error) {
	var a store.SubagentInfo
	var first, last sql.NullTime
	err := rows.Scan(&a.SessionID, &a.AgentID, &a.ToolUseID, &a.Path, &a.Type, &a.Description, &a.Messages,
		&first, &last, &a.Input, &a.Output, &a.CacheWrite5m, &a.CacheWrite1h, &a.CacheRead, &a.Cost)
	a.FirstAt, a.LastAt, a.Cost = fromNull(first), fromNull(last), store.RoundCost(a.Cost)
	return a, err
}

// Commits returns the commits a session made, oldest first.
func (db *DB) Commits(ctx context.Context, sessionID string) ([]store.Commit, error) {
	const q = `SELECT tool_use_id, session_id, hash, branch, subject, ts FROM commits
		WHERE session_id = $1 ORDER BY ts NULLS LAST, tool_use_id, hash`
	cs, err := queryAll(ctx, db.db, func(rows *sql.Rows) (store.Commit, error) {
		var c store.Commit
		var ts sql.NullTime
		err := rows.Scan(&c.ToolUseID, &c.SessionID, &c.Hash, &c.Branch, &c.Subject, &ts)
		c.At = fromNull(ts)
		return c, err
	}, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("commits of session %s: %w", sessionID, err)
	}
	return cs, nil
}

// Tags returns the tags of a session in byte order.
func (db *DB) Tags(ctx context.Context, sessionID string) ([]string, error) {
	ts, err := queryAll(ctx, db.db, func(rows *sql.Rows) (string, error) {
		var t string
		return t, rows.Scan(&t)
	}, `SELECT tag FROM session_tags WHERE session_id = $1 ORDER BY tag`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("tags of session %s: %w", sessionID, err)
	}
	return ts, nil
}

// Plans returns every plan, newest first, each with the sessions sharing its
// slug by start time (nil when none).
func (db *DB) Plans(ctx context.Context) ([]store.PlanInfo, error) {
	const q = `SELECT p.slug, p.path, p.content, p.mod_time,
			(SELECT array_agg(s.id ORDER BY s.first_at NULLS LAST, s.id) FROM sessions s WHERE s.slug = p.slug)
		FROM plans p ORDER BY p.mod_time DESC NULLS LAST, p.slug`
	ps, err := queryAll(ctx, db.db, func(rows *sql.Rows) (store.PlanInfo, error) {
		var p store.PlanInfo
		var mod sql.NullTime
		err := rows.Scan(&p.Slug, &p.Path, &p.Markdown, &mod, pq.Array(&p.Sessions))
		p.ModTime = fromNull(mod)
		if len(p.Sessions) == 0 {
			p.Sessions = nil
		}
		return p, err
	}, q)
	if err != nil {
		return nil, fmt.Errorf("plans: %w", err)
	}
	return ps, nil
}

// Todos returns the todo lists of a session by agent id, each item in its
// place.
func (db *DB) Todos(ctx context.Context, sessionID string) ([]store.TodoList, error) {
	const q = `SELECT agent_id, content, status, active_form FROM todos
		WHERE session_id = $1 ORDER BY agent_id, position`
	items, err := queryAll(ctx, db.db, func(rows *sql.Rows) (store.AgentTodo, error) {
		var it store.AgentTodo
		return it, rows.Scan(&it.AgentID, &it.Content, &it.Status, &it.ActiveForm)
	}, q, sessionID)
	if err != nil {
		return nil, fmt.Errorf("todos of session %s: %w", sessionID, err)
	}
	return store.GroupTodos(sessionID, items), nil
}

// Prompts returns prompts of the history, newest first.
func (db *DB) Prompts(ctx context.Context, q store.PromptQuery) ([]store.Prompt, error) {
	var a args
	w := promptWhere(q, &a)
	limit, offset := store.PromptPage(q)
	query := `SELECT key, ts, project, coalesce(session_id, ''), display, pasted FROM prompt_history` + w + `
		ORDER BY ts DESC NULLS LAST, key LIMIT ` + a.add(limit) + ` OFFSET ` + a.add(offset)
	ps, err := queryAll(ctx, db.db, func(rows *sql.Rows) (store.Prompt, error) {
		var p store.Prompt
		var ts sql.NullTime
		var pasted []byte
		err := rows.Scan(&p.Key, &ts, &p.Project, &p.SessionID, &p.Text, &pasted)
		p.At, p.Pasted = fromNull(ts), rawJSON(pasted)
		return p, err
	}, query, a...)
	if err != nil {
		return nil, fmt.Errorf("prompt history: %w", err)
	}
	return ps, nil
}

// Replies returns the billed replies of a session, oldest first.
func (db *DB) Replies(ctx context.Context, sessionID string) ([]store.Usage, error) {
	var a args
	return db.replies(ctx, ` WHERE u.session_id = `+a.add(sessionID), a, "replies of session "+sessionID)
}

// RepliesBetween returns the billed replies of [since, until) (zero:
// unbounded) in the sessions of a project ("": every project), oldest first.
func (db *DB) RepliesBetween(ctx context.Context, since, until time.Time, project string) ([]store.Usage, error) {
	var a args
	var join string
	var where []string
	if !since.IsZero() {
		where = append(where, "u.ts >= "+a.add(since))
	}
	if !until.IsZero() {
		where = append(where, "u.ts < "+a.add(until))
	}
	if project != "" {
		join = " JOIN sessions s ON s.id = u.session_id"
		where = append(where, `(s.project = `+a.add(project)+` OR s.project LIKE `+a.add("%/"+escapeLike(project))+` ESCAPE '\')`)
	}
	w := join
	if len(where) > 0 {
		w += " WHERE " + strings.Join(where, " AND ")
	}
	return db.replies(ctx, w, a, "replies between "+since.Format(time.RFC3339)+" and "+until.Format(time.RFC3339))
}

// replies reads usage rows u, selected by the joins and conditions of where,
// by time.
func (db *DB) replies(ctx context.Context, where string, a args, what string) ([]store.Usage, error) {
	q := `SELECT ` + usageRowCols + ` FROM usage u` + where + ` ORDER BY u.ts, u.key`
	us, err := queryAll(ctx, db.db, func(r *sql.Rows) (store.Usage, error) { return scanUsage(r) }, q, a...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return us, nil
}

// usageRowCols are the columns of usage u that scanUsage reads.
const usageRowCols = `u.key, coalesce(u.message_id, ''), coalesce(u.request_id, ''), u.session_id,
	coalesce(u.agent_id, ''), u.model, u.ts, u.input_tokens, u.output_tokens, u.cache_write_5m, u.cache_write_1h,
	u.cache_read, u.cost`

// scanUsage reads usageRowCols, then into more.
func scanUsage(rows *sql.Rows, more ...any) (store.Usage, error) {
	var u store.Usage
	var ts time.Time
	var cost sql.NullFloat64
	err := rows.Scan(append([]any{&u.Key, &u.MessageID, &u.RequestID, &u.SessionID, &u.AgentID, &u.Model, &ts,
		&u.Input, &u.Output, &u.CacheWrite5m, &u.CacheWrite1h, &u.CacheRead, &cost}, more...)...)
	u.Timestamp, u.Cost, u.Priced = ts.UTC(), cost.Float64, cost.Valid
	return u, err
}
