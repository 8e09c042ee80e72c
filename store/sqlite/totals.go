package sqlite

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
	var first, last sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(messages), 0), coalesce(sum(tool_calls), 0),
			coalesce(sum(tool_errors), 0), coalesce(sum(subagents), 0), min(first_at), max(last_at)
		FROM sessions`).Scan(&t.Sessions, &t.Messages, &t.ToolCalls, &t.ToolErrors, &t.Subagents, &first, &last)
	if err != nil {
		return t, fmt.Errorf("totals: %w", err)
	}
	t.FirstAt, t.LastAt = fromMillis(first), fromMillis(last)
	rows, err := db.r.QueryContext(ctx, `SELECT name, count(*), sum(is_error <> 0) FROM tool_calls
		GROUP BY name ORDER BY 2 DESC, 1 LIMIT ?`, tools)
	if err != nil {
		return t, fmt.Errorf("totals: tools: %w", err)
	}
	t.Tools, err = collect(rows, func(c *store.ToolCount) error {
		return rows.Scan(&c.Name, &c.Calls, &c.Errors)
	}, "totals: tools")
	return t, err
}
