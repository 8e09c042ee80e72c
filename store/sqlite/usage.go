package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/claude-insights/insights/store"
)

// UsageSums sums the quarter-hour usage sums per model and per local day or
// session, in one pass inside the database.
func (db *DB) UsageSums(ctx context.Context, uq store.UsageQuery) ([]store.UsageSum, error) {
	where, args := usageWhere(uq)
	var q string
	if uq.BySession {
		q = `SELECT 0, q.session_id, coalesce(s.project, ''), q.model, ` + usageColumns + `
			FROM usage_quarters q LEFT JOIN sessions s ON s.id = q.session_id` + where + `
			GROUP BY q.session_id, q.model
			ORDER BY q.session_id, q.model`
	} else {
		offset, oargs := offsetExpr(uq.Zone)
		q = `SELECT (q.bucket * 900 + ` + offset + `) / 86400 AS day, '', '', q.model, ` + usageColumns + `
			FROM usage_quarters q` + joinIfProject(uq) + where + `
			GROUP BY day, q.model
			ORDER BY day, q.model`
		args = append(oargs, args...)
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query usage: %w", err)
	}
	defer rows.Close()
	var out []store.UsageSum
	for rows.Next() {
		var u store.UsageSum
		var day, last int64
		if err := rows.Scan(&day, &u.SessionID, &u.Project, &u.Model, &u.Input, &u.Output, &u.CacheWrite5m,
			&u.CacheWrite1h, &u.CacheRead, &u.Cost, &u.Unpriced, &u.Replies, &last); err != nil {
			return nil, fmt.Errorf("read usage: %w", err)
		}
		if !uq.BySession {
			u.Day = time.Unix(day*86400, 0).UTC()
		}
		u.Cost = store.RoundCost(u.Cost)
		u.LastAt = time.UnixMilli(last).UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	return out, nil
}

const usageColumns = `sum(q.input_tokens), sum(q.output_tokens), sum(q.cache_write_5m), sum(q.cache_write_1h),
	sum(q.cache_read), sum(q.cost), sum(q.unpriced), sum(q.replies), max(q.last_ts)`

func joinIfProject(uq store.UsageQuery) string {
	if uq.Project == "" && uq.UserID == 0 {
		return ""
	}
	return " JOIN sessions s ON s.id = q.session_id"
}

func usageWhere(uq store.UsageQuery) (string, []any) {
	var where []string
	var args []any
	if !uq.Since.IsZero() {
		where = append(where, "q.bucket >= ?")
		args = append(args, store.BucketCeil(uq.Since))
	}
	if !uq.Until.IsZero() {
		where = append(where, "q.bucket < ?")
		args = append(args, store.BucketCeil(uq.Until))
	}
	if uq.Project != "" {
		where = append(where, `(s.project = ? OR s.project LIKE ? ESCAPE '\')`)
		args = append(args, uq.Project, "%/"+escapeLike(uq.Project))
	}
	if uq.UserID != 0 {
		where = append(where, "s.user_id = ?")
		args = append(args, uq.UserID)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// offsetExpr is an SQL expression giving, for the row's q.bucket, the local
// offset from UTC in seconds.
func offsetExpr(zone []store.ZoneShift) (string, []any) {
	switch len(zone) {
	case 0:
		return "0", nil
	case 1:
		return "?", []any{int64(zone[0].Offset.Seconds())}
	}
	var b strings.Builder
	var args []any
	b.WriteString("CASE")
	for i := len(zone) - 1; i > 0; i-- {
		b.WriteString(" WHEN q.bucket >= ? THEN ?")
		args = append(args, store.BucketCeil(zone[i].From), int64(zone[i].Offset.Seconds()))
	}
	b.WriteString(" ELSE ? END")
	args = append(args, int64(zone[0].Offset.Seconds()))
	return b.String(), args
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
