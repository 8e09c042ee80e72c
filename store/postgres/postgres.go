// Package postgres implements store.Driver on a PostgreSQL database through
// lib/pq. Every Apply is written with a constant number of statements
// whatever the number and size of its batches: they are merged into one, and
// rows travel as arrays unpacked with unnest.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	migratepg "github.com/golang-migrate/migrate/v4/database/postgres"
	"github.com/lib/pq"

	"github.com/claude-insights/insights/migrations"
	"github.com/claude-insights/insights/store"
)

// DB is a store.Driver over one PostgreSQL database (its current schema).
type DB struct {
	db *sql.DB
	// lz4 says the server compresses large values with lz4 on request
	// (PostgreSQL 14 and later, when built with it).
	lz4 bool
}

var _ store.Driver = (*DB)(nil)

// Options tune the connection pool.
type Options struct {
	// MaxConns is the most connections open at once; 0 means 8.
	MaxConns int
	// Dialer, when set, opens the network connections (tests count the
	// round trips through it).
	Dialer pq.Dialer
}

// Open connects to the database named by dsn (a postgres:// URL or
// key=value pairs) and brings its schema up to date.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	conns := opt.MaxConns
	if conns <= 0 {
		conns = 8
	}
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", Redact(dsn), err)
	}
	if opt.Dialer != nil {
		connector.Dialer(opt.Dialer)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", Redact(dsn), err)
	}
	if err := migrateUp(ctx, db, dsn); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", Redact(dsn), err)
	}
	var lz4 bool
	const q = `SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals))`
	if err := db.QueryRowContext(ctx, q).Scan(&lz4); err != nil {
		db.Close()
		return nil, fmt.Errorf("settings of %s: %w", Redact(dsn), err)
	}
	return &DB{db: db, lz4: lz4}, nil
}

// Close closes the connection pool.
func (db *DB) Close() error { return db.db.Close() }

// migrateUp applies the embedded migrations. Processes opening one database
// migrate it one at a time, under an advisory lock held on one connection.
func migrateUp(ctx context.Context, db *sql.DB, dsn string) error {
	latest, err := migrations.Latest(migrations.Postgres, "postgres")
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	const lockKey = `hashtext(current_schema() || ':insights-migrate')`
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("lock for migration: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lockKey+`)`) //nolint:errcheck // closing the connection unlocks too
	var version uint
	var dirty bool
	err = conn.QueryRowContext(ctx, `SELECT version, dirty FROM schema_migrations`).Scan(&version, &dirty)
	if err == nil && !dirty && version == latest {
		return nil // the common case
	}
	// golang-migrate closes the database it is handed: give it its own.
	mdb, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	mdb.SetMaxOpenConns(2)
	drv, err := migratepg.WithInstance(mdb, &migratepg.Config{})
	if err != nil {
		mdb.Close()
		return err
	}
	return migrations.Up(drv, "postgres", migrations.Postgres, "postgres", nil)
}
