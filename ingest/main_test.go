package ingest_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
	"github.com/claude-insights/insights/store/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// eachDriver runs fn as a subtest on each driver.
func eachDriver(t *testing.T, fn func(t *testing.T, open func(testing.TB) store.Driver)) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) { fn(t, d.open) })
	}
}

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

// drivers are the databases the pipeline's tests and benchmarks run on.
var drivers = []struct {
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
		assistantLine(1, 7, "2026-02-10T10:00:01.000Z")+
		`{"type":"assistant","uuid":"a-nul","sessionId":"s-nul","timestamp":"2026-02-10T10:00:02.000Z","message":{"role":"assistant",`+
		`"content":[{"type":"tool_use","id":"t-nul","name":"Bash","input":{"command":"printf '\u0000'","odd":"\ud800 half"}}]}}`+"\n")
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			st, err := newImporter(db).ImportTree(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			if st.Broken != 0 || st.Lines != 3 {
				t.Errorf("import: %d lines, %d broken; want 3, 0", st.Lines, st.Broken)
			}
			s, err := db.Session(context.Background(), "s-nul")
			if err != nil {
				t.Fatal(err)
			}
			if s.Project != "/src/a\uFFFDb" || s.Messages != 2 {
				t.Errorf("session = %q with %d messages; want /src/a\uFFFDb with 2", s.Project, s.Messages)
			}
			ms, err := db.Messages(context.Background(), "s-nul")
			if err != nil || len(ms) != 2 {
				t.Fatalf("messages = %+v, %v", ms, err)
			}
			var content string
			if err := json.Unmarshal(ms[0].Content, &content); err != nil || content != "binary \uFFFD\uFFFD output" {
				t.Errorf("content = %s (%v)", ms[0].Content, err)
			}
			cs, err := db.ToolCalls(context.Background(), "s-nul")
			if err != nil || len(cs) != 1 {
				t.Fatalf("tool calls = %+v, %v", cs, err)
			}
			var in struct{ Command, Odd string }
			if err := json.Unmarshal(cs[0].Input, &in); err != nil || in.Command != "printf '\uFFFD'" || in.Odd != "\uFFFD half" {
				t.Errorf("input = %s (%v)", cs[0].Input, err)
			}
		})
	}
}

// countingStore is a real database that counts the batches written to it.
// (Any number of batches may share a transaction.)
type countingStore struct {
	store.Driver
	applies int
}

func (c *countingStore) Apply(ctx context.Context, bs ...*store.Batch) error {
	c.applies += len(bs)
	return c.Driver.Apply(ctx, bs...)
}

// Big lines end a batch early: no transaction grows past BatchBytes (plus
// one line), whatever BatchLines says.
func TestBatchBytesEndsBatches(t *testing.T) {
	dir := t.TempDir()
	var lines strings.Builder
	big := strings.Repeat("x", 3000)
	for i := range 10 {
		lines.WriteString(userLine(i, big))
	}
	writeFile(t, filepath.Join(dir, "projects", "p", "s1.jsonl"), lines.String())
	db := &countingStore{Driver: openDB(t)}
	im := newImporter(db)
	im.BatchBytes = 6000 // two lines
	st, err := im.ImportTree(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	// Five batches of two lines, and the last one recording the file's end.
	if st.Lines != 10 || db.applies != 6 {
		t.Errorf("%d lines in %d batches; want 10 in 6", st.Lines, db.applies)
	}
	if s, err := db.Session(context.Background(), "s1"); err != nil || s.Messages != 10 {
		t.Errorf("session: %+v, %v; want 10 messages", s, err)
	}
}
