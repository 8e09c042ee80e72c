package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/claude-insights/insights/store"
)

// writeLock serializes writers across processes: the derived sums
// (usage_quarters, session totals) are recomputed from rows that a
// concurrent batch could otherwise be changing underneath.
const writeLock = `SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':insights-write'))`

// writeLockLZ4 also has the transaction compress large values (message
// content, tool results) with lz4 rather than the default pglz: about a
// quarter of the time of inserting messages, for the same size.
const writeLockLZ4 = writeLock + `, set_config('default_toast_compression', 'lz4', true)`

const fileColumns = `path, size, "offset", lines, broken, mod_time, dev, inode, head_len, head_hash, imported_at, gone_at`

// FileState returns the import state of one transcript file.
func (db *DB) FileState(ctx context.Context, path string) (store.FileState, bool, error) {
	s, err := scanFile(db.db.QueryRowContext(ctx, `SELECT `+fileColumns+` FROM ingest_files WHERE path = $1`, path))
	if errors.Is(err, sql.ErrNoRows) {
		return store.FileState{Path: path}, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("file state of %s: %w", path, err)
	}
	return s, true, nil
}

func scanFile(row interface{ Scan(...any) error }) (store.FileState, error) {
	var s store.FileState
	var mod, imported, gone sql.NullTime
	var dev, inode int64
	err := row.Scan(&s.Path, &s.Size, &s.Offset, &s.Lines, &s.Broken, &mod, &dev, &inode,
		&s.HeadLen, &s.HeadHash, &imported, &gone)
	s.Dev, s.Inode = uint64(dev), uint64(inode)
	s.ModTime, s.ImportedAt, s.GoneAt = fromNull(mod), fromNull(imported), fromNull(gone)
	return s, err
}

// Files lists every tracked file.
func (db *DB) Files(ctx context.Context) ([]store.FileState, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+fileColumns+` FROM ingest_files ORDER BY path`)
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	defer rows.Close()
	var fs []store.FileState
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, fmt.Errorf("list files: %w", err)
		}
		fs = append(fs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	return fs, nil
}

// MarkGone records that files were deleted.
func (db *DB) MarkGone(ctx context.Context, paths []string, at time.Time) error {
	_, err := db.db.ExecContext(ctx, `UPDATE ingest_files SET gone_at = $1 WHERE path = ANY($2) AND gone_at IS NULL`,
		nullTime(at), pq.Array(paths))
	if err != nil {
		return fmt.Errorf("mark files gone: %w", err)
	}
	return nil
}

// SkipFile records a file that could not be read.
func (db *DB) SkipFile(ctx context.Context, sk store.Skipped) error {
	sk.Line = 0
	return insertSkipped(ctx, db.db, []store.Skipped{sk})
}

// Apply writes batches, each with its file's state, in one transaction, with a
// fixed number of statements whatever their number and size: the batches are
// merged into one first.
func (db *DB) Apply(ctx context.Context, batches ...*store.Batch) error {
	if len(batches) == 0 {
		return nil
	}
	for _, b := range batches {
		if b.File.Path == "" {
			return errors.New("import: batch names no file")
		}
	}
	what := store.BatchFiles(batches)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin import of %s: %w", what, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := db.applyTx(ctx, tx, newGroup(batches)); err != nil {
		return fmt.Errorf("import %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit import of %s: %w", what, err)
	}
	return nil
}

func (db *DB) applyTx(ctx context.Context, tx *sql.Tx, g *group) error {
	lock := writeLock
	if db.lz4 {
		lock = writeLockLZ4
	}
	if _, err := tx.ExecContext(ctx, lock); err != nil {
		return fmt.Errorf("lock for writing: %w", err)
	}
	b := g.rows
	touched := map[string]bool{}
	quarters := map[quarter]bool{}
	if err := upsertSessions(ctx, tx, b.Sessions, touched); err != nil {
		return err
	}
	if err := insertMessages(ctx, tx, b.Messages, touched); err != nil {
		return err
	}
	if err := upsertUsage(ctx, tx, b.Usage, touched, quarters); err != nil {
		return err
	}
	if err := saveRecord(ctx, tx, b, touched); err != nil {
		return err
	}
	if err := refreshQuarters(ctx, tx, quarters); err != nil {
		return err
	}
	if err := refreshSessions(ctx, tx, touched); err != nil {
		return err
	}
	if err := markDays(ctx, tx, b, touched); err != nil {
		return err
	}
	if err := linkFiles(ctx, tx, g.links); err != nil {
		return err
	}
	if err := saveSkipped(ctx, tx, g); err != nil {
		return err
	}
	return saveFiles(ctx, tx, g.files)
}

// saveFiles records the new state of files; a file read again is no longer
// gone.
func saveFiles(ctx context.Context, tx *sql.Tx, fs []store.FileState) error {
	n := len(fs)
	path, hash, mod, imported := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	size, offset, lines, broken, dev, inode, headLen := make([]int64, n), make([]int64, n), make([]int64, n),
		make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, f := range fs {
		path[i], hash[i], mod[i], imported[i] = f.Path, f.HeadHash, timeText(f.ModTime), timeText(f.ImportedAt)
		size[i], offset[i], lines[i], broken[i] = f.Size, f.Offset, f.Lines, f.Broken
		dev[i], inode[i], headLen[i] = int64(f.Dev), int64(f.Inode), f.HeadLen
	}
	const q = `INSERT INTO ingest_files (` + fileColumns + `)
		SELECT path, size, "offset", lines, broken, nullif(mod_time, '')::timestamptz, dev, inode, head_len, head_hash,
			nullif(imported_at, '')::timestamptz, NULL
		FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[],
			$8::bigint[], $9::bigint[], $10::text[], $11::text[])
			AS t(path, size, "offset", lines, broken, mod_time, dev, inode, head_len, head_hash, imported_at)
		ON CONFLICT (path) DO UPDATE SET size = excluded.size, "offset" = excluded."offset",
			lines = excluded.lines, broken = excluded.broken, mod_time = excluded.mod_time,
			dev = excluded.dev, inode = excluded.inode, head_len = excluded.head_len,
			head_hash = excluded.head_hash, imported_at = excluded.imported_at, gone_at = NULL`
	if _, err := tx.ExecContext(ctx, q, pq.Array(path), pq.Array(size), pq.Array(offset), pq.Array(lines),
		pq.Array(broken), pq.Array(mod), pq.Array(dev), pq.Array(inode), pq.Array(headLen), pq.Array(hash),
		pq.Array(imported)); err != nil {
		return fmt.Errorf("save the state of %d files: %w", n, err)
	}
	return nil
}

// upsertSessions merges what a batch saw of each session: the widest time
// span, and place, branch, version and slug from the latest record.
func upsertSessions(ctx context.Context, tx *sql.Tx, ss []store.Session, touched map[string]bool) error {
	if len(ss) == 0 {
		return nil
	}
	merged := map[string]store.Session{}
	for _, s := range ss {
		if old, ok := merged[s.ID]; ok {
			s = mergeSession(old, s)
		}
		merged[s.ID] = s
	}
	ids := sortedKeys(merged)
	n := len(ids)
	project, branch, version, slug := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	first, last := make([]string, n), make([]string, n)
	for i, id := range ids {
		s := merged[id]
		project[i], branch[i], version[i], slug[i] = s.Project, s.GitBranch, s.Version, s.Slug
		first[i], last[i] = timeText(s.FirstAt), timeText(s.LastAt)
		touched[id] = true
	}
	const q = `INSERT INTO sessions (id, project, git_branch, version, slug, first_at, last_at)
		SELECT id, project, git_branch, version, slug, nullif(first_at, '')::timestamptz, nullif(last_at, '')::timestamptz
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
			AS t(id, project, git_branch, version, slug, first_at, last_at)
		ON CONFLICT (id) DO UPDATE SET
			project = CASE WHEN excluded.project <> '' AND (sessions.project = '' OR excluded.last_at >= sessions.last_at)
				THEN excluded.project ELSE sessions.project END,
			git_branch = CASE WHEN excluded.git_branch <> '' AND (sessions.git_branch = '' OR excluded.last_at >= sessions.last_at)
				THEN excluded.git_branch ELSE sessions.git_branch END,
			version = CASE WHEN excluded.version <> '' AND (sessions.version = '' OR excluded.last_at >= sessions.last_at)
				THEN excluded.version ELSE sessions.version END,
			slug = CASE WHEN excluded.slug <> '' AND (sessions.slug = '' OR excluded.last_at >= sessions.last_at)
				THEN excluded.slug ELSE sessions.slug END,
			first_at = least(sessions.first_at, excluded.first_at),
			last_at = greatest(sessions.last_at, excluded.last_at)`
	if _, err := tx.ExecContext(ctx, q, pq.Array(ids), pq.Array(project), pq.Array(branch), pq.Array(version),
		pq.Array(slug), pq.Array(first), pq.Array(last)); err != nil {
		return fmt.Errorf("save %d sessions: %w", n, err)
	}
	return nil
}

// mergeSession applies the rule of upsertSessions to two records of one
// session in the same batch, in the order they were seen.
func mergeSession(old, s store.Session) store.Session {
	later := !old.LastAt.IsZero() && !s.LastAt.IsZero() && !s.LastAt.Before(old.LastAt)
	pick := func(o, n string) string {
		if n != "" && (o == "" || later) {
			return n
		}
		return o
	}
	out := old
	out.Project, out.GitBranch, out.Version = pick(old.Project, s.Project), pick(old.GitBranch, s.GitBranch), pick(old.Version, s.Version)
	out.Slug = pick(old.Slug, s.Slug)
	if out.FirstAt.IsZero() || (!s.FirstAt.IsZero() && s.FirstAt.Before(out.FirstAt)) {
		out.FirstAt = s.FirstAt
	}
	if s.LastAt.After(out.LastAt) {
		out.LastAt = s.LastAt
	}
	return out
}

// insertMessages keeps one copy of each message uuid: of copies in several
// sessions (a resumed session repeats earlier lines), the one in the smallest
// session id, so that the result does not depend on the order files are read
// in. A copy from the kept session replaces the stored one: a file read again
// refreshes the message's content and its search index.
func insertMessages(ctx context.Context, tx *sql.Tx, ms []store.Message, touched map[string]bool) error {
	if len(ms) == 0 {
		return nil
	}
	keep := map[string]store.Message{}
	for _, m := range ms {
		touched[m.SessionID] = true
		if old, ok := keep[m.UUID]; ok && old.SessionID < m.SessionID {
			continue
		}
		keep[m.UUID] = m
	}
	uuids := sortedKeys(keep)
	c := newMessageColumns(len(uuids))
	for i, id := range uuids {
		c.set(i, keep[id])
	}
	// The sessions the messages were in come back, read before the statement
	// changed them.
	const q = `WITH input AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
				$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
				$16::text[], $17::bool[], $18::bool[], $19::bool[], $20::bool[], $21::bool[], $22::text[], $23::bigint[])
				AS t(uuid, session_id, seq, parent_uuid, type, role, ts, text, model, agent_id, message_id, subtype,
					logical_parent_uuid, content, search_text, search_doc, is_prompt, is_sidechain, is_meta,
					is_compact_summary, is_api_error, compact_trigger, compact_pre_tokens)
		), old AS (
			SELECT m.uuid, m.session_id FROM messages m JOIN input USING (uuid)
		), up AS (
			INSERT INTO messages (uuid, session_id, seq, parent_uuid, type, role, ts, text, model, agent_id, message_id,
				subtype, logical_parent_uuid, content, search_text, search, is_prompt, is_sidechain, is_meta,
				is_compact_summary, is_api_error, compact_trigger, compact_pre_tokens)
			SELECT uuid, session_id, seq, nullif(parent_uuid, ''), type, role, nullif(ts, '')::timestamptz, text,
				nullif(model, ''), nullif(agent_id, ''), nullif(message_id, ''), subtype, nullif(logical_parent_uuid, ''),
				nullif(content, '')::jsonb, nullif(search_text, ''),
				CASE WHEN search_doc <> '' THEN search_doc::tsvector END,
				is_prompt, is_sidechain, is_meta, is_compact_summary, is_api_error, nullif(compact_trigger, ''),
				nullif(compact_pre_tokens, 0)
			FROM input
			ON CONFLICT (uuid) DO UPDATE SET session_id = excluded.session_id, seq = excluded.seq,
				parent_uuid = excluded.parent_uuid, type = excluded.type, role = excluded.role, ts = excluded.ts,
				text = excluded.text, model = excluded.model, agent_id = excluded.agent_id,
				message_id = excluded.message_id, subtype = excluded.subtype,
				logical_parent_uuid = excluded.logical_parent_uuid, content = excluded.content,
				search_text = excluded.search_text, search = excluded.search, is_prompt = excluded.is_prompt,
				is_sidechain = excluded.is_sidechain, is_meta = excluded.is_meta,
				is_compact_summary = excluded.is_compact_summary, is_api_error = excluded.is_api_error,
				compact_trigger = excluded.compact_trigger, compact_pre_tokens = excluded.compact_pre_tokens
			WHERE excluded.session_id <= messages.session_id
			RETURNING uuid
		)
		SELECT DISTINCT old.session_id FROM old JOIN up USING (uuid)`
	rows, err := tx.QueryContext(ctx, q, c.args()...)
	if err := collectSessions(rows, err, touched); err != nil {
		return fmt.Errorf("save %d messages: %w", len(uuids), err)
	}
	return nil
}

// messageColumns holds a batch's messages column by column, as the arrays
// that insertMessages unnests.
type messageColumns struct {
	uuid, session, parent, typ, role, ts, text, model, agent, messageID, subtype, logicalParent,
	content, searchText, searchDoc, compactTrigger []string
	seq, compactPreTokens                      []int64
	prompt, sidechain, meta, compact, apiError []bool
}

func newMessageColumns(n int) *messageColumns {
	str := func() []string { return make([]string, n) }
	flag := func() []bool { return make([]bool, n) }
	return &messageColumns{
		uuid: str(), session: str(), parent: str(), typ: str(), role: str(), ts: str(), text: str(), model: str(),
		agent: str(), messageID: str(), subtype: str(), logicalParent: str(), content: str(), searchText: str(),
		searchDoc: str(), compactTrigger: str(), seq: make([]int64, n), compactPreTokens: make([]int64, n),
		prompt: flag(), sidechain: flag(), meta: flag(), compact: flag(), apiError: flag(),
	}
}

func (c *messageColumns) set(i int, m store.Message) {
	c.uuid[i], c.session[i], c.seq[i], c.parent[i], c.typ[i], c.role[i] = m.UUID, m.SessionID, m.Seq, m.ParentUUID, m.Type, m.Role
	c.ts[i], c.text[i], c.model[i], c.agent[i] = timeText(m.Timestamp), m.Text, m.Model, m.AgentID
	c.messageID[i], c.subtype[i], c.logicalParent[i], c.content[i] = m.MessageID, m.Subtype, m.LogicalParentUUID, string(m.Content)
	c.compactTrigger[i], c.compactPreTokens[i] = m.CompactTrigger, m.CompactPreTokens
	c.searchDoc[i] = tsVector(m.Search)
	if m.Search != m.Text {
		c.searchText[i] = store.SearchBody(m.Search) // else NULL: the text itself
	}
	c.prompt[i], c.sidechain[i], c.meta[i], c.compact[i], c.apiError[i] = m.IsPrompt, m.IsSidechain, m.IsMeta, m.IsCompactSummary, m.IsAPIError
}

func (c *messageColumns) args() []any {
	return []any{pq.Array(c.uuid), pq.Array(c.session), pq.Array(c.seq), pq.Array(c.parent), pq.Array(c.typ),
		pq.Array(c.role), pq.Array(c.ts), textArray(c.text), pq.Array(c.model), pq.Array(c.agent),
		pq.Array(c.messageID), pq.Array(c.subtype), pq.Array(c.logicalParent), textArray(c.content),
		textArray(c.searchText), textArray(c.searchDoc), pq.Array(c.prompt), pq.Array(c.sidechain),
		pq.Array(c.meta), pq.Array(c.compact), pq.Array(c.apiError), pq.Array(c.compactTrigger),
		pq.Array(c.compactPreTokens)}
}

// quarter is one row of usage_quarters, less the model.
type quarter struct {
	session string
	bucket  int64
}

var bucketSeconds = int64(store.BucketSize / time.Second)

func quarterOf(session string, ts time.Time) quarter {
	return quarter{session, store.Bucket(ts)}
}

// fuller reports whether usage u wins over the stored v: more tokens, or as
// many from an earlier line, or the same line in a smaller session id.
func fuller(u, v store.Usage) bool {
	if u.Total() != v.Total() {
		return u.Total() > v.Total()
	}
	if ut, vt := ms(u.Timestamp), ms(v.Timestamp); !ut.Equal(vt) {
		return ut.Before(vt)
	}
	return u.SessionID < v.SessionID
}

// upsertUsage keeps one row per reply: the fullest usage seen, dated by the
// earliest line that carries it; identical copies in several sessions go to
// the smallest session id. It notes the sessions and quarter hours whose sums
// change: the reply's, and the ones it moved away from.
func upsertUsage(ctx context.Context, tx *sql.Tx, us []store.Usage, touched map[string]bool, quarters map[quarter]bool) error {
	if len(us) == 0 {
		return nil
	}
	keep := map[string]store.Usage{}
	for _, u := range us {
		touched[u.SessionID] = true
		quarters[quarterOf(u.SessionID, ms(u.Timestamp))] = true
		if old, ok := keep[u.Key]; ok && !fuller(u, old) {
			continue
		}
		keep[u.Key] = u
	}
	keys := sortedKeys(keep)
	n := len(keys)
	var (
		msgID, reqID, session, agent, model, ts = make([]string, n), make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n)
		in, out, cw5, cw1, cr, total = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		cost                         = make([]float64, n)
		priced                       = make([]bool, n)
	)
	for i, k := range keys {
		u := keep[k]
		msgID[i], reqID[i], session[i], agent[i] = u.MessageID, u.RequestID, u.SessionID, u.AgentID
		model[i], ts[i] = u.Model, timeText(u.Timestamp)
		in[i], out[i], cw5[i], cw1[i], cr[i], total[i] = u.Input, u.Output, u.CacheWrite5m, u.CacheWrite1h, u.CacheRead, u.Total()
		cost[i], priced[i] = u.Cost, u.Priced
	}
	const q = `WITH input AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
				$7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[],
				$13::float8[], $14::bool[], $15::text[])
				AS t(key, message_id, request_id, session_id, model, ts, input_tokens, output_tokens,
					cache_write_5m, cache_write_1h, cache_read, total_tokens, cost, priced, agent_id)
		), old AS (
			SELECT u.session_id, u.ts FROM usage u JOIN input USING (key)
		), up AS (
			INSERT INTO usage (key, message_id, request_id, session_id, agent_id, model, ts, input_tokens, output_tokens,
				cache_write_5m, cache_write_1h, cache_read, total_tokens, cost)
			SELECT key, nullif(message_id, ''), nullif(request_id, ''), session_id, nullif(agent_id, ''), model,
				ts::timestamptz, input_tokens, output_tokens, cache_write_5m, cache_write_1h, cache_read, total_tokens,
				CASE WHEN priced THEN cost END
			FROM input
			ON CONFLICT (key) DO UPDATE SET
				session_id = excluded.session_id, agent_id = excluded.agent_id, model = excluded.model, ts = excluded.ts,
				input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
				cache_write_5m = excluded.cache_write_5m, cache_write_1h = excluded.cache_write_1h,
				cache_read = excluded.cache_read, total_tokens = excluded.total_tokens, cost = excluded.cost
			WHERE excluded.total_tokens > usage.total_tokens
				OR (excluded.total_tokens = usage.total_tokens AND (excluded.ts < usage.ts
					OR (excluded.ts = usage.ts AND excluded.session_id < usage.session_id)))
		)
		SELECT session_id, ts FROM old`
	rows, err := tx.QueryContext(ctx, q, pq.Array(keys), pq.Array(msgID), pq.Array(reqID), pq.Array(session),
		pq.Array(model), pq.Array(ts), pq.Array(in), pq.Array(out), pq.Array(cw5), pq.Array(cw1), pq.Array(cr),
		pq.Array(total), pq.Array(cost), pq.Array(priced), pq.Array(agent))
	if err != nil {
		return fmt.Errorf("save %d usage rows: %w", n, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var t time.Time
		if err := rows.Scan(&s, &t); err != nil {
			return fmt.Errorf("save %d usage rows: %w", n, err)
		}
		touched[s] = true
		quarters[quarterOf(s, t)] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("save %d usage rows: %w", n, err)
	}
	return nil
}

// refreshQuarters recomputes the sums of usage_quarters for the given
// sessions and quarter hours from the usage rows.
func refreshQuarters(ctx context.Context, tx *sql.Tx, qs map[quarter]bool) error {
	if len(qs) == 0 {
		return nil
	}
	all := make([]quarter, 0, len(qs))
	for q := range qs {
		all = append(all, q)
	}
	slices.SortFunc(all, func(a, b quarter) int {
		if c := strings.Compare(a.session, b.session); c != 0 {
			return c
		}
		return int(a.bucket - b.bucket)
	})
	sessions, buckets := make([]string, len(all)), make([]int64, len(all))
	for i, q := range all {
		sessions[i], buckets[i] = q.session, q.bucket
	}
	const del = `DELETE FROM usage_quarters q USING unnest($1::text[], $2::bigint[]) AS k(session_id, bucket)
		WHERE q.session_id = k.session_id AND q.bucket = k.bucket`
	if _, err := tx.ExecContext(ctx, del, pq.Array(sessions), pq.Array(buckets)); err != nil {
		return fmt.Errorf("clear %d usage sums: %w", len(all), err)
	}
	// Each session's rows are read once, over the span of its touched
	// quarters, and grouped by the quarter computed from their time.
	const ins = `WITH k AS (
			SELECT * FROM unnest($1::text[], $2::bigint[]) AS k(session_id, bucket)
		), span AS (
			SELECT session_id, min(bucket) AS lo, max(bucket) AS hi FROM k GROUP BY session_id
		), rows AS (
			SELECT u.*, floor(extract(epoch FROM u.ts) / $3)::bigint AS bucket
			FROM span JOIN usage u ON u.session_id = span.session_id
				AND u.ts >= to_timestamp(span.lo * $3) AND u.ts < to_timestamp((span.hi + 1) * $3)
		)
		INSERT INTO usage_quarters (session_id, bucket, model, input_tokens, output_tokens, cache_write_5m,
			cache_write_1h, cache_read, cost, unpriced, replies, last_ts)
		SELECT r.session_id, r.bucket, r.model, sum(r.input_tokens), sum(r.output_tokens), sum(r.cache_write_5m),
			sum(r.cache_write_1h), sum(r.cache_read), coalesce(sum(r.cost), 0), count(*) FILTER (WHERE r.cost IS NULL),
			count(*), max(r.ts)
		FROM rows r JOIN k ON k.session_id = r.session_id AND k.bucket = r.bucket
		GROUP BY r.session_id, r.bucket, r.model`
	if _, err := tx.ExecContext(ctx, ins, pq.Array(sessions), pq.Array(buckets), bucketSeconds); err != nil {
		return fmt.Errorf("sum usage of %d quarter hours: %w", len(all), err)
	}
	return nil
}

// refreshSessions recomputes the derived counts, title and totals of
// sessions, and tags those that have grown long (the tag is never taken
// away).
func refreshSessions(ctx context.Context, tx *sql.Tx, ids map[string]bool) error {
	if len(ids) == 0 {
		return nil
	}
	const q = `WITH up AS (UPDATE sessions s SET
		(messages, compactions) = (
			SELECT count(*), count(*) FILTER (WHERE m.subtype = 'compact_boundary')
			FROM messages m WHERE m.session_id = s.id),
		(tool_calls, tool_errors) = (
			SELECT count(*), count(*) FILTER (WHERE c.is_error) FROM tool_calls c WHERE c.session_id = s.id),
		subagents = (SELECT count(*) FROM subagents a WHERE a.session_id = s.id),
		title = coalesce(
			(SELECT su.summary FROM summaries su JOIN messages m ON m.uuid = su.leaf_uuid
				WHERE m.session_id = s.id ORDER BY m.ts DESC NULLS LAST, m.seq DESC, m.uuid LIMIT 1),
			(SELECT m.text FROM messages m WHERE m.session_id = s.id AND m.is_prompt AND m.agent_id IS NULL
				ORDER BY m.ts NULLS LAST, m.seq, m.uuid LIMIT 1),
			''),
		(input_tokens, output_tokens, cache_write_5m, cache_write_1h, cache_read, cost) = (
			SELECT coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cache_write_5m), 0),
				coalesce(sum(cache_write_1h), 0), coalesce(sum(cache_read), 0), coalesce(sum(cost), 0)
			FROM usage_quarters q WHERE q.session_id = s.id)
		WHERE s.id = ANY($1)
		RETURNING s.id, s.messages, s.first_at, s.last_at)
		INSERT INTO session_tags (session_id, tag)
		SELECT id, $2 FROM up WHERE messages >= $3 OR last_at - first_at >= $4::bigint * interval '1 millisecond'
		ON CONFLICT DO NOTHING`
	if _, err := tx.ExecContext(ctx, q, pq.Array(sortedKeys(ids)), store.TagLong, store.LongMessages,
		store.LongDuration.Milliseconds()); err != nil {
		return fmt.Errorf("update totals and tags of %d sessions: %w", len(ids), err)
	}
	return nil
}

// linkFiles notes which sessions each file holds.
func linkFiles(ctx context.Context, tx *sql.Tx, links []pair) error {
	if len(links) == 0 {
		return nil
	}
	sessions, paths := make([]string, len(links)), make([]string, len(links))
	for i, l := range links {
		sessions[i], paths[i] = l.a, l.b
	}
	const q = `INSERT INTO session_files (session_id, path) SELECT * FROM unnest($1::text[], $2::text[])
		ON CONFLICT DO NOTHING`
	if _, err := tx.ExecContext(ctx, q, pq.Array(sessions), pq.Array(paths)); err != nil {
		return fmt.Errorf("link %d sessions to their files: %w", len(links), err)
	}
	return nil
}

// saveSkipped records the group's skipped lines. A reset forgets the lines
// skipped in the file's earlier content; any read clears a whole-file error.
func saveSkipped(ctx context.Context, tx *sql.Tx, g *group) error {
	const del = `DELETE FROM skipped_lines WHERE path = ANY($1) AND (line = 0 OR path = ANY($2))`
	if _, err := tx.ExecContext(ctx, del, pq.Array(g.paths), pq.Array(g.reset)); err != nil {
		return fmt.Errorf("clear skipped lines: %w", err)
	}
	return insertSkipped(ctx, tx, g.skipped)
}

func insertSkipped(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, sks []store.Skipped) error {
	if len(sks) == 0 {
		return nil
	}
	type key struct {
		path string
		line int64
	}
	last := map[key]store.Skipped{}
	for _, sk := range sks {
		last[key{sk.Path, sk.Line}] = sk
	}
	n := len(last)
	path, reason, detail, at := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	line := make([]int64, 0, n)
	for _, sk := range last {
		path, line, reason, detail = append(path, sk.Path), append(line, sk.Line), append(reason, sk.Reason), append(detail, sk.Detail)
		at = append(at, timeText(sk.At))
	}
	const q = `INSERT INTO skipped_lines (path, line, reason, detail, at)
		SELECT path, line, reason, detail, coalesce(nullif(at, '')::timestamptz, 'epoch')
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS t(path, line, reason, detail, at)
		ON CONFLICT (path, line) DO UPDATE SET reason = excluded.reason, detail = excluded.detail, at = excluded.at`
	if _, err := ex.ExecContext(ctx, q, pq.Array(path), pq.Array(line), pq.Array(reason), pq.Array(detail), pq.Array(at)); err != nil {
		return fmt.Errorf("record %d skipped lines: %w", n, err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ms truncates a time to the millisecond, the precision stored by both
// drivers; the zero time stays zero (stored as NULL).
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Millisecond).UTC()
}

// timeText renders a time for a text array cast to timestamptz; the zero
// time is the empty string, turned into NULL by nullif.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ms(t).Format("2006-01-02T15:04:05.000Z07:00")
}

// nullTime is a time argument: NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

func fromNull(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
