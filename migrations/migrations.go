// Package migrations embeds the schema migrations of both databases, applied
// at start with golang-migrate (Up, shared by both drivers).
package migrations

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4/database"
)

// SQLite holds the migrations of the SQLite schema, in sqlite/. Landed
// migrations are never edited. Each one from 0002 on ends with
// `UPDATE schema_migrations SET version = N, dirty = 0;`, so that it records
// itself in its own transaction and a crash never leaves it half-marked.
//
//go:embed sqlite/*.sql
var SQLite embed.FS

// Postgres holds the migrations of the PostgreSQL schema, in postgres/: the
// same versions with the same meaning as the SQLite ones, in PostgreSQL's
// types. Every one ends with `UPDATE schema_migrations SET version = N,
// dirty = false;`.
//
//go:embed postgres/*.sql
var Postgres embed.FS

// Latest is the version of the newest migration in dir of fsys.
func Latest(fsys fs.FS, dir string) (uint, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return 0, fmt.Errorf("read migrations: %w", err)
	}
	var latest uint
	for _, e := range entries {
		prefix, _, _ := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseUint(prefix, 10, 64); err == nil {
			latest = max(latest, uint(v))
		}
	}
	return latest, nil
}

// Name is the name of the migration of a version ("0002_incremental"), or
// the bare number when there is none.
func Name(fsys fs.FS, dir string, version uint) string {
	entries, _ := fs.ReadDir(fsys, dir)
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".up.sql")
		prefix, _, _ := strings.Cut(name, "_")
		if v, err := strconv.ParseUint(prefix, 10, 64); ok && err == nil && uint(v) == version {
			return name
		}
	}
	return strconv.FormatUint(uint64(version), 10)
}

// Failed explains a migration that could not be applied: which one, what
// the database said, and how to recover. Each migration runs in one
// transaction, so a failed one left nothing behind.
func Failed(fsys fs.FS, dir string, version uint, err error) error {
	// The driver's error quotes the whole migration; what the database said
	// is enough, with the line.
	var de *database.Error
	if errors.As(err, &de) && de.OrigErr != nil {
		err = de.OrigErr
		if de.Line > 0 {
			err = fmt.Errorf("%w (line %d of the migration)", de.OrigErr, de.Line)
		}
	}
	hint := "fix the cause and start insights again, which retries it"
	if strings.Contains(err.Error(), "no such module: fts5") {
		hint = "this insights was built without SQLite's full-text search: build it with `make build` " +
			"(or `go build -tags sqlite_fts5`)"
	}
	return fmt.Errorf("migration %s failed, and nothing of it was applied (the database stays at version %d): %w; %s",
		Name(fsys, dir, version), version-1, err, hint)
}
