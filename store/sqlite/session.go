package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/claude-insights/insights/store"
)

// Session returns one session.
func (db *DB) Session(ctx context.Context, id string) (store.Session, error) {
	const q = `SELECT id, project, git_branch, version, first_at, last_at, messages, input_tokens, output_tokens,
			cache_write_5m, cache_write_1h, cache_read, cost, slug, title, tool_calls, tool_errors, compactions, subagents, coalesce(user_id, 0)
		FROM sessions WHERE id = ?`
	var s store.Session
	var first, last sql.NullInt64
	err := db.r.QueryRowContext(ctx, q, id).Scan(&s.ID, &s.Project, &s.GitBranch, &s.Version, &first, &last,
		&s.Messages, &s.Input, &s.Output, &s.CacheWrite5m, &s.CacheWrite1h, &s.CacheRead, &s.Cost,
		&s.Slug, &s.Title, &s.ToolCalls, &s.ToolErrors, &s.Compactions, &s.Subagents, &s.UserID)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("session %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("session %s: %w", id, err)
	}
	s.Cost = store.RoundCost(s.Cost)
	s.FirstAt, s.LastAt = fromMillis(first), fromMillis(last)
	return s, nil
}

func fromMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}
