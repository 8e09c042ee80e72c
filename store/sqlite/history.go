package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/claude-insights/insights/store"
)

// promptWhere is the condition selecting the prompts of a query. LIKE
// ignores ASCII case in SQLite, which is what PromptQuery.Text promises.
func promptWhere(q store.PromptQuery) (string, []any) {
	var where []string
	var args []any
	if q.SessionID != "" {
		where = append(where, "session_id = ?")
		args = append(args, q.SessionID)
	}
	if q.Project != "" {
		where = append(where, `(project = ? OR project LIKE ? ESCAPE '\')`)
		args = append(args, q.Project, "%/"+escapeLike(q.Project))
	}
	if q.Text != "" {
		where = append(where, `display LIKE ? ESCAPE '\'`)
		args = append(args, "%"+escapeLike(q.Text)+"%")
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// CountPrompts returns how many prompts a query selects, whatever its limit
// and offset.
func (db *DB) CountPrompts(ctx context.Context, q store.PromptQuery) (int64, error) {
	w, args := promptWhere(q)
	var n int64
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM prompt_history`+w, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count prompt history: %w", err)
	}
	return n, nil
}

// Plan returns the plan of a slug with the sessions sharing it, by start
// time, or store.ErrNotFound.
func (db *DB) Plan(ctx context.Context, slug string) (store.PlanInfo, error) {
	var p store.PlanInfo
	var mod sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT slug, path, content, mod_time FROM plans WHERE slug = ?`, slug).
		Scan(&p.Slug, &p.Path, &p.Markdown, &mod)
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("plan %s: %w", slug, err)
	}
	p.ModTime = fromMillis(mod)
	rows, err := db.r.QueryContext(ctx, `SELECT id FROM sessions WHERE slug = ? ORDER BY first_at IS NULL, first_at, id`, slug)
	if err != nil {
		return p, fmt.Errorf("sessions of plan %s: %w", slug, err)
	}
	p.Sessions, err = collect(rows, func(id *string) error { return rows.Scan(id) }, "sessions of plan "+slug)
	return p, err
}

// SessionFiles returns the transcript files a session was read from, by path.
func (db *DB) SessionFiles(ctx context.Context, sessionID string) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT path FROM session_files WHERE session_id = ? ORDER BY path`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("files of session %s: %w", sessionID, err)
	}
	return collect(rows, func(p *string) error { return rows.Scan(p) }, "files of session "+sessionID)
}
