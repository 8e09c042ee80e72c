package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/claude-insights/insights/store"
)

// Totals sums the derived counts of the sessions table and counts tool
// calls per name.
func (db *DB) Totals(ctx context.Context, tools int) (store.Totals, error) {
	var t store.Totals
	var first, last sql.NullTime
	err := db.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(messages), 0)::bigint, coalesce(sum(tool_calls), 0)::bigint,
			coalesce(sum(tool_errors), 0)::bigint, coalesce(sum(subagents), 0)::bigint, min(first_at), max(last_at)
		FROM sessions`).Scan(&t.Sessions, &t.Messages, &t.ToolCalls, &t.ToolErrors, &t.Subagents, &first, &last)
	if err != nil {
		return t, fmt.Errorf("totals: %w", err)
	}
	if first.Valid {
		t.FirstAt = first.Time.UTC()
	}
	if last.Valid {
		t.LastAt = last.Time.UTC()
	}
	t.Tools, err = queryAll(ctx, db.db, func(rows *sql.Rows) (store.ToolCount, error) {
		var c store.ToolCount
		err := rows.Scan(&c.Name, &c.Calls, &c.Errors)
		return c, err
	}, `SELECT name, count(*), count(*) FILTER (WHERE is_error) FROM tool_calls
		GROUP BY name ORDER BY 2 DESC, name LIMIT $1`, tools)
	if err != nil {
		return t, fmt.Errorf("totals: tools: %w", err)
	}
	return t, nil
}
