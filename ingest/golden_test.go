package ingest_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/internal/golden"
	"github.com/claude-insights/insights/store"
)

var claudeDir = filepath.Join("..", "testdata", "claude")

// describe renders the fields of a record that the importer relies on.
func describe(r *ingest.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", r.Type)
	if r.Subtype != "" {
		fmt.Fprintf(&b, "/%s", r.Subtype)
	}
	fmt.Fprintf(&b, " uuid=%s parent=%s session=%s ts=%s", r.UUID, r.ParentUUID, r.SessionID, r.Timestamp.Format("2006-01-02T15:04:05.000Z"))
	if r.Role != "" {
		fmt.Fprintf(&b, " role=%s", r.Role)
	}
	if r.Model != "" {
		fmt.Fprintf(&b, " model=%s msg=%s req=%s", r.Model, r.MessageID, r.RequestID)
	}
	if u := r.Usage; u != nil {
		fmt.Fprintf(&b, " usage=%d/%d/%d+%d/%d", u.Input, u.Output, u.CacheWrite5m, u.CacheWrite1h, u.CacheRead)
	}
	if r.Billable() {
		b.WriteString(" billable")
	}
	if r.Summary != "" {
		fmt.Fprintf(&b, " summary=%q leaf=%s", r.Summary, r.LeafUUID)
	}
	if t := r.Text; t != "" {
		if len(t) > 40 {
			t = t[:40] + "…"
		}
		fmt.Fprintf(&b, " text=%q", t)
	}
	for _, u := range r.ToolUses {
		fmt.Fprintf(&b, " tool_use=%s:%s", u.Name, u.ID)
	}
	for _, tr := range r.ToolResults {
		fmt.Fprintf(&b, " tool_result=%s", tr.ToolUseID)
		if tr.IsError {
			b.WriteString("(error)")
		}
	}
	if len(r.ToolUseResult) > 0 {
		b.WriteString(" structured")
	}
	if r.LogicalParentUUID != "" {
		fmt.Fprintf(&b, " logical-parent=%s", r.LogicalParentUUID)
	}
	if r.ParentToolUseID != "" {
		fmt.Fprintf(&b, " parent-tool=%s", r.ParentToolUseID)
	}
	var flags []string
	for _, f := range []struct {
		name string
		on   bool
	}{{"api-error", r.IsAPIError}, {"compact-summary", r.IsCompactSummary}, {"meta", r.IsMeta}, {"prompt", r.IsPrompt}, {"sidechain", r.IsSidechain}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	if len(flags) > 0 {
		fmt.Fprintf(&b, " [%s]", strings.Join(flags, " "))
	}
	if r.Nested != nil {
		fmt.Fprintf(&b, "\n    nested: agent=%s %s", r.Nested.AgentID, describe(r.Nested))
	}
	return b.String()
}

// TestParseGolden parses every line of the testdata transcripts and compares
// what the parser made of each with testdata/golden/records.txt.
func TestParseGolden(t *testing.T) {
	files, _, err := ingest.Transcripts(claudeDir)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, path := range files {
		rel, _ := filepath.Rel(claudeDir, path)
		fmt.Fprintf(&out, "== %s\n", filepath.ToSlash(rel))
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(f)
		for n := 1; ; n++ {
			line, err := r.ReadBytes('\n')
			if len(line) == 0 && err != nil {
				break
			}
			if strings.TrimSpace(string(line)) == "" {
				fmt.Fprintf(&out, "%d: (blank)\n", n)
				continue
			}
			rec, perr := ingest.Parse(line)
			if perr != nil {
				fmt.Fprintf(&out, "%d: error: %v\n", n, perr)
				continue
			}
			fmt.Fprintf(&out, "%d: %s\n", n, describe(rec))
		}
		f.Close()
	}
	golden.Check(t, filepath.Join("..", "testdata", "golden", "records.txt"), out.String())
}

// TestImportOrderDoesNotMatter imports the testdata files one by one in
// several orders and expects the same usage every time.
func TestImportOrderDoesNotMatter(t *testing.T) {
	eachDriver(t, func(t *testing.T, open func(testing.TB) store.Driver) {
		files, _, err := ingest.Transcripts(claudeDir)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		for i, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}} {
			db := open(t)
			im := newImporter(db)
			var st ingest.Stats
			for _, j := range order {
				if err := im.ImportFile(context.Background(), files[j], &st); err != nil {
					t.Fatal(err)
				}
			}
			sums, err := db.UsageSums(context.Background(), store.UsageQuery{BySession: true})
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(sums, func(a, b store.UsageSum) int {
				return strings.Compare(a.SessionID+a.Model, b.SessionID+b.Model)
			})
			var total store.Tokens
			var b strings.Builder
			for _, s := range sums {
				total.Add(s.Tokens)
				fmt.Fprintf(&b, "%s %s %+v %.6f %d\n", s.SessionID, s.Model, s.Tokens, s.Cost, s.Replies)
			}
			if total.Output != 1919 || total.Input != 101 {
				t.Errorf("order %v: total %+v, want input 101, output 1919", order, total)
			}
			if i == 0 {
				want = b.String()
			} else if b.String() != want {
				t.Errorf("order %v gives\n%s\nwant\n%s", order, b.String(), want)
			}
		}
	})
}
