package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
	"github.com/claude-insights/insights/store/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// openPostgres opens a new PostgreSQL schema for one test or benchmark.
func openPostgres(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// benchDrivers are the databases the import benchmarks run on.
var benchDrivers = []struct {
	name string
	open func(testing.TB) store.Driver
}{
	{"sqlite", func(t testing.TB) store.Driver { return openDB(t) }},
	{"postgres", func(t testing.TB) store.Driver { return openPostgres(t) }},
}

// Escaped NUL characters (PostgreSQL's text cannot hold them) import on
// every driver, as U+FFFD.
func TestNULEscapesImport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "projects", "p", "nul.jsonl")
	writeFile(t, path, `{"type":"user","uuid":"u-nul","sessionId":"s-nul","timestamp":"2026-02-10T10:00:00.000Z",`+
		`"cwd":"/src/a\u0000b","message":{"role":"user","content":"binary \u0000\u0000 output"}}`+"\n"+
		assistantLine(1, 7, "2026-02-10T10:00:01.000Z"))
	for _, d := range benchDrivers {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			st, err := newImporter(db).ImportTree(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			if st.Broken != 0 || st.Lines != 2 {
				t.Errorf("import: %d lines, %d broken; want 2, 0", st.Lines, st.Broken)
			}
			s, err := db.Session(context.Background(), "s-nul")
			if err != nil {
				t.Fatal(err)
			}
			if s.Project != "/src/a\uFFFDb" || s.Messages != 1 {
				t.Errorf("session = %q with %d messages; want /src/a\uFFFDb with 1", s.Project, s.Messages)
			}
		})
	}
}
