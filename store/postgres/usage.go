package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/claude-insights/insights/store"
)

// UsageSums sums the quarter-hour usage sums per model and per local day or
// session, in one pass inside the database.
func (db *DB) UsageSums(ctx context.Context, uq store.UsageQuery) ([]store.UsageSum, error) {
	var a args
	var q string
	if uq.BySession {
		where := usageWhere(&a, uq)
		q = `SELECT 0::bigint, q.session_id, coalesce(s.project, ''), q.model, ` + usageColumns + `
			FROM usage_quarters q LEFT JOIN sessions s ON s.id = q.session_id` + where + `
			GROUP BY q.session_id, s.project, q.model
			ORDER BY q.session_id, q.model`
	} else {
		offset := offsetExpr(&a, uq.Zone)
		where := usageWhere(&a, uq)
		q = `SELECT (q.bucket * 900 + ` + offset + `) / 86400 AS day, '', '', q.model, ` + usageColumns + `
			FROM usage_quarters q` + joinIfProject(uq) + where + `
			GROUP BY day, q.model
			ORDER BY day, q.model`
	}
	rows, err := db.db.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, fmt.Errorf("query usage: %w", err)
	}
	defer rows.Close()
	var out []store.UsageSum
	for rows.Next() {
		var u store.UsageSum
		var day int64
		var last time.Time
		if err := rows.Scan(&day, &u.SessionID, &u.Project, &u.Model, &u.Input, &u.Output, &u.CacheWrite5m,
			&u.CacheWrite1h, &u.CacheRead, &u.Cost, &u.Unpriced, &u.Replies, &last); err != nil {
			return nil, fmt.Errorf("read usage: %w", err)
		}
		if !uq.BySession {
			u.Day = time.Unix(day*86400, 0).UTC()
		}
		u.Cost = store.RoundCost(u.Cost)
		u.LastAt = last.UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	return out, nil
}

const usageColumns = `sum(q.input_tokens)::bigint, sum(q.output_tokens)::bigint, sum(q.cache_write_5m)::bigint,
	sum(q.cache_write_1h)::bigint, sum(q.cache_read)::bigint, sum(q.cost), sum(q.unpriced)::bigint,
	sum(q.replies)::bigint, max(q.last_ts)`

// args collects query arguments and names their placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

func joinIfProject(uq store.UsageQuery) string {
	if uq.Project == "" && uq.UserID == 0 {
		return ""
	}
	return " JOIN sessions s ON s.id = q.session_id"
}

func usageWhere(a *args, uq store.UsageQuery) string {
	var where []string
	if !uq.Since.IsZero() {
		where = append(where, "q.bucket >= "+a.add(store.BucketCeil(uq.Since))+"::bigint")
	}
	if !uq.Until.IsZero() {
		where = append(where, "q.bucket < "+a.add(store.BucketCeil(uq.Until))+"::bigint")
	}
	if uq.Project != "" {
		where = append(where, `(s.project = `+a.add(uq.Project)+` OR s.project LIKE `+a.add("%/"+escapeLike(uq.Project))+` ESCAPE '\')`)
	}
	if uq.UserID != 0 {
		where = append(where, `s.user_id = `+a.add(uq.UserID))
	}
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// offsetExpr is an SQL expression giving, for the row's q.bucket, the local
// offset from UTC in seconds.
func offsetExpr(a *args, zone []store.ZoneShift) string {
	seconds := func(z store.ZoneShift) string { return a.add(int64(z.Offset.Seconds())) + "::bigint" }
	switch len(zone) {
	case 0:
		return "0"
	case 1:
		return seconds(zone[0])
	}
	var b strings.Builder
	b.WriteString("CASE")
	for i := len(zone) - 1; i > 0; i-- {
		b.WriteString(" WHEN q.bucket >= " + a.add(store.BucketCeil(zone[i].From)) + "::bigint")
		b.WriteString(" THEN " + seconds(zone[i]))
	}
	b.WriteString(" ELSE " + seconds(zone[0]) + " END")
	return b.String()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
