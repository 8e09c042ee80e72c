package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/claude-insights/insights/store"
)

// promptWhere is the condition selecting the prompts of a query, its
// arguments added to a. The text is matched ignoring ASCII case only, as
// SQLite's LIKE does, so that both drivers select the same prompts.
func promptWhere(q store.PromptQuery, a *args) string {
	var where []string
	if q.SessionID != "" {
		where = append(where, "session_id = "+a.add(q.SessionID))
	}
	if q.Project != "" {
		where = append(where, `(project = `+a.add(q.Project)+` OR project LIKE `+a.add("%/"+escapeLike(q.Project))+` ESCAPE '\')`)
	}
	if q.Text != "" {
		where = append(where, `translate(display, '`+upperASCII+`', '`+lowerASCII+`') LIKE `+
			a.add("%"+asciiLower(escapeLike(q.Text))+"%")+` ESCAPE '\'`)
	}
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

const (
	upperASCII = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerASCII = "abcdefghijklmnopqrstuvwxyz"
)

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// CountPrompts returns how many prompts a query selects, whatever its limit
// and offset.
func (db *DB) CountPrompts(ctx context.Context, q store.PromptQuery) (int64, error) {
	var a args
	w := promptWhere(q, &a)
	var n int64
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM prompt_history`+w, a...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count prompt history: %w", err)
	}
	return n, nil
}

// Plan returns the plan of a slug with the sessions sharing it, by start
// time, or store.ErrNotFound.
func (db *DB) Plan(ctx context.Context, slug string) (store.PlanInfo, error) {
	const q = `SELECT p.slug, p.path, p.content, p.mod_time,
			(SELECT array_agg(s.id ORDER BY s.first_at NULLS LAST, s.id) FROM sessions s WHERE s.slug = p.slug)
		FROM plans p WHERE p.slug = $1`
	var p store.PlanInfo
	var mod sql.NullTime
	err := db.db.QueryRowContext(ctx, q, slug).Scan(&p.Slug, &p.Path, &p.Markdown, &mod, pq.Array(&p.Sessions))
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("plan %s: %w", slug, err)
	}
	p.ModTime = fromNull(mod)
	if len(p.Sessions) == 0 {
		p.Sessions = nil
	}
	return p, nil
}

// SessionFiles returns the transcript files a session was read from, by path.
func (db *DB) SessionFiles(ctx context.Context, sessionID string) ([]string, error) {
	ps, err := queryAll(ctx, db.db, func(rows *sql.Rows) (string, error) {
		var p string
		return p, rows.Scan(&p)
	}, `SELECT path FROM session_files WHERE session_id = $1 ORDER BY path COLLATE "C"`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("files of session %s: %w", sessionID, err)
	}
	return ps, nil
}
