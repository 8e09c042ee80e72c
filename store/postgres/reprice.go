package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/claude-insights/insights/store"
)

const pricesKey = "prices"

// Reprice recomputes every reply's cost when the prices changed.
func (db *DB) Reprice(ctx context.Context, fingerprint string, cost store.CostFunc) (bool, error) {
	var stored string
	err := db.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, pricesKey).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("read price fingerprint: %w", err)
	}
	if stored == fingerprint {
		return false, nil
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin repricing: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := repriceTx(ctx, tx, fingerprint, cost); err != nil {
		return false, fmt.Errorf("reprice: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit repricing: %w", err)
	}
	return true, nil
}

func repriceTx(ctx context.Context, tx *sql.Tx, fingerprint string, cost store.CostFunc) error {
	if _, err := tx.ExecContext(ctx, writeLock); err != nil {
		return fmt.Errorf("lock for writing: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT key, model, input_tokens, output_tokens, cache_write_5m, cache_write_1h, cache_read
		FROM usage ORDER BY key`)
	if err != nil {
		return err
	}
	var keys []string
	var costs []float64
	var priced []bool
	for rows.Next() {
		var key, model string
		var t store.Tokens
		if err := rows.Scan(&key, &model, &t.Input, &t.Output, &t.CacheWrite5m, &t.CacheWrite1h, &t.CacheRead); err != nil {
			rows.Close()
			return err
		}
		c, ok := cost(model, t)
		keys, costs, priced = append(keys, key), append(costs, c), append(priced, ok)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	const upd = `UPDATE usage u SET cost = CASE WHEN v.priced THEN v.cost END
		FROM unnest($1::text[], $2::float8[], $3::bool[]) AS v(key, cost, priced) WHERE u.key = v.key`
	if _, err := tx.ExecContext(ctx, upd, pq.Array(keys), pq.Array(costs), pq.Array(priced)); err != nil {
		return fmt.Errorf("update costs: %w", err)
	}
	const rebuild = `DELETE FROM usage_quarters;
		INSERT INTO usage_quarters (session_id, bucket, model, input_tokens, output_tokens, cache_write_5m,
			cache_write_1h, cache_read, cost, unpriced, replies, last_ts)
		SELECT session_id, floor(extract(epoch FROM ts) / 900)::bigint AS bucket, model, sum(input_tokens),
			sum(output_tokens), sum(cache_write_5m), sum(cache_write_1h), sum(cache_read), coalesce(sum(cost), 0),
			count(*) FILTER (WHERE cost IS NULL), count(*), max(ts)
		FROM usage GROUP BY session_id, bucket, model;
		UPDATE sessions SET cost = coalesce((SELECT sum(cost) FROM usage_quarters q WHERE q.session_id = sessions.id), 0);
		UPDATE export_days SET version = (SELECT max(version) FROM export_days) + 1;`
	if _, err := tx.ExecContext(ctx, rebuild); err != nil {
		return fmt.Errorf("rebuild usage sums: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, pricesKey, fingerprint)
	return err
}
