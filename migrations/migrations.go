// Package migrations embeds the schema migrations of both databases, applied
// at start with golang-migrate.
package migrations

import "embed"

// SQLite holds the migrations of the SQLite schema, in sqlite/. Landed
// migrations are never edited. Each one from 0002 on ends with
// `UPDATE schema_migrations SET version = N, dirty = 0;`, so that it records
// itself in its own transaction and a crash never leaves it half-marked.
//
//go:embed sqlite/*.sql
var SQLite embed.FS
