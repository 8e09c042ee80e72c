package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/lib/pq"

	"github.com/claude-insights/insights/store"
)

// saveRecord writes the rest of a batch's record: tool calls, file changes,
// subagents, summaries, commits, tags, plans, todo lists and prompts, one
// statement per kind. It notes the sessions whose derived counts and title
// change.
func saveRecord(ctx context.Context, tx *sql.Tx, b *store.Batch, touched map[string]bool) error {
	if err := saveToolCalls(ctx, tx, b.ToolUses, b.ToolResults, touched); err != nil {
		return err
	}
	if err := saveFileChanges(ctx, tx, b.FileChanges, touched); err != nil {
		return err
	}
	if err := saveSubagents(ctx, tx, b.Subagents, touched); err != nil {
		return err
	}
	if err := saveSummaries(ctx, tx, b.Summaries, touched); err != nil {
		return err
	}
	if err := saveCommits(ctx, tx, b.Commits); err != nil {
		return err
	}
	if err := saveTags(ctx, tx, b.Tags); err != nil {
		return err
	}
	if err := savePlans(ctx, tx, b.Plans); err != nil {
		return err
	}
	if err := saveTodos(ctx, tx, b.TodoLists); err != nil {
		return err
	}
	return savePrompts(ctx, tx, b.Prompts)
}

// toolCall is what a batch holds of one tool call: its use, its result, or
// both.
type toolCall struct {
	use *store.ToolUse
	res *store.ToolResult
}

// mergeToolCalls pairs a batch's uses and results by id. Of copies of one
// half, the one in the smallest session id is kept (of equal ones, the last).
func mergeToolCalls(uses []store.ToolUse, results []store.ToolResult, touched map[string]bool) map[string]toolCall {
	calls := map[string]toolCall{}
	for i := range uses {
		u := &uses[i]
		touched[u.SessionID] = true
		c := calls[u.ID]
		if c.use == nil || u.SessionID <= c.use.SessionID {
			c.use = u
		}
		calls[u.ID] = c
	}
	for i := range results {
		r := &results[i]
		touched[r.SessionID] = true
		c := calls[r.ToolUseID]
		if c.res == nil || r.SessionID <= c.res.SessionID {
			c.res = r
		}
		calls[r.ToolUseID] = c
	}
	return calls
}

// toolCallColumns holds tool calls column by column, as the arrays that
// saveToolCalls unnests; each half carries the session it was seen in.
type toolCallColumns struct {
	id, useSession, messageUUID, messageID, agent, name, input, startedAt,
	resultSession, resultUUID, result, resultJSON, finishedAt []string
	seq                                     []int64
	hasUse, hasResult, isError, interrupted []bool
}

func newToolCallColumns(n int) *toolCallColumns {
	str := func() []string { return make([]string, n) }
	flag := func() []bool { return make([]bool, n) }
	return &toolCallColumns{
		id: str(), useSession: str(), messageUUID: str(), messageID: str(), agent: str(), name: str(), input: str(),
		startedAt: str(), resultSession: str(), resultUUID: str(), result: str(), resultJSON: str(), finishedAt: str(),
		seq: make([]int64, n), hasUse: flag(), hasResult: flag(), isError: flag(), interrupted: flag(),
	}
}

func (c *toolCallColumns) set(i int, id string, call toolCall) {
	c.id[i] = id
	if u := call.use; u != nil {
		c.hasUse[i], c.useSession[i], c.messageUUID[i], c.messageID[i], c.agent[i] = true, u.SessionID, u.MessageUUID, u.MessageID, u.AgentID
		c.seq[i], c.name[i], c.input[i], c.startedAt[i] = u.Seq, u.Name, string(u.Input), timeText(u.At)
	}
	if r := call.res; r != nil {
		c.hasResult[i], c.resultSession[i], c.resultUUID[i], c.result[i] = true, r.SessionID, r.MessageUUID, r.Text
		c.resultJSON[i], c.isError[i], c.interrupted[i], c.finishedAt[i] = string(r.Structured), r.IsError, r.Interrupted, timeText(r.At)
	}
}

func (c *toolCallColumns) args() []any {
	return []any{pq.Array(c.id), pq.Array(c.hasUse), pq.Array(c.useSession), pq.Array(c.messageUUID),
		pq.Array(c.messageID), pq.Array(c.agent), pq.Array(c.seq), pq.Array(c.name), textArray(c.input),
		pq.Array(c.startedAt), pq.Array(c.hasResult), pq.Array(c.resultSession), pq.Array(c.resultUUID),
		textArray(c.result), textArray(c.resultJSON), pq.Array(c.isError), pq.Array(c.interrupted),
		pq.Array(c.finishedAt)}
}

// saveToolCalls keeps one row per tool_use id. A use fills the row's use
// half, a result its result half, in either order. The row belongs to the
// smallest session id it was seen in; an incoming half replaces the stored
// one when there is none yet or when it comes from that session or a smaller
// one (a result is weighed after its batch's use), so that of copies in
// several sessions the smallest session's is kept whatever the order. In a
// row, seq is NULL exactly while no use came, and result while no result came.
func saveToolCalls(ctx context.Context, tx *sql.Tx, uses []store.ToolUse, results []store.ToolResult, touched map[string]bool) error {
	if len(uses) == 0 && len(results) == 0 {
		return nil
	}
	calls := mergeToolCalls(uses, results, touched)
	ids := sortedKeys(calls)
	c := newToolCallColumns(len(ids))
	for i, id := range ids {
		c.set(i, id, calls[id])
	}
	// The merge happens here rather than in ON CONFLICT, which cannot see
	// each half's session. The sessions the stored calls were in come back:
	// a call may have moved away, or its error flag changed.
	const q = `WITH input AS (
			SELECT * FROM unnest($1::text[], $2::bool[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
				$8::text[], $9::text[], $10::text[], $11::bool[], $12::text[], $13::text[], $14::text[], $15::text[],
				$16::bool[], $17::bool[], $18::text[])
				AS t(id, has_use, use_session, message_uuid, message_id, agent_id, seq, name, input, started_at,
					has_result, result_session, result_uuid, result, result_json, is_error, interrupted, finished_at)
		), old AS (
			SELECT c.id, c.session_id FROM tool_calls c JOIN input USING (id)
		), up AS (
			INSERT INTO tool_calls (id, session_id, message_uuid, message_id, agent_id, seq, name, input, started_at,
				result_uuid, result, result_json, is_error, interrupted, finished_at)
			SELECT i.id,
				least(o.session_id, CASE WHEN i.has_use THEN i.use_session END,
					CASE WHEN i.has_result THEN i.result_session END),
				CASE WHEN w.use THEN nullif(i.message_uuid, '') ELSE o.message_uuid END,
				CASE WHEN w.use THEN nullif(i.message_id, '') ELSE o.message_id END,
				CASE WHEN w.use THEN nullif(i.agent_id, '') ELSE o.agent_id END,
				CASE WHEN w.use THEN i.seq ELSE o.seq END,
				CASE WHEN w.use THEN i.name ELSE coalesce(o.name, '') END,
				CASE WHEN w.use THEN nullif(i.input, '')::jsonb ELSE o.input END,
				CASE WHEN w.use THEN nullif(i.started_at, '')::timestamptz ELSE o.started_at END,
				CASE WHEN w.res THEN nullif(i.result_uuid, '') ELSE o.result_uuid END,
				CASE WHEN w.res THEN i.result ELSE o.result END,
				CASE WHEN w.res THEN nullif(i.result_json, '')::jsonb ELSE o.result_json END,
				CASE WHEN w.res THEN i.is_error ELSE coalesce(o.is_error, false) END,
				CASE WHEN w.res THEN i.interrupted ELSE coalesce(o.interrupted, false) END,
				CASE WHEN w.res THEN nullif(i.finished_at, '')::timestamptz ELSE o.finished_at END
			FROM input i
			LEFT JOIN tool_calls o ON o.id = i.id
			CROSS JOIN LATERAL (SELECT
				i.has_use AND (o.seq IS NULL OR i.use_session <= o.session_id) AS use,
				i.has_result AND (o.result IS NULL OR i.result_session
					<= least(o.session_id, CASE WHEN i.has_use THEN i.use_session END)) AS res) w
			ON CONFLICT (id) DO UPDATE SET session_id = excluded.session_id,
				message_uuid = excluded.message_uuid, message_id = excluded.message_id, agent_id = excluded.agent_id,
				seq = excluded.seq, name = excluded.name, input = excluded.input, started_at = excluded.started_at,
				result_uuid = excluded.result_uuid, result = excluded.result, result_json = excluded.result_json,
				is_error = excluded.is_error, interrupted = excluded.interrupted, finished_at = excluded.finished_at
		)
		SELECT DISTINCT old.session_id FROM old`
	rows, err := tx.QueryContext(ctx, q, c.args()...)
	if err := collectSessions(rows, err, touched); err != nil {
		return fmt.Errorf("save %d tool calls: %w", len(ids), err)
	}
	return nil
}

// pair is the two-part key of file changes, subagents, commits, tags and
// todo lists.
type pair struct{ a, b string }

// sortedPairs returns the keys of m in byte order.
func sortedPairs[V any](m map[pair]V) []pair {
	keys := make([]pair, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y pair) int {
		return cmp.Or(strings.Compare(x.a, y.a), strings.Compare(x.b, y.b))
	})
	return keys
}

// saveFileChanges keeps one row per call and path: of copies in several
// sessions, the one in the smallest session id; a copy from the stored
// session replaces the stored one. No derived column counts file changes,
// so the sessions they move away from need no refresh.
func saveFileChanges(ctx context.Context, tx *sql.Tx, fcs []store.FileChange, touched map[string]bool) error {
	if len(fcs) == 0 {
		return nil
	}
	keep := map[pair]store.FileChange{}
	for _, f := range fcs {
		touched[f.SessionID] = true
		k := pair{f.ToolUseID, f.Path}
		if old, ok := keep[k]; ok && old.SessionID < f.SessionID {
			continue
		}
		keep[k] = f
	}
	keys := sortedPairs(keep)
	n := len(keys)
	toolUse, path, session, op, ts := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	added, removed := make([]int64, n), make([]int64, n)
	for i, k := range keys {
		f := keep[k]
		toolUse[i], path[i], session[i], op[i], ts[i] = f.ToolUseID, f.Path, f.SessionID, f.Operation, timeText(f.At)
		added[i], removed[i] = f.Added, f.Removed
	}
	const q = `INSERT INTO file_changes (tool_use_id, path, session_id, operation, lines_added, lines_removed, ts)
		SELECT tool_use_id, path, session_id, operation, lines_added, lines_removed, nullif(ts, '')::timestamptz
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[])
			AS t(tool_use_id, path, session_id, operation, lines_added, lines_removed, ts)
		ON CONFLICT (tool_use_id, path) DO UPDATE SET
			session_id = excluded.session_id, operation = excluded.operation,
			lines_added = excluded.lines_added, lines_removed = excluded.lines_removed, ts = excluded.ts
		WHERE excluded.session_id <= file_changes.session_id`
	if _, err := tx.ExecContext(ctx, q, pq.Array(toolUse), pq.Array(path), pq.Array(session), pq.Array(op),
		pq.Array(added), pq.Array(removed), pq.Array(ts)); err != nil {
		return fmt.Errorf("save %d file changes: %w", n, err)
	}
	return nil
}

// saveSubagents keeps one row per session and agent id; what a record does
// not know (an empty call id or path) leaves the stored value.
func saveSubagents(ctx context.Context, tx *sql.Tx, sas []store.Subagent, touched map[string]bool) error {
	if len(sas) == 0 {
		return nil
	}
	keep := map[pair]store.Subagent{}
	for _, a := range sas {
		touched[a.SessionID] = true
		k := pair{a.SessionID, a.AgentID}
		if old, ok := keep[k]; ok {
			a.ToolUseID, a.Path = cmp.Or(a.ToolUseID, old.ToolUseID), cmp.Or(a.Path, old.Path)
		}
		keep[k] = a
	}
	keys := sortedPairs(keep)
	n := len(keys)
	session, agent, toolUse, path := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, k := range keys {
		a := keep[k]
		session[i], agent[i], toolUse[i], path[i] = a.SessionID, a.AgentID, a.ToolUseID, a.Path
	}
	const q = `INSERT INTO subagents (session_id, agent_id, tool_use_id, path)
		SELECT session_id, agent_id, nullif(tool_use_id, ''), nullif(path, '')
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(session_id, agent_id, tool_use_id, path)
		ON CONFLICT (session_id, agent_id) DO UPDATE SET
			tool_use_id = coalesce(excluded.tool_use_id, subagents.tool_use_id),
			path = coalesce(excluded.path, subagents.path)`
	if _, err := tx.ExecContext(ctx, q, pq.Array(session), pq.Array(agent), pq.Array(toolUse), pq.Array(path)); err != nil {
		return fmt.Errorf("save %d subagents: %w", n, err)
	}
	return nil
}

// saveSummaries keeps the latest summary of each leaf message. The sessions
// holding the leaves come back: their title may change.
func saveSummaries(ctx context.Context, tx *sql.Tx, sums []store.Summary, touched map[string]bool) error {
	if len(sums) == 0 {
		return nil
	}
	keep := map[string]string{}
	for _, s := range sums {
		keep[s.LeafUUID] = s.Text
	}
	leaves := sortedKeys(keep)
	texts := make([]string, len(leaves))
	for i, l := range leaves {
		texts[i] = keep[l]
	}
	const q = `WITH input AS (
			SELECT * FROM unnest($1::text[], $2::text[]) AS t(leaf_uuid, summary)
		), up AS (
			INSERT INTO summaries (leaf_uuid, summary) SELECT leaf_uuid, summary FROM input
			ON CONFLICT (leaf_uuid) DO UPDATE SET summary = excluded.summary
		)
		SELECT DISTINCT m.session_id FROM messages m JOIN input ON m.uuid = input.leaf_uuid`
	rows, err := tx.QueryContext(ctx, q, pq.Array(leaves), pq.Array(texts))
	if err := collectSessions(rows, err, touched); err != nil {
		return fmt.Errorf("save %d summaries: %w", len(leaves), err)
	}
	return nil
}

// saveCommits keeps one row per call and hash: of copies in several
// sessions, the one in the smallest session id; a copy from the stored
// session replaces the stored one.
func saveCommits(ctx context.Context, tx *sql.Tx, cs []store.Commit) error {
	if len(cs) == 0 {
		return nil
	}
	keep := map[pair]store.Commit{}
	for _, c := range cs {
		k := pair{c.ToolUseID, c.Hash}
		if old, ok := keep[k]; ok && old.SessionID < c.SessionID {
			continue
		}
		keep[k] = c
	}
	keys := sortedPairs(keep)
	n := len(keys)
	toolUse, hash, session, branch, subject, ts := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	for i, k := range keys {
		c := keep[k]
		toolUse[i], hash[i], session[i], branch[i], subject[i], ts[i] = c.ToolUseID, c.Hash, c.SessionID, c.Branch, c.Subject, timeText(c.At)
	}
	const q = `INSERT INTO commits (tool_use_id, hash, session_id, branch, subject, ts)
		SELECT tool_use_id, hash, session_id, branch, subject, nullif(ts, '')::timestamptz
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
			AS t(tool_use_id, hash, session_id, branch, subject, ts)
		ON CONFLICT (tool_use_id, hash) DO UPDATE SET
			session_id = excluded.session_id, branch = excluded.branch, subject = excluded.subject, ts = excluded.ts
		WHERE excluded.session_id <= commits.session_id`
	if _, err := tx.ExecContext(ctx, q, pq.Array(toolUse), pq.Array(hash), pq.Array(session), pq.Array(branch),
		pq.Array(subject), pq.Array(ts)); err != nil {
		return fmt.Errorf("save %d commits: %w", n, err)
	}
	return nil
}

// saveTags adds tags to sessions; a tag already there stays as it is.
func saveTags(ctx context.Context, tx *sql.Tx, ts []store.Tag) error {
	if len(ts) == 0 {
		return nil
	}
	keep := map[pair]bool{}
	for _, t := range ts {
		keep[pair{t.SessionID, t.Tag}] = true
	}
	keys := sortedPairs(keep)
	session, tag := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		session[i], tag[i] = k.a, k.b
	}
	const q = `INSERT INTO session_tags (session_id, tag)
		SELECT session_id, tag FROM unnest($1::text[], $2::text[]) AS t(session_id, tag)
		ON CONFLICT DO NOTHING`
	if _, err := tx.ExecContext(ctx, q, pq.Array(session), pq.Array(tag)); err != nil {
		return fmt.Errorf("save %d session tags: %w", len(keys), err)
	}
	return nil
}

// savePlans keeps one row per slug: the latest copy read.
func savePlans(ctx context.Context, tx *sql.Tx, ps []store.Plan) error {
	if len(ps) == 0 {
		return nil
	}
	keep := map[string]store.Plan{}
	for _, p := range ps {
		keep[p.Slug] = p
	}
	slugs := sortedKeys(keep)
	n := len(slugs)
	path, content, mod := make([]string, n), make([]string, n), make([]string, n)
	for i, s := range slugs {
		p := keep[s]
		path[i], content[i], mod[i] = p.Path, p.Markdown, timeText(p.ModTime)
	}
	const q = `INSERT INTO plans (slug, path, content, mod_time)
		SELECT slug, path, content, nullif(mod_time, '')::timestamptz
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(slug, path, content, mod_time)
		ON CONFLICT (slug) DO UPDATE SET path = excluded.path, content = excluded.content, mod_time = excluded.mod_time`
	if _, err := tx.ExecContext(ctx, q, pq.Array(slugs), pq.Array(path), pq.Array(content), pq.Array(mod)); err != nil {
		return fmt.Errorf("save %d plans: %w", n, err)
	}
	return nil
}

// saveTodos replaces the stored items of each list of the batch (of copies
// of one list, the last): items 0..n-1 are written over, those from n on
// deleted. The two touch different rows, so that one statement does both.
func saveTodos(ctx context.Context, tx *sql.Tx, ls []store.TodoList) error {
	if len(ls) == 0 {
		return nil
	}
	keep := map[pair]store.TodoList{}
	for _, l := range ls {
		keep[pair{l.SessionID, l.AgentID}] = l
	}
	keys := sortedPairs(keep)
	listSession, listAgent, count := make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	total := 0
	for _, l := range keep {
		total += len(l.Items)
	}
	str := func() []string { return make([]string, 0, total) }
	session, agent, content, status, active := str(), str(), str(), str(), str()
	position := make([]int64, 0, total)
	for i, k := range keys {
		items := keep[k].Items
		listSession[i], listAgent[i], count[i] = k.a, k.b, int64(len(items))
		for j, it := range items {
			session, agent, position = append(session, k.a), append(agent, k.b), append(position, int64(j))
			content, status, active = append(content, it.Content), append(status, it.Status), append(active, it.ActiveForm)
		}
	}
	const q = `WITH lists AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) AS l(session_id, agent_id, n)
		), gone AS (
			DELETE FROM todos t USING lists l
			WHERE t.session_id = l.session_id AND t.agent_id = l.agent_id AND t.position >= l.n
		)
		INSERT INTO todos (session_id, agent_id, position, content, status, active_form)
		SELECT * FROM unnest($4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[])
		ON CONFLICT (session_id, agent_id, position) DO UPDATE SET
			content = excluded.content, status = excluded.status, active_form = excluded.active_form`
	if _, err := tx.ExecContext(ctx, q, pq.Array(listSession), pq.Array(listAgent), pq.Array(count),
		pq.Array(session), pq.Array(agent), pq.Array(position), pq.Array(content), pq.Array(status),
		pq.Array(active)); err != nil {
		return fmt.Errorf("save %d todo lists: %w", len(keys), err)
	}
	return nil
}

// savePrompts keeps one row per key: the first copy stored.
func savePrompts(ctx context.Context, tx *sql.Tx, ps []store.Prompt) error {
	if len(ps) == 0 {
		return nil
	}
	keep := map[string]store.Prompt{}
	for _, p := range ps {
		if _, ok := keep[p.Key]; !ok {
			keep[p.Key] = p
		}
	}
	keys := sortedKeys(keep)
	n := len(keys)
	ts, project, session, display, pasted := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n)
	for i, k := range keys {
		p := keep[k]
		ts[i], project[i], session[i], display[i], pasted[i] = timeText(p.At), p.Project, p.SessionID, p.Text, string(p.Pasted)
	}
	const q = `INSERT INTO prompt_history (key, ts, project, session_id, display, pasted)
		SELECT key, nullif(ts, '')::timestamptz, project, nullif(session_id, ''), display, nullif(pasted, '')::jsonb
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
			AS t(key, ts, project, session_id, display, pasted)
		ON CONFLICT (key) DO NOTHING`
	if _, err := tx.ExecContext(ctx, q, pq.Array(keys), pq.Array(ts), pq.Array(project), pq.Array(session),
		pq.Array(display), pq.Array(pasted)); err != nil {
		return fmt.Errorf("save %d prompts: %w", n, err)
	}
	return nil
}

// collectSessions notes the session ids that a query returns, then closes
// its rows; err is the query's own error.
func collectSessions(rows *sql.Rows, err error, touched map[string]bool) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		touched[id] = true
	}
	return rows.Err()
}
