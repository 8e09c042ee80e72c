package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/claude-insights/insights/store"
)

const sessionColumns = `s.id, s.project, s.git_branch, s.version, s.slug, s.first_at, s.last_at, s.title, s.messages,
	s.tool_calls, s.tool_errors, s.compactions, s.subagents, s.input_tokens, s.output_tokens, s.cache_write_5m,
	s.cache_write_1h, s.cache_read, s.cost`

// Sessions returns a page of the sessions a query selects, in its order.
func (db *DB) Sessions(ctx context.Context, q store.SessionQuery) (store.SessionList, error) {
	var list store.SessionList
	if err := q.Validate(); err != nil {
		return list, err
	}
	var a args
	where := sessionWhere(&a, q)
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM sessions s`+where, a...).Scan(&list.Total); err != nil {
		return list, fmt.Errorf("count sessions: %w", err)
	}
	limit, offset := q.Page()
	query := `SELECT ` + sessionColumns + ` FROM sessions s` + where +
		` ORDER BY ` + sessionOrder(q) + ` LIMIT ` + a.add(limit) + ` OFFSET ` + a.add(offset)
	var err error
	list.Sessions, err = queryAll(ctx, db.db, scanListedSession, query, a...)
	if err != nil {
		return list, fmt.Errorf("list sessions: %w", err)
	}
	if len(list.Sessions) == 0 {
		return list, nil
	}
	return list, db.sessionLabels(ctx, list.Sessions)
}

func scanListedSession(rows *sql.Rows) (store.ListedSession, error) {
	s, err := scanSession(rows)
	return store.ListedSession{Session: s}, err
}

// scanSession reads sessionColumns, then into more.
func scanSession(rows *sql.Rows, more ...any) (store.Session, error) {
	var s store.Session
	var first, last sql.NullTime
	err := rows.Scan(append([]any{&s.ID, &s.Project, &s.GitBranch, &s.Version, &s.Slug, &first, &last,
		&s.Title, &s.Messages, &s.ToolCalls, &s.ToolErrors, &s.Compactions, &s.Subagents,
		&s.Input, &s.Output, &s.CacheWrite5m, &s.CacheWrite1h, &s.CacheRead, &s.Cost}, more...)...)
	s.Cost = store.RoundCost(s.Cost)
	s.FirstAt, s.LastAt = fromNull(first), fromNull(last)
	return s, err
}

func sessionWhere(a *args, q store.SessionQuery) string {
	var where []string
	if q.UserID != 0 {
		where = append(where, `s.user_id = `+a.add(q.UserID))
	}
	if q.Project != "" {
		where = append(where, `(s.project = `+a.add(q.Project)+` OR s.project LIKE `+a.add("%/"+escapeLike(q.Project))+` ESCAPE '\')`)
	}
	if !q.Since.IsZero() {
		where = append(where, `s.last_at >= `+a.add(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, `s.first_at < `+a.add(q.Until))
	}
	if q.Model != "" {
		where = append(where, `EXISTS (SELECT 1 FROM usage_quarters u WHERE u.session_id = s.id AND u.model = `+a.add(q.Model)+`)`)
	}
	if q.Tag != "" {
		where = append(where, `EXISTS (SELECT 1 FROM session_tags t WHERE t.session_id = s.id AND t.tag = `+a.add(q.Tag)+`)`)
	}
	if q.HasErrors {
		where = append(where, `(s.tool_errors > 0 OR EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id AND m.is_api_error))`)
	}
	if q.Text != "" {
		like := a.add("%" + escapeLike(q.Text) + "%")
		where = append(where, `(s.title ILIKE `+like+` ESCAPE '\' OR s.project ILIKE `+like+` ESCAPE '\' OR s.git_branch ILIKE `+
			like+` ESCAPE '\' OR s.id LIKE `+a.add(escapeLike(q.Text)+"%")+` ESCAPE '\')`)
	}
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

func sessionOrder(q store.SessionQuery) string {
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	switch q.Sort {
	case store.SortDuration:
		return `coalesce(s.last_at - s.first_at, interval '-1 second')` + dir + `, s.id`
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
	ids := make([]string, len(ls))
	for i := range ls {
		byID[ls[i].ID], ids[i] = &ls[i], ls[i].ID
	}
	type label struct{ id, value string }
	scan := func(rows *sql.Rows) (label, error) {
		var l label
		return l, rows.Scan(&l.id, &l.value)
	}
	for _, l := range []struct {
		query string
		add   func(*store.ListedSession, string)
	}{
		{`SELECT session_id, tag FROM session_tags WHERE session_id = ANY($1) ORDER BY session_id, tag`,
			func(s *store.ListedSession, v string) { s.Tags = append(s.Tags, v) }},
		{`SELECT DISTINCT session_id, model FROM usage_quarters WHERE session_id = ANY($1) AND model <> '' ORDER BY session_id, model`,
			func(s *store.ListedSession, v string) { s.Models = append(s.Models, v) }},
	} {
		labels, err := queryAll(ctx, db.db, scan, l.query, pq.Array(ids))
		if err != nil {
			return fmt.Errorf("labels of sessions: %w", err)
		}
		for _, v := range labels {
			l.add(byID[v.id], v.value)
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
		const mine = `s.session_id IN (SELECT id FROM sessions WHERE user_id = $1)`
		ownSessions, own, and, args = ` WHERE s.user_id = $1`, ` WHERE `+mine, ` AND `+mine, []any{userID}
	}
	scan := func(rows *sql.Rows) (store.Facet, error) {
		var v store.Facet
		return v, rows.Scan(&v.Value, &v.Sessions)
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
		var err error
		if *q.dst, err = queryAll(ctx, db.db, scan, q.query, args...); err != nil {
			return f, fmt.Errorf("session facets: %w", err)
		}
	}
	return f, nil
}
