// Package duckdb runs SQL in DuckDB, through Node.js and the
// @duckdb/node-api package, for tests that read what insights writes the
// way its users' tools do. `make duckdb` installs the package.
package duckdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Version is the @duckdb/node-api release the tests read with.
const Version = "1.5.6-r.1"

// DB runs queries through an installed @duckdb/node-api.
type DB struct{ module string }

// Open finds the installed package: $INSIGHTS_DUCKDB, else where `make
// duckdb` puts it (under $XDG_CACHE_HOME or ~/.cache: call Open before a
// test moves HOME). Without it (or Node.js) the test is skipped, and fails
// under CI=true.
func Open(t testing.TB) *DB {
	t.Helper()
	dir := os.Getenv("INSIGHTS_DUCKDB")
	if dir == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(cache, "insights-ci", "duckdb-"+Version, "node_modules", "@duckdb", "node-api")
	}
	_, err := os.Stat(filepath.Join(dir, "package.json"))
	if err == nil {
		_, err = exec.LookPath("node")
	}
	if err != nil {
		msg := fmt.Sprintf("DuckDB for Node (@duckdb/node-api %s) not found at %s, or no node: run `make duckdb` "+
			"or set INSIGHTS_DUCKDB to its directory (%v)", Version, dir, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return &DB{module: dir}
}

// script runs each statement of argv[2] (a JSON list) in one in-memory
// database and prints the rows of each as JSON (BIGINT as strings, DOUBLE as
// numbers, timestamps and dates as text in UTC).
const script = `
const { DuckDBInstance } = require(process.argv[1]);
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run("SET TimeZone = 'UTC'");
  const out = [];
  for (const q of JSON.parse(process.argv[2])) {
    out.push((await conn.runAndReadAll(q)).getRowObjectsJson());
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e && e.message || e)); process.exit(1); });
`

// Row is a row as DuckDB's JSON gives it.
type Row map[string]any

// Query runs queries in one in-memory DuckDB and returns the rows of each.
func (db *DB) Query(t testing.TB, queries ...string) [][]Row {
	t.Helper()
	list, err := json.Marshal(queries)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "-e", script, db.module, string(list))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("duckdb: %v: %s\nqueries: %s", err, errOut.String(), list)
	}
	var rows [][]Row
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("duckdb answered %.300s: %v", out.String(), err)
	}
	t.Logf("duckdb: %d queries in %s", len(queries), time.Since(start).Round(time.Millisecond))
	return rows
}
