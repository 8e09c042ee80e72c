package sqlite

import "github.com/claude-insights/insights/store"

// Filters shared by the canned queries: a project, and days in UTC.
const (
	projectFilter = `(:project = '' OR s.project = :project)`
	limitClause   = `LIMIT coalesce(nullif(:limit, ''), 50)`
)

// dayFilter keeps the rows whose column of milliseconds falls from :since
// to :until, both days included.
func dayFilter(col string) string {
	return `(:since = '' OR ` + col + ` >= unixepoch(:since) * 1000)
  AND (:until = '' OR ` + col + ` < (unixepoch(:until) + 86400) * 1000)`
}

// tokenSums are the token and cost columns of a group of usage rows u.
const tokenSums = `count(*) AS replies,
  sum(u.input_tokens) AS input_tokens,
  sum(u.output_tokens) AS output_tokens,
  sum(u.cache_write_5m + u.cache_write_1h) AS cache_write_tokens,
  sum(u.cache_read) AS cache_read_tokens,
  round(sum(coalesce(u.cost, 0)), 6) AS cost_usd,
  sum(u.cost IS NULL) AS unpriced_replies`

// CannedQueries are the explorer's named queries, in the order its index
// lists them. Days are UTC days.
var CannedQueries = []store.CannedQuery{
	{
		Name:        "tool-usage",
		Title:       "Tool usage and error rates",
		Description: "Calls of each tool, how many failed, and in how many sessions.",
		SQL: `SELECT t.name AS tool,
  count(*) AS calls,
  sum(t.is_error) AS errors,
  round(100.0 * sum(t.is_error) / count(*), 1) AS error_pct,
  count(DISTINCT t.session_id) AS sessions
FROM tool_calls t
JOIN sessions s ON s.id = t.session_id
WHERE ` + projectFilter + `
  AND ` + dayFilter("t.started_at") + `
GROUP BY t.name
ORDER BY calls DESC, tool`,
	},
	{
		Name:        "tokens-by-day",
		Title:       "Tokens and cost by day",
		Description: "Replies, tokens by kind and cost per UTC day. Replies of models without a price count no cost.",
		SQL: `SELECT date(u.ts / 1000, 'unixepoch') AS day,
  ` + tokenSums + `
FROM usage u
LEFT JOIN sessions s ON s.id = u.session_id
WHERE ` + projectFilter + `
  AND ` + dayFilter("u.ts") + `
GROUP BY day
ORDER BY day`,
	},
	{
		Name:        "tokens-by-model",
		Title:       "Tokens and cost by model",
		Description: "Replies, tokens by kind and cost per model.",
		SQL: `SELECT u.model,
  ` + tokenSums + `
FROM usage u
LEFT JOIN sessions s ON s.id = u.session_id
WHERE ` + projectFilter + `
  AND ` + dayFilter("u.ts") + `
GROUP BY u.model
ORDER BY cost_usd DESC, u.model`,
	},
	{
		Name:        "tokens-by-project",
		Title:       "Tokens and cost by project",
		Description: "Sessions, replies, tokens by kind and cost per project directory.",
		SQL: `SELECT coalesce(s.project, '') AS project,
  count(DISTINCT u.session_id) AS sessions,
  ` + tokenSums + `
FROM usage u
LEFT JOIN sessions s ON s.id = u.session_id
WHERE ` + dayFilter("u.ts") + `
GROUP BY 1
ORDER BY cost_usd DESC, project`,
	},
	{
		Name:        "most-edited-files",
		Title:       "Most edited files",
		Description: "Files changed most often by Edit, MultiEdit and Write, with the lines added and removed and the session that changed each last.",
		SQL: `SELECT f.path,
  count(*) AS changes,
  count(DISTINCT f.session_id) AS sessions,
  sum(f.lines_added) AS lines_added,
  sum(f.lines_removed) AS lines_removed,
  datetime(max(f.ts) / 1000, 'unixepoch') AS last_changed,
  f.session_id AS last_session_id
FROM file_changes f
JOIN sessions s ON s.id = f.session_id
WHERE ` + projectFilter + `
  AND ` + dayFilter("f.ts") + `
GROUP BY f.path
ORDER BY changes DESC, f.path
` + limitClause,
	},
	{
		Name:        "longest-sessions",
		Title:       "Longest sessions",
		Description: "Sessions by the time from their first message to their last.",
		SQL: `SELECT s.id AS session_id,
  s.title,
  s.project,
  datetime(s.first_at / 1000, 'unixepoch') AS started,
  round((s.last_at - s.first_at) / 60000.0, 1) AS minutes,
  s.messages,
  round(s.cost, 6) AS cost_usd
FROM sessions s
WHERE ` + projectFilter + `
  AND ` + dayFilter("s.first_at") + `
ORDER BY s.last_at - s.first_at DESC, s.id
` + limitClause,
	},
	{
		Name:        "costliest-sessions",
		Title:       "Costliest sessions",
		Description: "Sessions by what their replies cost, with their tokens.",
		SQL: `SELECT s.id AS session_id,
  s.title,
  s.project,
  datetime(s.first_at / 1000, 'unixepoch') AS started,
  round(s.cost, 6) AS cost_usd,
  s.input_tokens + s.output_tokens + s.cache_write_5m + s.cache_write_1h + s.cache_read AS tokens,
  s.messages
FROM sessions s
WHERE ` + projectFilter + `
  AND ` + dayFilter("s.first_at") + `
ORDER BY s.cost DESC, tokens DESC, s.id
` + limitClause,
	},
	{
		Name:        "sessions-by-tag",
		Title:       "Sessions by tag",
		Description: "The sessions with a tag, or every tag's sessions.",
		SQL: `SELECT t.tag,
  s.id AS session_id,
  s.title,
  s.project,
  datetime(s.first_at / 1000, 'unixepoch') AS started
FROM session_tags t
JOIN sessions s ON s.id = t.session_id
WHERE (:tag = '' OR t.tag = :tag)
  AND ` + projectFilter + `
ORDER BY t.tag, s.first_at DESC, s.id`,
	},
	{
		Name:        "busiest-hours",
		Title:       "Busiest hours",
		Description: "Prompts typed and replies received per hour of the day (UTC).",
		SQL: `SELECT strftime('%H', m.ts / 1000, 'unixepoch') AS hour,
  sum(m.is_prompt) AS prompts,
  sum(m.type = 'assistant') AS assistant_messages,
  count(DISTINCT m.session_id) AS sessions
FROM messages m
JOIN sessions s ON s.id = m.session_id
WHERE m.ts IS NOT NULL
  AND ` + projectFilter + `
  AND ` + dayFilter("m.ts") + `
GROUP BY hour
ORDER BY hour`,
	},
	{
		Name:        "subagent-usage",
		Title:       "Subagent usage and cost",
		Description: "Subagent runs by type, with their replies, tokens and cost.",
		SQL: `SELECT coalesce(nullif(json_extract(c.input, '$.subagent_type'), ''), '(unknown)') AS subagent_type,
  count(DISTINCT u.session_id || '/' || u.agent_id) AS runs,
  count(DISTINCT u.session_id) AS sessions,
  ` + tokenSums + `
FROM usage u
JOIN sessions s ON s.id = u.session_id
LEFT JOIN subagents a ON a.session_id = u.session_id AND a.agent_id = u.agent_id
LEFT JOIN tool_calls c ON c.id = a.tool_use_id
WHERE u.agent_id IS NOT NULL
  AND ` + projectFilter + `
  AND ` + dayFilter("u.ts") + `
GROUP BY 1
ORDER BY cost_usd DESC, subagent_type`,
	},
	{
		Name:        "failed-bash-commands",
		Title:       "Failed Bash commands",
		Description: "Bash calls that ended in an error, newest first, with the start of their output.",
		SQL: `SELECT t.session_id,
  datetime(t.started_at / 1000, 'unixepoch') AS at,
  json_extract(t.input, '$.command') AS command,
  substr(t.result, 1, 300) AS output
FROM tool_calls t
JOIN sessions s ON s.id = t.session_id
WHERE t.name = 'Bash' AND t.is_error = 1
  AND ` + projectFilter + `
  AND ` + dayFilter("t.started_at") + `
ORDER BY t.started_at DESC, t.id
` + limitClause,
	},
	{
		Name:        "plans-per-project",
		Title:       "Plans per project",
		Description: "The plans written in each project, with their title and the sessions that share them.",
		SQL: `SELECT s.project,
  p.slug,
  trim(ltrim(substr(p.content, 1, instr(p.content || char(10), char(10)) - 1), '#')) AS title,
  count(*) AS sessions,
  datetime(max(s.last_at) / 1000, 'unixepoch') AS last_used
FROM plans p
JOIN sessions s ON s.slug = p.slug
WHERE ` + projectFilter + `
GROUP BY s.project, p.slug
ORDER BY s.project, last_used DESC, p.slug`,
	},
	{
		Name:        "sessions-only-in-db",
		Title:       "Sessions that live only in the database",
		Description: "Sessions whose every transcript file is gone from disk (Claude Code deletes old ones): this database holds the only copy.",
		SQL: `SELECT s.id AS session_id,
  s.title,
  s.project,
  datetime(s.first_at / 1000, 'unixepoch') AS started,
  count(*) AS files,
  datetime(max(f.gone_at) / 1000, 'unixepoch') AS gone_since
FROM sessions s
JOIN session_files sf ON sf.session_id = s.id
JOIN ingest_files f ON f.path = sf.path
WHERE ` + projectFilter + `
GROUP BY s.id
HAVING count(f.gone_at) = count(*)
ORDER BY s.first_at DESC, s.id`,
	},
	{
		Name:        "commits-per-session",
		Title:       "Commits per session",
		Description: "Sessions that made git commits, with how many and their subjects.",
		SQL: `SELECT s.id AS session_id,
  s.title,
  s.project,
  count(*) AS commits,
  group_concat(c.hash || ' ' || c.subject, char(10)) AS subjects,
  datetime(max(c.ts) / 1000, 'unixepoch') AS last_commit
FROM commits c
JOIN sessions s ON s.id = c.session_id
WHERE ` + projectFilter + `
  AND ` + dayFilter("c.ts") + `
GROUP BY s.id
ORDER BY commits DESC, last_commit DESC, s.id`,
	},
	{
		Name:        "slowest-tools",
		Title:       "Slowest tools",
		Description: "How long each tool's calls took from call to result, on average and at most.",
		SQL: `SELECT t.name AS tool,
  count(*) AS calls,
  round(avg(t.finished_at - t.started_at) / 1000.0, 2) AS avg_seconds,
  round(max(t.finished_at - t.started_at) / 1000.0, 2) AS max_seconds
FROM tool_calls t
JOIN sessions s ON s.id = t.session_id
WHERE t.finished_at IS NOT NULL AND t.started_at IS NOT NULL
  AND ` + projectFilter + `
  AND ` + dayFilter("t.started_at") + `
GROUP BY t.name
ORDER BY avg_seconds DESC, tool`,
	},
}

func init() {
	for i, q := range CannedQueries {
		CannedQueries[i].Params = scanSQL(q.SQL).Params
	}
}

// Canned returns the canned query of a name.
func Canned(name string) (store.CannedQuery, bool) {
	for _, q := range CannedQueries {
		if q.Name == name {
			return q, true
		}
	}
	return store.CannedQuery{}, false
}

// TableDescriptions say what a row of each table is.
var TableDescriptions = map[string]string{
	"meta":              "Settings of the database itself, such as the fingerprint of the prices its costs were computed with.",
	"schema_migrations": "The schema version the database is at.",
	"ingest_files":      "Every transcript file read: how far it was imported, its identity, and when it disappeared (gone_at). Times are milliseconds since 1970, UTC.",
	"session_files":     "Which files each session was read from.",
	"skipped_lines":     "Lines (line ≥ 1) and whole files (line 0) that could not be imported, with the reason.",
	"sessions":          "One row per session: project directory, branch, times (ms since 1970, UTC), counts, tokens and cost.",
	"messages":          "Every record of a transcript that is a message: its kind, text, JSON content and flags; seq is its line in its file.",
	"messages_fts":      "Full-text index of messages' text, tool inputs and results (rowid = messages.rowid).",
	"usage":             "One row per API reply, counted once: tokens by kind and cost (NULL when the model has no price).",
	"export_days":       "The UTC days holding rows (days since 1970-01-01) and the version of their rows, which Parquet snapshots compare.",
	"usage_quarters":    "Usage summed per session, quarter hour (bucket = ts / 900000) and model, for fast reports.",
	"tool_calls":        "One row per tool call: input and result as JSON, whether it failed, when it started and finished.",
	"file_changes":      "Files changed by Edit, MultiEdit and Write calls, with the lines added and removed.",
	"subagents":         "Subagents: the session they ran in, the call that started them and their file.",
	"summaries":         "Titles of the conversations ending at a message (summary records).",
	"commits":           "Git commits sessions made, read from the output of git commit in Bash calls.",
	"session_tags":      "Tags of sessions.",
	"plans":             "Plans written in plan mode (plans/<slug>.md); sessions share their slug.",
	"todos":             "TodoWrite lists, item by item.",
	"prompt_history":    "Prompts typed, from history.jsonl.",
}
