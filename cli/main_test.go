package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/claude-insights/insights/store/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// drivers are the databases a command-line test runs against: a new SQLite
// file and a new PostgreSQL schema, each given as the --db value.
var drivers = []struct {
	name string
	db   func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "insights.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
}

// eachDriver runs fn as a subtest on each driver's new database.
func eachDriver(t *testing.T, fn func(t *testing.T, db string)) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) { fn(t, d.db(t)) })
	}
}
