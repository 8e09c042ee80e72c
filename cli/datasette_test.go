package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-insights/insights/store/sqlite"
)

func TestDatasetteMetadata(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "metadata.json")
	db := filepath.Join(dir, "sessions.sqlite")
	if _, err := run(t, "--db", db, "datasette-metadata", "--out", out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := run(t, "--db", db, "datasette-metadata")
	if err != nil || stdout != string(b) {
		t.Errorf("standard output differs from the file: %v", err)
	}
	var m struct {
		Databases map[string]struct {
			Tables  map[string]struct{ Description string }
			Queries map[string]struct{ SQL, Title, Description string }
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	d, ok := m.Databases["sessions"]
	if !ok || len(m.Databases) != 1 {
		t.Fatalf("databases: %v; want one named sessions, as Datasette names sessions.sqlite", m.Databases)
	}
	if len(d.Queries) != len(sqlite.CannedQueries) {
		t.Errorf("%d queries, want %d", len(d.Queries), len(sqlite.CannedQueries))
	}
	for _, q := range sqlite.CannedQueries {
		if got := d.Queries[q.Name]; got.SQL != q.SQL || got.Title != q.Title || !strings.HasPrefix(got.Description, q.Description) {
			t.Errorf("query %s: %+v", q.Name, got)
		}
	}
	for _, name := range []string{"sessions", "messages", "usage", "tool_calls"} {
		if d.Tables[name].Description == "" {
			t.Errorf("table %s has no description", name)
		}
	}
	if _, err := run(t, "--db", "postgres://localhost/x", "datasette-metadata"); err == nil {
		t.Error("a PostgreSQL database: no error")
	}
	if _, err := run(t, "--db", db, "datasette-metadata", "extra"); err == nil {
		t.Error("an argument: no error")
	}
}
