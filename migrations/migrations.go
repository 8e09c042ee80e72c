// Package migrations embeds the schema migrations of both databases, applied
// at start with golang-migrate.
package migrations

import "embed"

// SQLite holds the migrations of the SQLite schema, in sqlite/.
//
//go:embed sqlite/*.sql
var SQLite embed.FS
