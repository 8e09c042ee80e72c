package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/claude-insights/insights/store"
)

const pricesKey = "prices"

// Reprice recomputes every reply's cost when the prices changed.
func (db *DB) Reprice(ctx context.Context, fingerprint string, cost store.CostFunc) (bool, error) {
	var stored string
	err := db.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, pricesKey).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("read price fingerprint: %w", err)
	}
	if stored == fingerprint {
		return false, nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
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
	type row struct {
		key, model string
		tok        store.Tokens
	}
	rows, err := tx.QueryContext(ctx, `SELECT key, model, input_tokens, output_tokens, cache_write_5m, cache_write_1h, cache_read FROM usage`)
	if err != nil {
		return err
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.key, &r.model, &r.tok.Input, &r.tok.Output, &r.tok.CacheWrite5m, &r.tok.CacheWrite1h, &r.tok.CacheRead); err != nil {
			rows.Close()
			return err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	upd, err := tx.PrepareContext(ctx, `UPDATE usage SET cost = ? WHERE key = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	for _, r := range all {
		var v any
		if c, ok := cost(r.model, r.tok); ok {
			v = c
		}
		if _, err := upd.ExecContext(ctx, v, r.key); err != nil {
			return fmt.Errorf("update cost of %s: %w", r.key, err)
		}
	}
	const rebuild = `DELETE FROM usage_quarters;
		INSERT INTO usage_quarters (session_id, bucket, model, input_tokens, output_tokens, cache_write_5m,
			cache_write_1h, cache_read, cost, unpriced, replies, last_ts)
		SELECT session_id, ts / 900000, model, sum(input_tokens), sum(output_tokens), sum(cache_write_5m),
			sum(cache_write_1h), sum(cache_read), coalesce(sum(cost), 0), sum(cost IS NULL), count(*), max(ts)
		FROM usage GROUP BY session_id, ts / 900000, model;
		UPDATE sessions SET cost = coalesce((SELECT sum(cost) FROM usage_quarters q WHERE q.session_id = sessions.id), 0);
		UPDATE export_days SET version = (SELECT max(version) FROM export_days) + 1;`
	if _, err := tx.ExecContext(ctx, rebuild); err != nil {
		return fmt.Errorf("rebuild usage sums: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, pricesKey, fingerprint)
	return err
}
