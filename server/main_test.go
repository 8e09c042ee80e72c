package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/server"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
	"github.com/claude-insights/insights/store/postgres/pgtest"
	"github.com/claude-insights/insights/store/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The Claude directories the tests import: the project's fixtures, and one
// whose every field carries a script, an event handler or a javascript: link.
var trees = []string{"../testdata/claude", "testdata/claude"}

// Session ids of the fixtures.
const (
	sessApp   = "5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03" // Edit with a patch, thinking, a subagent, todos
	sessTools = "d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e9f01" // a failed tool, MCP, two subagents
	sessXSS   = "0bad0bad-5c1e-4a7e-9f00-00000000a11e"
)

func importTrees(t testing.TB, db store.Driver, dirs ...string) {
	t.Helper()
	im := &ingest.Importer{Store: db, Prices: pricing.Default()}
	for _, dir := range dirs {
		if _, err := im.ImportTree(context.Background(), dir); err != nil {
			t.Fatalf("import %s: %v", dir, err)
		}
	}
}

func openSQLite(t testing.TB) store.Driver {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "insights.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t testing.TB) store.Driver {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newServer serves the fixtures from a new SQLite database.
func newServer(t testing.TB) *httptest.Server {
	t.Helper()
	db := openSQLite(t)
	importTrees(t, db, trees...)
	return serve(t, db)
}

func serve(t testing.TB, db store.Driver) *httptest.Server {
	t.Helper()
	s, err := server.New(db, server.Options{ClaudeDir: "/home/me/.claude"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// get fetches a path and returns the status and body.
func get(t testing.TB, ts *httptest.Server, path string) (int, string, http.Header) {
	t.Helper()
	res, err := http.Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b), res.Header
}

func httpPost(u string) (int, error) {
	res, err := http.Post(u, "text/plain", strings.NewReader("x"))
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}
