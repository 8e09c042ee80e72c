package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/claude-insights/insights/store"
)

const sessionColumns = `s.id, s.project, s.git_branch, s.version, s.first_at, s.last_at, s.messages, s.input_tokens,
	s.output_tokens, s.cache_write_5m, s.cache_write_1h, s.cache_read, s.cost, s.slug, s.title, s.tool_calls,
	s.tool_errors, s.compactions, s.subagents`

// Sessions returns a page of the sessions a query selects, in its order.
func (db *DB) Sessions(ctx context.Context, q store.SessionQuery) (store.SessionList, error) {
	var list store.SessionList
	if err := q.Validate(); err != nil {
		return list, err
	}
	where, args := sessionWhere(q)
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions s`+where, args...).Scan(&list.Total); err != nil {
		return list, fmt.Errorf("count sessions: %w", err)
	}
	limit, offset := q.Page()
	query := `SELECT ` + sessionColumns + ` FROM sessions s` + where +
		` ORDER BY ` + sessionOrder(q) + ` LIMIT ? OFFSET ?`
	rows, err := db.r.QueryContext(ctx, query, append(args, limit, offset)...)
	if err != nil {
		return list, fmt.Errorf("list sessions: %w", err)
	}
	list.Sessions, err = collect(rows, func(l *store.ListedSession) error {
		return scanSession(rows, &l.Session)
	}, "list sessions")
	if err != nil || len(list.Sessions) == 0 {
		return list, err
	}
	return list, db.sessionLabels(ctx, list.Sessions)
}

func scanSession(row scanner, s *store.Session, more ...any) error {
	var first, last sql.NullInt64
	err := row.Scan(append([]any{&s.ID, &s.Project, &s.GitBranch, &s.Version, &first, &last,
		&s.Messages, &s.Input, &s.Output, &s.CacheWrite5m, &s.CacheWrite1h, &s.CacheRead, &s.Cost,
		&s.Slug, &s.Title, &s.ToolCalls, &s.ToolErrors, &s.Compactions, &s.Subagents}, more...)...)
	s.Cost = store.RoundCost(s.Cost)
	s.FirstAt, s.LastAt = fromMillis(first), fromMillis(last)
	return err
}

func sessionWhere(q store.SessionQuery) (string, []any) {
	var where []string
	var args []any
	if q.UserID != 0 {
		where = append(where, `s.user_id = ?`)
		args = append(args, q.UserID)
	}
	if q.Project != "" {
		where = append(where, `(s.project = ? OR s.project LIKE ? ESCAPE '\')`)
		args = append(args, q.Project, "%/"+escapeLike(q.Project))
	}
	if !q.Since.IsZero() {
		where = append(where, `s.last_at >= ?`)
		args = append(args, q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		where = append(where, `s.first_at < ?`)
		args = append(args, q.Until.UnixMilli())
	}
	if q.Model != "" {
		where = append(where, `EXISTS (SELECT 1 FROM usage_quarters u WHERE u.session_id = s.id AND u.model = ?)`)
		args = append(args, q.Model)
	}
	if q.Tag != "" {
		where = append(where, `EXISTS (SELECT 1 FROM session_tags t WHERE t.session_id = s.id AND t.tag = ?)`)
		args = append(args, q.Tag)
	}
	if q.HasErrors {
		where = append(where, `(s.tool_errors > 0 OR EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id AND m.is_api_error = 1))`)
	}
	if q.Text != "" {
		like := "%" + escapeLike(q.Text) + "%"
		where = append(where, `(s.title LIKE ? ESCAPE '\' OR s.project LIKE ? ESCAPE '\' OR s.git_branch LIKE ? ESCAPE '\' OR s.id LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like, escapeLike(q.Text)+"%")
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

func sessionOrder(q store.SessionQuery) string {
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	switch q.Sort {
	case store.SortDuration:
		return `coalesce(s.last_at - s.first_at, -1)` + dir + `, s.id`
	case store.SortMessages:
		return `s.messages` + dir + `, s.id`
	case store.SortTools:
		return `s.tool_calls` + dir + `, s.id`
	case store.SortTokens:
		return `s.input_tokens + s.output_tokens + s.cache_write_5m + s.cache_write_1h + s.cache_read` + dir + `, s.id`
	case store.SortCost:
		return `s.cost` + dir + `, s.id`
	case store.SortProject:
		return `s.project` + dir + `, s.first_at DESC, s.id`
	}
	return `s.first_at IS NULL, s.first_at` + dir + `, s.id`
}

// sessionLabels fills in the tags and models of listed sessions.
func (db *DB) sessionLabels(ctx context.Context, ls []store.ListedSession) error {
	byID := make(map[string]*store.ListedSession, len(ls))
	ids := make([]any, len(ls))
	for i := range ls {
		byID[ls[i].ID], ids[i] = &ls[i], ls[i].ID
	}
	in := strings.Repeat("?,", len(ids))
	in = in[:len(in)-1]
	for _, l := range []struct {
		query string
		add   func(*store.ListedSession, string)
	}{
		{`SELECT session_id, tag FROM session_tags WHERE session_id IN (` + in + `) ORDER BY session_id, tag`,
			func(s *store.ListedSession, v string) { s.Tags = append(s.Tags, v) }},
		{`SELECT DISTINCT session_id, model FROM usage_quarters WHERE session_id IN (` + in + `) AND model <> '' ORDER BY session_id, model`,
			func(s *store.ListedSession, v string) { s.Models = append(s.Models, v) }},
	} {
		rows, err := db.r.QueryContext(ctx, l.query, ids...)
		if err != nil {
			return fmt.Errorf("labels of sessions: %w", err)
		}
		if _, err := collect(rows, func(*struct{}) error {
			var id, v string
			if err := rows.Scan(&id, &v); err != nil {
				return err
			}
			l.add(byID[id], v)
			return nil
		}, "labels of sessions"); err != nil {
			return err
		}
	}
	return nil
}

// Facets returns the projects, models and tags sessions can be filtered by.
func (db *DB) Facets(ctx context.Context, userID int64) (store.Facets, error) {
	var f store.Facets
	// A team member's: the sessions they uploaded.
	ownSessions, own, and := "", "", ""
	var args []any
	if userID != 0 {
		const mine = `s.session_id IN (SELECT id FROM sessions WHERE user_id = ?)`
		ownSessions, own, and, args = ` WHERE s.user_id = ?`, ` WHERE `+mine, ` AND `+mine, []any{userID}
	}
	for _, q := range []struct {
		query string
		dst   *[]store.Facet
	}{
		{`SELECT project, count(*) FROM sessions s` + ownSessions + ` GROUP BY project ORDER BY 2 DESC, 1`, &f.Projects},
		{`SELECT model, count(DISTINCT session_id) FROM usage_quarters s WHERE model <> ''` + and + `
			GROUP BY model ORDER BY 2 DESC, 1`, &f.Models},
		{`SELECT tag, count(*) FROM session_tags s` + own + ` GROUP BY tag ORDER BY 2 DESC, 1`, &f.Tags},
	} {
		rows, err := db.r.QueryContext(ctx, q.query, args...)
		if err != nil {
			return f, fmt.Errorf("session facets: %w", err)
		}
		if *q.dst, err = collect(rows, func(v *store.Facet) error {
			return rows.Scan(&v.Value, &v.Sessions)
		}, "session facets"); err != nil {
			return f, err
		}
	}
	return f, nil
}
