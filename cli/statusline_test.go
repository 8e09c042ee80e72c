package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
)

// runStdin runs the command line with stdin, like run.
func runStdin(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := New("test")
	app.Reader, app.Writer, app.ErrWriter = strings.NewReader(stdin), &out, &errOut
	err := app.RunContext(context.Background(), append([]string{"insights"}, args...))
	if errOut.Len() > 0 {
		t.Errorf("statusline wrote on stderr: %s", errOut.String())
	}
	return out.String(), err
}

const statusStdin = `{"session_id":"5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03","transcript_path":"/x.jsonl","cwd":"/src/app",
	"model":{"id":"claude-opus-4-6","display_name":"Opus"},"workspace":{"current_dir":"/src/app","project_dir":"/src/app"},
	"version":"2.1.38","cost":{"total_cost_usd":0.12}}`

func TestTestdataStatusline(t *testing.T) {
	eachDriver(t, func(t *testing.T, db string) {
		importTestdata(t, db)
		for _, tc := range []struct {
			name, stdin, now, want string
		}{
			// The session's replies cost $0.25; 2026-02-11's, $0.14; the
			// window of 08:00-13:00, $0.11.
			{"in a window", statusStdin, testdataNow, "Opus | $0.25 session | $0.14 today | $0.11 block (1h 30m left)"},
			{"after the last window", statusStdin, "2026-02-12T12:00:00Z", "Opus | $0.25 session | $0.00 today"},
			{"session not imported yet", `{"session_id":"new","model":{"id":"claude-opus-4-6"}}`, testdataNow,
				"opus-4-6 | $0.14 today | $0.11 block (1h 30m left)"},
			{"no model", `{"session_id":"c41a7e2b-9d05-4b3f-8e6c-1f2d3a4b5c68"}`, testdataNow, "$0.02 session | $0.14 today | $0.11 block (1h 30m left)"},
			{"bad JSON", `{"session_id": `, testdataNow, "insights: no data"},
			{"empty stdin", ``, testdataNow, "insights: no data"},
		} {
			out, err := runStdin(t, tc.stdin, "--db", db, "statusline", "--now", tc.now)
			if err != nil || out != tc.want+"\n" {
				t.Errorf("%s: %q, %v; want %q", tc.name, out, err, tc.want)
			}
		}
	})
}

// Without a database the status line says what it knows and creates nothing.
func TestStatuslineWithoutDatabase(t *testing.T) {
	home := isolate(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", filepath.Join(dir, "insights.db")}, "Opus"},
		{nil, "Opus"}, // the default database
		{[]string{"--config", filepath.Join(dir, "missing.toml")}, "Opus"},
	} {
		out, err := runStdin(t, statusStdin, append(tc.args, "statusline")...)
		if err != nil || out != tc.want+"\n" {
			t.Errorf("%v: %q, %v; want %q", tc.args, out, err, tc.want)
		}
	}
	if out, err := runStdin(t, "nonsense", "--db", filepath.Join(dir, "insights.db"), "statusline"); err != nil || out != "insights: no data\n" {
		t.Errorf("bad JSON, no database: %q, %v", out, err)
	}
	for _, d := range []string{dir, home} {
		err := filepath.Walk(d, func(path string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				t.Errorf("statusline created %s", path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkStatusline measures `insights statusline` as Claude Code runs it,
// config, opening the database and all, on a year of history: 200,000
// replies in 2,000 sessions, never 5 hours apart, so that finding where the
// active window started reads back the longest stretch it ever reads.
func BenchmarkStatusline(b *testing.B) {
	isolate(b)
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "insights.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	const replies, sessions = 200_000, 2_000
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	models := []string{"claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"}
	var last time.Time
	for s := 0; s < sessions; s++ {
		per := replies / sessions
		first := start.Add(time.Duration(s) * (365 * 24 * time.Hour / sessions))
		id := fmt.Sprintf("s%d", s)
		batch := &store.Batch{
			File:     store.FileState{Path: fmt.Sprintf("/c/s%d.jsonl", s)},
			Sessions: []store.Session{{ID: id, Project: fmt.Sprintf("/src/p%d", s%20), FirstAt: first, LastAt: first.Add(time.Duration(per) * time.Minute)}},
		}
		for r := 0; r < per; r++ {
			last = first.Add(time.Duration(r) * time.Minute)
			batch.Usage = append(batch.Usage, store.Usage{
				Key: fmt.Sprintf("m%d-%d", s, r), SessionID: id, Model: models[r%3], Timestamp: last,
				Tokens: store.Tokens{Input: 10, Output: 300, CacheWrite1h: 500, CacheRead: 20000}, Cost: 0.02, Priced: true,
			})
		}
		if err := db.Apply(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()
	stdin := fmt.Sprintf(`{"session_id":"s%d","model":{"id":"claude-opus-4-6","display_name":"Opus"}}`, sessions-1)
	now := last.Add(30 * time.Minute).Format(time.RFC3339)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var out bytes.Buffer
		app := New("bench")
		app.Reader, app.Writer, app.ErrWriter = strings.NewReader(stdin), &out, io.Discard
		if err := app.RunContext(ctx, []string{"insights", "--db", path, "statusline", "--now", now}); err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(out.String(), "left)") {
			b.Fatalf("no active block: %s", out.String())
		}
	}
}
