package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/claude-insights/insights/store"
)

// Session returns one session.
func (db *DB) Session(ctx context.Context, id string) (store.Session, error) {
	const q = `SELECT id, project, git_branch, version, slug, first_at, last_at, title, messages, tool_calls,
			tool_errors, compactions, subagents, input_tokens, output_tokens, cache_write_5m, cache_write_1h,
			cache_read, cost, coalesce(user_id, 0)
		FROM sessions WHERE id = $1`
	var s store.Session
	var first, last sql.NullTime
	err := db.db.QueryRowContext(ctx, q, id).Scan(&s.ID, &s.Project, &s.GitBranch, &s.Version, &s.Slug, &first, &last,
		&s.Title, &s.Messages, &s.ToolCalls, &s.ToolErrors, &s.Compactions, &s.Subagents,
		&s.Input, &s.Output, &s.CacheWrite5m, &s.CacheWrite1h, &s.CacheRead, &s.Cost, &s.UserID)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("session %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("session %s: %w", id, err)
	}
	s.Cost = store.RoundCost(s.Cost)
	s.FirstAt, s.LastAt = fromNull(first), fromNull(last)
	return s, nil
}
