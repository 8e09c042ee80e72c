package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
)

const sessApp = "5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03"

// explorer imports the project's fixtures into a new database and opens
// the explorer over it; it returns the database too, to write with.
func explorer(t testing.TB, opts store.ExploreLimits) (*sqlite.Explorer, *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "insights.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	im := &ingest.Importer{Store: db, Prices: pricing.Default()}
	if _, err := im.ImportTree(ctx, "../../testdata/claude"); err != nil {
		t.Fatal(err)
	}
	ex, err := sqlite.OpenExplorer(ctx, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	return ex, db
}

// rowsText shows a result's rows one per line, values split by " | ".
func rowsText(res *store.Result) string {
	var b strings.Builder
	for _, r := range res.Rows {
		for i, v := range r {
			if i > 0 {
				b.WriteString(" | ")
			}
			fmt.Fprint(&b, v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// The canned queries on the fixtures, whose sums EXPECTED.md gives: per
// day 8 replies $0.204539 and 7 replies $0.143211 (one unpriced); opus 7
// replies 42/789/11120/86420 $0.14952.
var cannedWant = []struct {
	name   string
	params map[string]string
	want   string
}{
	{"tool-usage", nil, `Bash | 5 | 1 | 20 | 2
Task | 3 | 0 | 0 | 2
Edit | 1 | 0 | 0 | 1
MultiEdit | 1 | 0 | 0 | 1
Read | 1 | 0 | 0 | 1
Skill | 1 | 0 | 0 | 1
Write | 1 | 0 | 0 | 1
mcp__github__create_pull_request | 1 | 0 | 0 | 1
`},
	{"tool-usage", map[string]string{"project": "/src/app"}, `Task | 2 | 0 | 0 | 1
Bash | 1 | 0 | 0 | 1
Edit | 1 | 0 | 0 | 1
Read | 1 | 0 | 0 | 1
`},
	{"tokens-by-day", nil, `2026-02-10 | 8 | 45 | 1084 | 34216 | 84720 | 0.204539 | 0
2026-02-11 | 7 | 56 | 835 | 28300 | 43100 | 0.143211 | 1
`},
	{"tokens-by-day", map[string]string{"since": "2026-02-11", "until": "2026-02-11"}, `2026-02-11 | 7 | 56 | 835 | 28300 | 43100 | 0.143211 | 1
`},
	{"tokens-by-day", map[string]string{"until": "2026-02-10"}, `2026-02-10 | 8 | 45 | 1084 | 34216 | 84720 | 0.204539 | 0
`},
	{"tokens-by-model", nil, `claude-sonnet-4-5-20250929 | 5 | 18 | 680 | 44696 | 38400 | 0.189384 | 0
claude-opus-4-6 | 7 | 42 | 789 | 11120 | 86420 | 0.14952 | 0
claude-haiku-4-5-20251001 | 2 | 21 | 390 | 5500 | 0 | 0.008846 | 0
claude-mystery-9 | 1 | 20 | 60 | 1200 | 3000 | 0 | 1
`},
	{"tokens-by-project", nil, `/src/app | 2 | 14 | 98 | 1699 | 58420 | 127820 | 0.329081 | 1
/src/other | 1 | 1 | 3 | 220 | 4096 | 0 | 0.018669 | 0
`},
	{"most-edited-files", map[string]string{"project": "/src/tools", "limit": "2"}, `/src/tools/parse.py | 1 | 1 | 2 | 2 | 2026-02-12 10:00:07 | d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e9f01
/src/tools/parse_old.py | 1 | 1 | 0 | 0 | 2026-02-12 10:02:21 | d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e9f01
`},
	{"longest-sessions", map[string]string{"limit": "2"}, `8b3e1d94-6c2a-4f7b-b815-2e9a0c7d5f46 | Shorten the README section to one sentence. | /src/app | 2026-02-10 09:00:06 | 1559.9 | 2 | 0.078012
5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03 | Fix off-by-one in config loader | /src/app | 2026-02-10 09:00:00 | 1440.3 | 42 | 0.251069
`},
	{"costliest-sessions", nil, `5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03 | Fix off-by-one in config loader | /src/app | 2026-02-10 09:00:00 | 0.251069 | 167458 | 42
8b3e1d94-6c2a-4f7b-b815-2e9a0c7d5f46 | Shorten the README section to one sentence. | /src/app | 2026-02-10 09:00:06 | 0.078012 | 20579 | 2
c41a7e2b-9d05-4b3f-8e6c-1f2d3a4b5c68 | What does this project do? | /src/other | 2026-02-10 14:00:00 | 0.018669 | 4319 | 2
d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e9f01 | Refactor the parser and add tests for it | /src/tools | 2026-02-12 10:00:00 | 0 | 0 | 22
`},
	{"sessions-by-tag", map[string]string{"tag": "kind:docs"}, `kind:docs | 8b3e1d94-6c2a-4f7b-b815-2e9a0c7d5f46 | Shorten the README section to one sentence. | /src/app | 2026-02-10 09:00:06
kind:docs | 5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03 | Fix off-by-one in config loader | /src/app | 2026-02-10 09:00:00
`},
	{"busiest-hours", map[string]string{"project": "/src/app"}, `00 | 0 | 2 | 1
08 | 2 | 2 | 1
09 | 4 | 9 | 1
10 | 1 | 5 | 1
11 | 1 | 1 | 1
22 | 1 | 2 | 1
23 | 1 | 1 | 1
`},
	{"subagent-usage", nil, `Explore | 1 | 1 | 1 | 12 | 210 | 3100 | 0 | 0.004937 | 0
general-purpose | 1 | 1 | 1 | 9 | 180 | 2400 | 0 | 0.003909 | 0
`},
	{"failed-bash-commands", nil, `d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e9f01 | 2026-02-12 10:00:20 | pytest -q | Exit code 1
1 failed, 3 passed
`},
	{"plans-per-project", nil, `/src/app | some-slug | Plan: fix the config loader | 2 | 2026-02-11 11:00:03
`},
	{"sessions-only-in-db", nil, ``},
	{"commits-per-session", nil, `d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e9f01 | Refactor the parser and add tests for it | /src/tools | 1 | 3f2a1b9 Refactor parser | 2026-02-12 10:00:41
`},
	{"slowest-tools", map[string]string{"since": "2026-02-12"}, `Task | 1 | 30 | 30
Bash | 3 | 4.33 | 11
mcp__github__create_pull_request | 1 | 3 | 3
MultiEdit | 1 | 2 | 2
Skill | 1 | 1 | 1
Write | 1 | 1 | 1
`},
}

func TestCannedQueries(t *testing.T) {
	ex, _ := explorer(t, store.ExploreLimits{})
	tested := map[string]bool{}
	for _, c := range cannedWant {
		q, ok := sqlite.Canned(c.name)
		if !ok {
			t.Fatalf("no canned query %s", c.name)
		}
		tested[c.name] = true
		res, err := ex.Query(context.Background(), q.SQL, c.params)
		if err != nil {
			t.Errorf("%s %v: %v", c.name, c.params, err)
			continue
		}
		if got := rowsText(res); got != c.want {
			t.Errorf("%s %v:\n got %s\nwant %s", c.name, c.params, got, c.want)
		}
	}
	if len(sqlite.CannedQueries) < 12 {
		t.Errorf("%d canned queries, want at least 12", len(sqlite.CannedQueries))
	}
	for _, q := range sqlite.CannedQueries {
		if !tested[q.Name] {
			t.Errorf("canned query %s has no expected rows here", q.Name)
		}
		if q.Title == "" || q.Description == "" {
			t.Errorf("canned query %s lacks a title or description", q.Name)
		}
		for _, p := range q.Params {
			if store.ParamHints[p] == "" {
				t.Errorf("canned query %s: parameter %s has no hint", q.Name, p)
			}
		}
	}
}

// A session whose every file is gone lives only in the database.
func TestCannedSessionsOnlyInDB(t *testing.T) {
	ex, db := explorer(t, store.ExploreLimits{})
	ctx := context.Background()
	files, err := db.SessionFiles(ctx, "c41a7e2b-9d05-4b3f-8e6c-1f2d3a4b5c68")
	if err != nil || len(files) == 0 {
		t.Fatalf("files of the session: %v, %v", files, err)
	}
	if err := db.MarkGone(ctx, files, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	q, _ := sqlite.Canned("sessions-only-in-db")
	res, err := ex.Query(ctx, q.SQL, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "c41a7e2b-9d05-4b3f-8e6c-1f2d3a4b5c68 | What does this project do? | /src/other | 2026-02-10 14:00:00 | 1 | 2026-03-01 12:00:00\n"
	if got := rowsText(res); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestParams(t *testing.T) {
	ex, _ := explorer(t, store.ExploreLimits{})
	q := "SELECT ':x', \":y\", [:z], :a, @b, $c, :a, $ -- :d\n/* :e */ FROM t WHERE x = :f_1"
	if got, want := fmt.Sprint(ex.Params(q)), "[a b c f_1]"; got != want {
		t.Errorf("Params: %s, want %s", got, want)
	}
}
