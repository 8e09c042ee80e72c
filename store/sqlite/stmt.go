package sqlite

import (
	"context"
	"database/sql"
)

// writeTx is an import transaction that prepares each statement text once:
// a transaction applies many batches, and SQLite compiling the same
// statements again for each of them was a tenth of a cold import. The
// statements live as long as the transaction; callers do not close them.
type writeTx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
}

func newWriteTx(tx *sql.Tx) *writeTx { return &writeTx{Tx: tx, stmts: map[string]*sql.Stmt{}} }

// PrepareContext returns the transaction's statement for q, prepared on first use.
func (t *writeTx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := t.stmts[q]; ok {
		return s, nil
	}
	s, err := t.Tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	t.stmts[q] = s
	return s, nil
}

// ExecContext runs one statement through PrepareContext.
func (t *writeTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	s, err := t.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// QueryRowContext runs one query through PrepareContext.
func (t *writeTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := t.PrepareContext(ctx, q)
	if err != nil {
		return t.Tx.QueryRowContext(ctx, q, args...) // reports the same error when scanned
	}
	return s.QueryRowContext(ctx, args...)
}
