package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/claude-insights/insights/store"
)

// SpentSums attributes the replies of a range in one query of three parts:
// the main thread and subagent types from the replies summed per session and
// agent first (so that each subagent's type is looked up once); MCP servers
// from the first MCP call of each API message, joined to its replies; skills
// from the windows in which each Skill call is the active one (from the call
// to the next Skill call or typed prompt of its session, whichever is first),
// joined to the replies of the window through usage(session_id, ts). Only
// the first part reads every reply of the range.
func (db *DB) SpentSums(ctx context.Context, uq store.UsageQuery) ([]store.SpentSum, error) {
	var a args
	var join string
	var where []string
	if !uq.Since.IsZero() {
		where = append(where, "u.ts >= "+a.add(uq.Since.UTC()))
	}
	if !uq.Until.IsZero() {
		where = append(where, "u.ts < "+a.add(uq.Until.UTC()))
	}
	if uq.Project != "" || uq.UserID != 0 {
		join = " JOIN sessions s ON s.id = u.session_id"
	}
	if uq.Project != "" {
		where = append(where, `(s.project = `+a.add(uq.Project)+` OR s.project LIKE `+a.add("%/"+escapeLike(uq.Project))+` ESCAPE '\')`)
	}
	if uq.UserID != 0 {
		where = append(where, `s.user_id = `+a.add(uq.UserID))
	}
	filter := func(more ...string) string {
		conds := append(append([]string(nil), where...), more...)
		if len(conds) == 0 {
			return join
		}
		return join + " WHERE " + strings.Join(conds, " AND ")
	}
	q := `WITH mcp AS (
			SELECT session_id, message_id, server FROM (
				SELECT c.session_id, c.message_id, substr(c.name, 6, strpos(substr(c.name, 6), '__') - 1) AS server,
					row_number() OVER (PARTITION BY c.session_id, c.message_id
						ORDER BY c.started_at NULLS LAST, c.seq NULLS FIRST, c.id) AS n
				FROM tool_calls c
				WHERE starts_with(c.name, 'mcp__') AND strpos(substr(c.name, 6), '__') > 1
					AND coalesce(c.message_id, '') <> '') AS f
			WHERE n = 1),
		sk AS (
			SELECT c.session_id, c.started_at,
				coalesce(nullif(c.input->>'skill', ''), nullif(c.input->>'command', ''), '(unnamed)') AS name,
				row_number() OVER (PARTITION BY c.session_id, c.started_at ORDER BY c.seq NULLS FIRST, c.id) AS n
			FROM tool_calls c
			WHERE c.name = 'Skill' AND coalesce(c.agent_id, '') = '' AND c.started_at IS NOT NULL),
		win AS (
			SELECT k.session_id, k.name, k.started_at AS from_ts,
				(SELECT min(k2.started_at) FROM sk k2
					WHERE k2.session_id = k.session_id AND k2.started_at > k.started_at) AS next_skill,
				(SELECT min(m.ts) FROM messages m
					WHERE m.session_id = k.session_id AND m.is_prompt AND coalesce(m.agent_id, '') = ''
						AND m.ts > k.started_at) AS next_prompt
			FROM sk k WHERE k.n = 1)
		SELECT CASE WHEN g.agent_id = '' THEN 'main' ELSE 'subagent' END AS by,
				CASE WHEN g.agent_id = '' THEN '' ELSE coalesce(c.input->>'subagent_type', '') END AS name,
				sum(g.input)::bigint, sum(g.output)::bigint, sum(g.cw5)::bigint, sum(g.cw1)::bigint, sum(g.cr)::bigint,
				coalesce(sum(g.cost), 0), sum(g.unpriced)::bigint, sum(g.replies)::bigint, count(DISTINCT g.session_id)
			FROM (SELECT u.session_id, coalesce(u.agent_id, '') AS agent_id, sum(u.input_tokens) AS input,
					sum(u.output_tokens) AS output, sum(u.cache_write_5m) AS cw5, sum(u.cache_write_1h) AS cw1,
					sum(u.cache_read) AS cr, sum(u.cost) AS cost, count(*) FILTER (WHERE u.cost IS NULL) AS unpriced,
					count(*) AS replies
				FROM usage u` + filter() + `
				GROUP BY u.session_id, coalesce(u.agent_id, '')) g
			LEFT JOIN subagents a ON g.agent_id <> '' AND a.session_id = g.session_id AND a.agent_id = g.agent_id
			LEFT JOIN tool_calls c ON c.id = a.tool_use_id
			GROUP BY 1, 2
		UNION ALL
		SELECT 'skill', w.name, ` + spentColumns + `
			FROM win w JOIN usage u ON u.session_id = w.session_id AND u.ts >= w.from_ts
				AND (w.next_skill IS NULL OR u.ts < w.next_skill) AND (w.next_prompt IS NULL OR u.ts < w.next_prompt)` +
		filter("coalesce(u.agent_id, '') = ''") + `
			GROUP BY w.name
		UNION ALL
		SELECT 'mcp', m.server, ` + spentColumns + `
			FROM mcp m JOIN usage u ON u.session_id = m.session_id AND u.message_id = m.message_id` + filter() + `
			GROUP BY m.server`
	out, err := queryAll(ctx, db.db, func(rows *sql.Rows) (store.SpentSum, error) {
		var s store.SpentSum
		err := rows.Scan(&s.By, &s.Name, &s.Input, &s.Output, &s.CacheWrite5m, &s.CacheWrite1h, &s.CacheRead,
			&s.Cost, &s.Unpriced, &s.Replies, &s.Sessions)
		s.Cost = store.RoundCost(s.Cost)
		return s, err
	}, q, a...)
	if err != nil {
		return nil, fmt.Errorf("spent sums: %w", err)
	}
	store.SortSpent(out)
	return out, nil
}

const spentColumns = `sum(u.input_tokens)::bigint, sum(u.output_tokens)::bigint, sum(u.cache_write_5m)::bigint,
	sum(u.cache_write_1h)::bigint, sum(u.cache_read)::bigint, coalesce(sum(u.cost), 0),
	count(*) FILTER (WHERE u.cost IS NULL), count(*), count(DISTINCT u.session_id)`
