package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/claude-insights/insights/store"
)

// SpentSums attributes the replies of a range in one query: main thread and
// subagent types in one pass over the replies; MCP servers by joining the
// replies to the first MCP call of their API message; skills by joining them
// to the windows in which each Skill call is the active one (from the call
// to the next Skill call or typed prompt of its session, whichever is first).
func (db *DB) SpentSums(ctx context.Context, uq store.UsageQuery) ([]store.SpentSum, error) {
	var join string
	var where []string
	var args []any
	if !uq.Since.IsZero() {
		where = append(where, "u.ts >= ?")
		args = append(args, uq.Since.UnixMilli())
	}
	if !uq.Until.IsZero() {
		where = append(where, "u.ts < ?")
		args = append(args, uq.Until.UnixMilli())
	}
	if uq.Project != "" {
		join = " JOIN sessions s ON s.id = u.session_id"
		where = append(where, `(s.project = ? OR s.project LIKE ? ESCAPE '\')`)
		args = append(args, uq.Project, "%/"+escapeLike(uq.Project))
	}
	w := join
	if len(where) > 0 {
		w += " WHERE " + strings.Join(where, " AND ")
	}
	q := `WITH r AS MATERIALIZED (
			SELECT u.session_id, coalesce(u.agent_id, '') AS agent_id, coalesce(u.message_id, '') AS message_id, u.ts,
				u.input_tokens, u.output_tokens, u.cache_write_5m, u.cache_write_1h, u.cache_read, u.cost
			FROM usage u` + w + `),
		mcp AS (
			SELECT session_id, message_id, server FROM (
				SELECT c.session_id, c.message_id, substr(c.name, 6, instr(substr(c.name, 6), '__') - 1) AS server,
					row_number() OVER (PARTITION BY c.session_id, c.message_id
						ORDER BY c.started_at IS NULL, c.started_at, coalesce(c.seq, 0), c.id) AS n
				FROM tool_calls c
				WHERE c.name >= 'mcp__' AND c.name < 'mcp_` + "`" + `' AND instr(substr(c.name, 6), '__') > 1
					AND coalesce(c.message_id, '') <> '')
			WHERE n = 1),
		sk AS (
			SELECT c.session_id, c.started_at,
				coalesce(nullif(json_extract(c.input, '$.skill'), ''), nullif(json_extract(c.input, '$.command'), ''), '(unnamed)') AS name,
				row_number() OVER (PARTITION BY c.session_id, c.started_at ORDER BY coalesce(c.seq, 0), c.id) AS n
			FROM tool_calls c
			WHERE c.name = 'Skill' AND coalesce(c.agent_id, '') = '' AND c.started_at IS NOT NULL),
		win AS (
			SELECT k.session_id, k.name, k.started_at AS from_ts,
				(SELECT min(k2.started_at) FROM sk k2
					WHERE k2.session_id = k.session_id AND k2.started_at > k.started_at) AS next_skill,
				(SELECT min(m.ts) FROM messages m
					WHERE m.session_id = k.session_id AND m.is_prompt = 1 AND coalesce(m.agent_id, '') = ''
						AND m.ts > k.started_at) AS next_prompt
			FROM sk k WHERE k.n = 1)
		SELECT CASE WHEN r.agent_id = '' THEN 'main' ELSE 'subagent' END,
				CASE WHEN r.agent_id = '' THEN '' ELSE coalesce(json_extract(c.input, '$.subagent_type'), '') END,
				` + spentColumns + `
			FROM r LEFT JOIN subagents a ON a.session_id = r.session_id AND a.agent_id = r.agent_id
				LEFT JOIN tool_calls c ON c.id = a.tool_use_id
			GROUP BY 1, 2
		UNION ALL
		SELECT 'skill', w.name, ` + spentColumns + `
			FROM r JOIN win w ON w.session_id = r.session_id AND r.ts >= w.from_ts
				AND (w.next_skill IS NULL OR r.ts < w.next_skill) AND (w.next_prompt IS NULL OR r.ts < w.next_prompt)
			WHERE r.agent_id = ''
			GROUP BY w.name
		UNION ALL
		SELECT 'mcp', m.server, ` + spentColumns + `
			FROM r JOIN mcp m ON m.session_id = r.session_id AND m.message_id = r.message_id
			GROUP BY m.server`
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query spent sums: %w", err)
	}
	out, err := collect(rows, func(s *store.SpentSum) error {
		err := rows.Scan(&s.By, &s.Name, &s.Input, &s.Output, &s.CacheWrite5m, &s.CacheWrite1h, &s.CacheRead,
			&s.Cost, &s.Unpriced, &s.Replies, &s.Sessions)
		s.Cost = store.RoundCost(s.Cost)
		return err
	}, "spent sums")
	if err != nil {
		return nil, err
	}
	store.SortSpent(out)
	return out, nil
}

const spentColumns = `sum(r.input_tokens), sum(r.output_tokens), sum(r.cache_write_5m), sum(r.cache_write_1h),
	sum(r.cache_read), coalesce(sum(r.cost), 0), sum(r.cost IS NULL), count(*), count(DISTINCT r.session_id)`
