// Package sqlite implements store.Driver on an SQLite file: WAL journal, one
// writer connection with immediate transactions, readers on their own pool.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/golang-migrate/migrate/v4"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite3"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/claude-insights/insights/migrations"
	"github.com/claude-insights/insights/store"
)

// DB is a store.Driver over one SQLite file.
type DB struct {
	path string
	w    *sql.DB // the single writer
	r    *sql.DB // readers
}

var _ store.Driver = (*DB)(nil)

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create database directory %s: %w", dir, err)
		}
	}
	if err := migrateUp(path); err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite3", dsn(path, url.Values{
		"_txlock":      {"immediate"},
		"_synchronous": {"NORMAL"},
	}))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite3", dsn(path, url.Values{"_query_only": {"1"}}))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(max(4, runtime.NumCPU()))
	db := &DB{path: path, w: w, r: r}
	if err := w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

func dsn(path string, extra url.Values) string {
	q := url.Values{
		"_journal_mode": {"WAL"},
		"_busy_timeout": {"10000"},
		"_foreign_keys": {"on"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// migrateUp applies the embedded migrations on a connection of its own,
// because golang-migrate closes the database it was handed.
func migrateUp(path string) error {
	unlock, err := lockFile(path)
	if err != nil {
		return err
	}
	defer unlock()
	conn, err := sql.Open("sqlite3", dsn(path, nil))
	if err != nil {
		return fmt.Errorf("open %s for migration: %w", path, err)
	}
	drv, err := migratesqlite.WithInstance(conn, &migratesqlite.Config{})
	if err != nil {
		conn.Close()
		return fmt.Errorf("migrate %s: %w", path, err)
	}
	src, err := iofs.New(migrations.SQLite, "sqlite")
	if err != nil {
		drv.Close()
		return fmt.Errorf("read migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "sqlite3", drv)
	if err != nil {
		drv.Close()
		return fmt.Errorf("migrate %s: %w", path, err)
	}
	defer m.Close()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate %s: %w", path, err)
	}
	return nil
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close closes both connection pools.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}
