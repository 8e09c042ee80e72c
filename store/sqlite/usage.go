package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/claude-insights/insights/store"
)

// UsageBuckets sums usage per quarter hour, session and model.
func (db *DB) UsageBuckets(ctx context.Context, f store.UsageFilter) ([]store.UsageBucket, error) {
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where = append(where, "u.ts >= ?")
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where = append(where, "u.ts < ?")
		args = append(args, f.Until.UnixMilli())
	}
	if f.Project != "" {
		where = append(where, "(s.project = ? OR s.project LIKE ? ESCAPE '\\')")
		args = append(args, f.Project, "%/"+escapeLike(f.Project))
	}
	q := `SELECT u.ts / ? AS bucket, u.session_id, coalesce(s.project, ''), u.model,
			sum(u.input_tokens), sum(u.output_tokens), sum(u.cache_write_5m), sum(u.cache_write_1h),
			sum(u.cache_read), coalesce(sum(u.cost), 0), sum(u.cost IS NULL), count(*), max(u.ts)
		FROM usage u LEFT JOIN sessions s ON s.id = u.session_id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += ` GROUP BY bucket, u.session_id, s.project, u.model ORDER BY bucket, u.session_id, u.model`
	size := store.BucketSize.Milliseconds()
	rows, err := db.r.QueryContext(ctx, q, append([]any{size}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("query usage: %w", err)
	}
	defer rows.Close()
	var out []store.UsageBucket
	for rows.Next() {
		var b store.UsageBucket
		var bucket, last int64
		if err := rows.Scan(&bucket, &b.SessionID, &b.Project, &b.Model, &b.Input, &b.Output, &b.CacheWrite5m,
			&b.CacheWrite1h, &b.CacheRead, &b.Cost, &b.Unpriced, &b.Replies, &last); err != nil {
			return nil, fmt.Errorf("read usage: %w", err)
		}
		b.Start = time.UnixMilli(bucket * size).UTC()
		b.LastAt = time.UnixMilli(last).UTC()
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
