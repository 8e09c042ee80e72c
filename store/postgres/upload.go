package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/claude-insights/insights/store"
)

// ApplyUploads writes uploaded batches of several users and files in one
// transaction: those that continue their file and name no other user's
// session; the others get their error in errs.
func (db *DB) ApplyUploads(ctx context.Context, ups []store.UploadBatch) ([]error, error) {
	errs := make([]error, len(ups))
	if len(ups) == 0 {
		return errs, nil
	}
	for _, u := range ups {
		if u.Batch == nil || u.Batch.File.Path == "" || u.UserID == 0 {
			return nil, errors.New("upload: a batch names no file or no user")
		}
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin uploads: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := db.uploadTx(ctx, tx, ups, errs); err != nil {
		return nil, fmt.Errorf("write %d uploaded batches of %s: %w", len(ups), ups[0].Batch.File.Path, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit uploads: %w", err)
	}
	return errs, nil
}

func (db *DB) uploadTx(ctx context.Context, tx *sql.Tx, ups []store.UploadBatch, errs []error) error {
	// The write lock orders uploads of the same file: the offsets read
	// under it are those the batches must continue.
	if _, err := tx.ExecContext(ctx, writeLock); err != nil {
		return fmt.Errorf("lock for writing: %w", err)
	}
	offsets, owners, err := uploadState(ctx, tx, ups)
	if err != nil {
		return err
	}
	var kept []*store.Batch
	users := map[int64][]*store.Batch{}
	for i, u := range ups {
		if errs[i] = checkUpload(u, offsets, owners); errs[i] != nil {
			continue
		}
		for _, id := range uploadSessions(u.Batch) {
			owners[id] = u.UserID // a later batch of the group may not take it
		}
		offsets[u.Batch.File.Path] = u.Batch.File.Offset
		kept = append(kept, u.Batch)
		users[u.UserID] = append(users[u.UserID], u.Batch)
	}
	if len(kept) == 0 {
		return nil
	}
	if err := db.applyTx(ctx, tx, newGroup(kept)); err != nil {
		return err
	}
	for _, user := range slices.Sorted(maps.Keys(users)) {
		var ids []string
		for _, b := range users[user] {
			ids = append(ids, uploadSessions(b)...)
		}
		days, err := uploadDays(ctx, tx, users[user])
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET user_id = $1 WHERE id = ANY($2) AND user_id IS NULL`,
			user, pq.Array(ids)); err != nil {
			return fmt.Errorf("owner of sessions: %w", err)
		}
		if err := refreshAggregates(ctx, tx, user, days); err != nil {
			return err
		}
	}
	return nil
}

// uploadState reads, under the write lock, where the uploaded files end and
// who owns the sessions the batches name.
func uploadState(ctx context.Context, tx *sql.Tx, ups []store.UploadBatch) (map[string]int64, map[string]int64, error) {
	paths, ids := map[string]bool{}, map[string]bool{}
	for _, u := range ups {
		paths[u.Batch.File.Path] = true
		for _, id := range uploadSessions(u.Batch) {
			ids[id] = true
		}
	}
	offsets := map[string]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT path, "offset" FROM ingest_files WHERE path = ANY($1)`, pq.Array(sortedKeys(paths)))
	if err != nil {
		return nil, nil, fmt.Errorf("offsets: %w", err)
	}
	if err := scanPairs(rows, offsets); err != nil {
		return nil, nil, fmt.Errorf("offsets: %w", err)
	}
	owners := map[string]int64{}
	rows, err = tx.QueryContext(ctx, `SELECT id, user_id FROM sessions WHERE id = ANY($1) AND user_id IS NOT NULL`,
		pq.Array(sortedKeys(ids)))
	if err != nil {
		return nil, nil, fmt.Errorf("owners of sessions: %w", err)
	}
	if err := scanPairs(rows, owners); err != nil {
		return nil, nil, fmt.Errorf("owners of sessions: %w", err)
	}
	return offsets, owners, nil
}

func scanPairs(rows *sql.Rows, into map[string]int64) error {
	defer rows.Close()
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		into[k] = v
	}
	return rows.Err()
}

// checkUpload says why a batch may not be written: its file ends elsewhere,
// or it names a session of another user.
func checkUpload(u store.UploadBatch, offsets, owners map[string]int64) error {
	if stored := offsets[u.Batch.File.Path]; stored != u.Start {
		return &store.UploadConflict{Offset: stored,
			Msg: fmt.Sprintf("the server has this file up to byte %d, not %d: send from there", stored, u.Start)}
	}
	for _, id := range uploadSessions(u.Batch) {
		if owner, ok := owners[id]; ok && owner != u.UserID {
			return fmt.Errorf("%w: session %s was uploaded by another user", store.ErrForbidden, id)
		}
	}
	return nil
}

// uploadSessions lists the sessions rows of a batch belong to.
func uploadSessions(b *store.Batch) []string {
	set := map[string]bool{}
	for _, s := range b.Sessions {
		set[s.ID] = true
	}
	for _, m := range b.Messages {
		set[m.SessionID] = true
	}
	for _, u := range b.Usage {
		set[u.SessionID] = true
	}
	for _, u := range b.ToolUses {
		set[u.SessionID] = true
	}
	return sortedKeys(set)
}

// uploadDays lists the UTC days whose aggregates batches change: those of
// their messages, replies and calls, and those of the calls their results
// end.
func uploadDays(ctx context.Context, tx *sql.Tx, bs []*store.Batch) ([]string, error) {
	set := map[string]bool{}
	add := func(t time.Time) {
		if !t.IsZero() {
			set[t.UTC().Format(time.DateOnly)] = true
		}
	}
	var results []string
	for _, b := range bs {
		for _, m := range b.Messages {
			add(m.Timestamp)
		}
		for _, u := range b.Usage {
			add(u.Timestamp)
		}
		for _, u := range b.ToolUses {
			add(u.At)
		}
		for _, r := range b.ToolResults {
			results = append(results, r.ToolUseID)
		}
	}
	if len(results) > 0 {
		calls, err := queryAll(ctx, tx, func(r *sql.Rows) (time.Time, error) {
			var t time.Time
			return t, r.Scan(&t)
		}, `SELECT DISTINCT started_at FROM tool_calls WHERE id = ANY($1) AND started_at IS NOT NULL`, pq.Array(results))
		if err != nil {
			return nil, fmt.Errorf("days of calls: %w", err)
		}
		for _, t := range calls {
			add(t)
		}
	}
	return sortedKeys(set), nil
}

// aggregateSources selects a user's ($1) rows of some UTC days ($2, from
// $3 to $4) from the sessions active then.
const aggregateSources = `
	own AS (SELECT id FROM sessions WHERE user_id = $1 AND first_at < $4 AND last_at >= $3),
	msg AS (SELECT (ts AT TIME ZONE 'UTC')::date AS day, session_id FROM messages
		WHERE session_id IN (SELECT id FROM own) AND ts >= $3 AND ts < $4 AND (ts AT TIME ZONE 'UTC')::date = ANY($2)),
	rep AS (SELECT (ts AT TIME ZONE 'UTC')::date AS day, * FROM usage
		WHERE session_id IN (SELECT id FROM own) AND ts >= $3 AND ts < $4 AND (ts AT TIME ZONE 'UTC')::date = ANY($2)),
	tc AS (SELECT (started_at AT TIME ZONE 'UTC')::date AS day, name AS tool, count(*) AS calls,
			count(*) FILTER (WHERE is_error) AS errors
		FROM tool_calls WHERE session_id IN (SELECT id FROM own) AND started_at >= $3 AND started_at < $4
			AND (started_at AT TIME ZONE 'UTC')::date = ANY($2)
		GROUP BY 1, 2)`

// refreshAggregates recomputes daily_stats, tool_usage, usage_stats and
// hour_stats of a user's days
// from the rows stored: the result is the same however often and in
// whatever order the rows came.
func refreshAggregates(ctx context.Context, tx *sql.Tx, userID int64, days []string) error {
	if len(days) == 0 {
		return nil
	}
	lo, err := time.Parse(time.DateOnly, days[0])
	if err != nil {
		return err
	}
	hi, err := time.Parse(time.DateOnly, slices.Max(days))
	if err != nil {
		return err
	}
	args := []any{userID, pq.Array(days), lo, hi.AddDate(0, 0, 1)}
	const daily = `INSERT INTO daily_stats (user_id, day, sessions, messages, replies, input_tokens, output_tokens,
			cache_write_5m, cache_write_1h, cache_read, cost, tool_calls, tool_errors, top_tools)
		WITH ` + aggregateSources + `,
		act AS (SELECT day, count(DISTINCT session_id) AS n
			FROM (SELECT day, session_id FROM msg UNION ALL SELECT day, session_id FROM rep) x GROUP BY day),
		mc AS (SELECT day, count(*) AS n FROM msg GROUP BY day),
		uc AS (SELECT day, count(*) AS n, sum(input_tokens) AS i, sum(output_tokens) AS o, sum(cache_write_5m) AS w5,
				sum(cache_write_1h) AS w1, sum(cache_read) AS r, sum(coalesce(cost, 0)) AS cost
			FROM rep GROUP BY day),
		ranked AS (SELECT *, row_number() OVER (PARTITION BY day ORDER BY calls DESC, tool) AS rank FROM tc),
		tt AS (SELECT day, sum(calls) AS calls, sum(errors) AS errors,
				jsonb_agg(jsonb_build_object('tool', tool, 'calls', calls, 'errors', errors) ORDER BY rank)
					FILTER (WHERE rank <= 5) AS top
			FROM ranked GROUP BY day)
		SELECT $1, d.day, coalesce(act.n, 0), coalesce(mc.n, 0), coalesce(uc.n, 0), coalesce(uc.i, 0),
			coalesce(uc.o, 0), coalesce(uc.w5, 0), coalesce(uc.w1, 0), coalesce(uc.r, 0), coalesce(uc.cost, 0),
			coalesce(tt.calls, 0), coalesce(tt.errors, 0), coalesce(tt.top, '[]')
		FROM unnest($2::date[]) AS d(day) LEFT JOIN act USING (day) LEFT JOIN mc USING (day)
			LEFT JOIN uc USING (day) LEFT JOIN tt USING (day)
		WHERE act.n IS NOT NULL OR tt.calls IS NOT NULL`
	const tools = `INSERT INTO tool_usage (user_id, day, tool, calls, errors)
		WITH ` + aggregateSources + `
		SELECT $1, day, tool, calls, errors FROM tc`
	const usage = `INSERT INTO usage_stats (user_id, day, project, model, subagent, agent_type, replies, input_tokens,
			output_tokens, cache_write_5m, cache_write_1h, cache_read, cost)
		WITH ` + aggregateSources + `
		SELECT $1, r.day, s.project, r.model, coalesce(r.agent_id, '') <> '',
			CASE WHEN coalesce(r.agent_id, '') = '' THEN '' ELSE coalesce(c.input->>'subagent_type', '') END,
			count(*), sum(r.input_tokens), sum(r.output_tokens), sum(r.cache_write_5m), sum(r.cache_write_1h),
			sum(r.cache_read), sum(coalesce(r.cost, 0))
		FROM rep r JOIN sessions s ON s.id = r.session_id
			LEFT JOIN subagents a ON coalesce(r.agent_id, '') <> '' AND a.session_id = r.session_id AND a.agent_id = r.agent_id
			LEFT JOIN tool_calls c ON c.id = a.tool_use_id
		GROUP BY 2, 3, 4, 5, 6`
	const hours = `INSERT INTO hour_stats (user_id, day, hour, replies, tokens)
		WITH ` + aggregateSources + `
		SELECT $1, day, extract(hour FROM ts AT TIME ZONE 'UTC')::smallint, count(*),
			sum(input_tokens + output_tokens + cache_write_5m + cache_write_1h + cache_read)
		FROM rep GROUP BY 2, 3`
	for _, q := range []string{
		`DELETE FROM daily_stats WHERE user_id = $1 AND day = ANY($2::date[])`,
		`DELETE FROM tool_usage WHERE user_id = $1 AND day = ANY($2::date[])`,
		`DELETE FROM usage_stats WHERE user_id = $1 AND day = ANY($2::date[])`,
		`DELETE FROM hour_stats WHERE user_id = $1 AND day = ANY($2::date[])`,
		daily, tools, usage, hours,
	} {
		a := args
		if strings.HasPrefix(q, "DELETE") {
			a = args[:2]
		}
		if _, err := tx.ExecContext(ctx, q, a...); err != nil {
			return fmt.Errorf("aggregates of %d days: %w", len(days), err)
		}
	}
	return nil
}

// DailyStats returns the aggregates of the days a query selects.
func (db *DB) DailyStats(ctx context.Context, q store.StatsQuery) ([]store.DailyStat, error) {
	var a args
	where := statsWhere(&a, q, "d")
	out, err := queryAll(ctx, db.db, func(r *sql.Rows) (store.DailyStat, error) {
		var s store.DailyStat
		err := r.Scan(&s.UserID, &s.User, &s.Day, &s.Sessions, &s.Messages, &s.Replies, &s.Input, &s.Output,
			&s.CacheWrite5m, &s.CacheWrite1h, &s.CacheRead, &s.Cost, &s.ToolCalls, &s.ToolErrors)
		s.Day, s.Cost = s.Day.UTC(), store.RoundCost(s.Cost)
		return s, err
	}, `SELECT d.user_id, u.name, d.day, d.sessions, d.messages, d.replies, d.input_tokens, d.output_tokens,
			d.cache_write_5m, d.cache_write_1h, d.cache_read, d.cost, d.tool_calls, d.tool_errors
		FROM daily_stats d JOIN users u ON u.id = d.user_id`+where+` ORDER BY d.day, u.name`, a...)
	if err != nil {
		return nil, fmt.Errorf("daily stats: %w", err)
	}
	return out, nil
}

// ToolStats sums tool_usage over the days a query selects.
func (db *DB) ToolStats(ctx context.Context, q store.StatsQuery) ([]store.ToolStat, error) {
	var a args
	where := statsWhere(&a, q, "t")
	out, err := queryAll(ctx, db.db, func(r *sql.Rows) (store.ToolStat, error) {
		var s store.ToolStat
		return s, r.Scan(&s.Tool, &s.Calls, &s.Errors)
	}, `SELECT t.tool, sum(t.calls)::bigint, sum(t.errors)::bigint FROM tool_usage t`+where+`
		GROUP BY t.tool ORDER BY 2 DESC, 1`, a...)
	if err != nil {
		return nil, fmt.Errorf("tool stats: %w", err)
	}
	return out, nil
}

func statsWhere(a *args, q store.StatsQuery, alias string) string {
	var where []string
	if !q.Since.IsZero() {
		where = append(where, alias+`.day >= `+a.add(q.Since.UTC().Format(time.DateOnly))+`::date`)
	}
	if !q.Until.IsZero() {
		where = append(where, alias+`.day < `+a.add(q.Until.UTC().Format(time.DateOnly))+`::date`)
	}
	if q.UserID != 0 {
		where = append(where, alias+`.user_id = `+a.add(q.UserID))
	}
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}
