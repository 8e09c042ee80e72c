// Package sqlite implements store.Driver on an SQLite file: WAL journal, one
// writer connection with immediate transactions, readers on their own pool.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite3"
	sqlite3 "github.com/mattn/go-sqlite3" // also registers the "sqlite3" driver

	"github.com/claude-insights/insights/migrations"
	"github.com/claude-insights/insights/store"
)

// readerMmap is how much of the file a reader maps into memory. Reading
// pages from the map rather than through read calls takes a third off
// queries that visit many rows (a search of a common word filtered by role
// on the 420 MB database of a 250 MB tree: 50 ms to 37 ms); the mapped
// pages are the system's file cache, shared, not memory of the process's own.
const readerMmap = 1 << 30

func init() {
	sql.Register("sqlite3_reader", &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(fmt.Sprintf("PRAGMA mmap_size = %d", readerMmap), nil)
		return err
	}})
}

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
		"_cache_size":  {"-16384"},
	}))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite3_reader", dsn(path, url.Values{"_query_only": {"1"}}))
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

// migrateUp brings the schema of the database at path up to date, so that
// a process killed at any moment leaves a database the next one can open:
// a new database is built under a temporary name and renamed into place,
// and an existing one left dirty by a cut-off migration is repaired first.
// Processes opening one database migrate it one at a time.
func migrateUp(path string) error {
	if upToDate(path) {
		return nil // the common case: no write, no lock
	}
	unlock, err := lockFile(path)
	if err != nil {
		return err
	}
	defer unlock()
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if fi.Size() > 0 {
		return migrateFile(path, "WAL")
	}
	tmp := path + ".new"
	for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("create %s: %w", path, err)
		}
	}
	if err := createFile(tmp); err != nil {
		return err
	}
	// A rollback journal, not WAL, while building: the file is complete once
	// closed, ready to be renamed.
	if err := migrateFile(tmp, "DELETE"); err != nil {
		return err
	}
	// WAL from the start: otherwise the first processes to open the new
	// database race to switch its journal, which takes an exclusive lock
	// and fails with "database is locked" instead of waiting.
	if err := setJournal(tmp, "WAL"); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// pageSize is the page size of new databases. Messages and tool results are
// often several kilobytes: with 16 KiB pages fewer of them spill into
// overflow chains, and a cold import takes about a tenth less CPU than with
// SQLite's default of 4 KiB.
const pageSize = 16384

// createFile creates an empty database file with our page size, which is
// fixed once the first page is written.
func createFile(path string) error {
	conn, err := sql.Open("sqlite3", dsn(path, url.Values{"_journal_mode": {"DELETE"}}))
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer conn.Close()
	for _, q := range []string{fmt.Sprintf("PRAGMA page_size = %d", pageSize), "VACUUM"} {
		if _, err := conn.Exec(q); err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
	}
	return conn.Close()
}

// setJournal switches the database at path to a journal mode. Closing the
// only connection checkpoints a WAL and removes its files, so the database
// stays a single file.
func setJournal(path, mode string) error {
	conn, err := sql.Open("sqlite3", dsn(path, url.Values{"_journal_mode": {mode}}))
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer conn.Close()
	var got string
	if err := conn.QueryRow("PRAGMA journal_mode").Scan(&got); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if !strings.EqualFold(got, mode) {
		return fmt.Errorf("create %s: journal mode is %s, want %s", path, got, mode)
	}
	return conn.Close()
}

// upToDate reports whether the database at path exists and has every
// embedded migration applied, read without taking any write lock.
func upToDate(path string) bool {
	latest, err := migrations.Latest(migrations.SQLite, "sqlite")
	if err != nil {
		return false
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return false
	}
	conn, err := sql.Open("sqlite3", dsn(path, url.Values{"mode": {"ro"}}))
	if err != nil {
		return false
	}
	defer conn.Close()
	var version int64
	var dirty bool
	err = conn.QueryRow(`SELECT version, dirty FROM schema_migrations`).Scan(&version, &dirty)
	return err == nil && !dirty && uint(version) == latest
}

// migrateFile applies the embedded migrations on a connection of its own,
// because golang-migrate closes the database it was handed.
func migrateFile(path, journal string) error {
	conn, err := sql.Open("sqlite3", dsn(path, url.Values{"_journal_mode": {journal}}))
	if err != nil {
		return fmt.Errorf("open %s for migration: %w", path, err)
	}
	drv, err := migratesqlite.WithInstance(conn, &migratesqlite.Config{})
	if err != nil {
		conn.Close()
		return fmt.Errorf("migrate %s: %w", path, err)
	}
	if err := migrations.Up(drv, "sqlite3", migrations.SQLite, "sqlite", version1Applied(conn)); err != nil {
		return fmt.Errorf("migrate %s: %w", path, err)
	}
	return nil
}

// version1Applied tells whether migration 1, which does not record itself
// as applied, was: its tables show it.
func version1Applied(conn *sql.DB) func(uint) (bool, error) {
	return func(v uint) (bool, error) {
		if v != 1 {
			return false, nil
		}
		var n int
		err := conn.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'usage_quarters'`).Scan(&n)
		return n == 1, err
	}
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close closes both connection pools.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}
