package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-insights/insights/internal/golden"
)

// testdataDir is the repository's own fake Claude directory, covering every
// record type and gotcha; testdata/claude/EXPECTED.md derives the numbers.
var testdataDir = filepath.Join("..", "testdata", "claude")

// testdataFiles counts the files of testdataDir that are imported: seven
// transcripts, the prompt history, a todo list and a plan.
const testdataFiles = 10

func importTestdata(t *testing.T, db string) string {
	t.Helper()
	isolate(t)
	out, err := run(t, "--db", db, "import", testdataDir)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTestdataImport(t *testing.T) {
	eachDriver(t, func(t *testing.T, db string) {
		out := importTestdata(t, db)
		for _, want := range []string{fmt.Sprintf("%d files (%d with new data)", testdataFiles, testdataFiles), "Skipped 1: not JSON 1.", "5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03.jsonl:16:"} {
			if !strings.Contains(out, want) {
				t.Errorf("import output lacks %q:\n%s", want, out)
			}
		}
		again, err := run(t, "--db", db, "import", testdataDir)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(again, "(0 with new data), 0 lines") {
			t.Errorf("second import read data again:\n%s", again)
		}
	})
}

func TestTestdataUsageDaily(t *testing.T) {
	eachDriver(t, func(t *testing.T, db string) {
		importTestdata(t, db)
		out, err := run(t, "--db", db, "usage", "daily", "--json", "--timezone", "UTC")
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("..", "testdata", "golden", "usage-daily.json"), out)
		u := decodeUsage(t, "daily", out)
		type want struct{ in, out, cw, cr int64 }
		wantDays := map[string]want{
			"2026-02-10": {45, 1084, 34216, 84720},
			"2026-02-11": {56, 835, 28300, 43100},
		}
		if len(u.Rows) != len(wantDays) {
			t.Fatalf("days = %d, want %d", len(u.Rows), len(wantDays))
		}
		for _, r := range u.Rows {
			w := wantDays[r.Date]
			if got := (want{r.InputTokens, r.OutputTokens, r.CacheCreationTokens, r.CacheReadTokens}); got != w {
				t.Errorf("%s: %+v, want %+v", r.Date, got, w)
			}
		}
		if tot := u.Totals; tot.InputTokens != 101 || tot.OutputTokens != 1919 || tot.CacheCreationTokens != 62516 ||
			tot.CacheReadTokens != 127820 || tot.TotalTokens != 192356 || math.Abs(tot.TotalCost-0.34775) > 1e-9 {
			t.Errorf("totals = %+v", tot)
		}
		// The unpriced model is counted in tokens, not in cost, and named.
		if !strings.Contains(out, `"unpricedModels": [`) || !strings.Contains(out, `"claude-mystery-9"`) {
			t.Errorf("unpriced model not reported:\n%s", out)
		}
		for _, r := range u.Rows {
			for _, m := range r.ModelBreakdowns {
				if m.ModelName == "claude-opus-4-6" && r.Date == "2026-02-11" && (m.OutputTokens != 520 || math.Abs(m.Cost-0.06129) > 1e-9) {
					t.Errorf("opus on 2026-02-11: %+v", m)
				}
			}
		}
	})
}

func TestTestdataUsageFilters(t *testing.T) {
	eachDriver(t, func(t *testing.T, db string) {
		importTestdata(t, db)
		for _, tc := range []struct {
			args      []string
			period    string
			rows      int
			in, out   int64
			cacheRead int64
		}{
			{[]string{"usage", "--project", "/src/other"}, "daily", 1, 3, 220, 0},
			{[]string{"usage", "daily", "--project", "app"}, "daily", 2, 98, 1699, 127820},
			{[]string{"usage", "daily", "--since", "20260211"}, "daily", 1, 56, 835, 43100},
			{[]string{"usage", "daily", "--until", "2026-02-10"}, "daily", 1, 45, 1084, 84720},
			// In New York the reply of 00:00:03 UTC falls on the evening before.
			{[]string{"usage", "daily", "--timezone", "America/New_York", "--until", "2026-02-10"}, "daily", 1, 49, 1384, 104720},
			{[]string{"usage", "weekly"}, "weekly", 1, 101, 1919, 127820},
			{[]string{"usage", "monthly"}, "monthly", 1, 101, 1919, 127820},
			{[]string{"usage", "session"}, "session", 3, 101, 1919, 127820},
		} {
			out, err := run(t, append(append([]string{"--db", db}, tc.args...), "--json", "--timezone", "UTC")...)
			if strings.Contains(strings.Join(tc.args, " "), "--timezone") {
				out, err = run(t, append([]string{"--db", db}, append(tc.args, "--json")...)...)
			}
			if err != nil {
				t.Fatalf("%v: %v", tc.args, err)
			}
			u := decodeUsage(t, tc.period, out)
			if len(u.Rows) != tc.rows || u.Totals.InputTokens != tc.in || u.Totals.OutputTokens != tc.out || u.Totals.CacheReadTokens != tc.cacheRead {
				t.Errorf("%v: %d rows, totals %+v; want %d rows, in %d out %d read %d", tc.args, len(u.Rows), u.Totals, tc.rows, tc.in, tc.out, tc.cacheRead)
			}
		}
	})
}

func TestTestdataUsageTable(t *testing.T) {
	eachDriver(t, func(t *testing.T, db string) {
		importTestdata(t, db)
		out, err := run(t, "--db", db, "usage", "--timezone", "UTC", "--breakdown")
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("..", "testdata", "golden", "usage-daily.txt"), out)
	})
}

// TestTestdataSpentBy: `usage session --breakdown` says who spent each
// session's usage; the main thread and subagents add up to the session.
func TestTestdataSpentBy(t *testing.T) {
	eachDriver(t, func(t *testing.T, db string) {
		importTestdata(t, db)
		out, err := run(t, "--db", db, "usage", "session", "--breakdown", "--timezone", "UTC")
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("..", "testdata", "golden", "usage-session-breakdown.txt"), out)
		js, err := run(t, "--db", db, "usage", "session", "--breakdown", "--json", "--timezone", "UTC")
		if err != nil {
			t.Fatal(err)
		}
		var u struct {
			Session []struct {
				SessionID    string `json:"sessionId"`
				OutputTokens int64  `json:"outputTokens"`
				SpentBy      []struct {
					By, Name, Type string
					OutputTokens   int64 `json:"outputTokens"`
				} `json:"spentBy"`
			} `json:"session"`
		}
		if err := json.Unmarshal([]byte(js), &u); err != nil {
			t.Fatal(err)
		}
		for _, s := range u.Session {
			var sum int64
			for _, sh := range s.SpentBy {
				if sh.By == "main" || sh.By == "subagent" {
					sum += sh.OutputTokens
				}
				if s.SessionID == "5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03" && sh.Name == "a1b2c3" && (sh.Type != "Explore" || sh.OutputTokens != 210) {
					t.Errorf("subagent a1b2c3: %+v", sh)
				}
			}
			if sum != s.OutputTokens || len(s.SpentBy) == 0 {
				t.Errorf("session %s: shares add up to %d output tokens, want %d: %+v", s.SessionID, sum, s.OutputTokens, s.SpentBy)
			}
		}
	})
}

func TestTestdataSearch(t *testing.T) {
	eachDriver(t, func(t *testing.T, db string) {
		importTestdata(t, db)
		out, err := run(t, "--db", db, "search", "--role", "assistant", "regression", "test")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`2 hits for "regression test"`, "The [regression] [test] is in place.", "#50 (assistant)"} {
			if !strings.Contains(out, want) {
				t.Errorf("search output lacks %q:\n%s", want, out)
			}
		}
		js, err := run(t, "--db", db, "search", "--json", "--limit", "1", "--since", "2026-02-11", "config", "-loader")
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Hits []struct {
				SessionID string `json:"sessionId"`
				Snippet   []struct {
					Text  string `json:"text"`
					Match bool   `json:"match"`
				} `json:"snippet"`
			} `json:"hits"`
			Total int64 `json:"total"`
		}
		if err := json.Unmarshal([]byte(js), &res); err != nil {
			t.Fatalf("%v:\n%s", err, js)
		}
		if len(res.Hits) != 1 || res.Total < 2 {
			t.Errorf("search --json: %d hits of %d; want 1 of several:\n%s", len(res.Hits), res.Total, js)
		}
		none, err := run(t, "--db", db, "search", "--json", "nothingmatchesthis")
		if err != nil || !strings.Contains(none, `"hits": []`) || !strings.Contains(none, `"total": 0`) {
			t.Errorf("search --json with no hits: %v\n%s", err, none)
		}
		for _, bad := range [][]string{{"search", `"unclosed`}, {"search"}, {"search", "x", "--role", "user"}, {"search", "--limit", "0", "x"}} {
			if out, err := run(t, append([]string{"--db", db}, bad...)...); err == nil {
				t.Errorf("%v succeeded:\n%s", bad, out)
			}
		}
	})
}
