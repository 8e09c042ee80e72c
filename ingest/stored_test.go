package ingest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/internal/golden"
	"github.com/claude-insights/insights/store"
)

// testdataSessions are the sessions of testdata/claude (see its EXPECTED.md).
var testdataSessions = []string{
	"5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03",
	"8b3e1d94-6c2a-4f7b-b815-2e9a0c7d5f46",
	"c41a7e2b-9d05-4b3f-8e6c-1f2d3a4b5c68",
	"d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e9f01",
}

// describeStored renders what a database holds of the whole record of some
// sessions: titles and counts, tool calls, file changes and subagents.
func describeStored(t *testing.T, db store.Driver, root string, ids []string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	rel := func(p string) string {
		if r, err := filepath.Rel(root, p); err == nil {
			return filepath.ToSlash(r)
		}
		return p
	}
	for _, id := range ids {
		s, err := db.Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "session %s title=%q slug=%s messages=%d tools=%d errors=%d compactions=%d subagents=%d\n",
			s.ID, s.Title, s.Slug, s.Messages, s.ToolCalls, s.ToolErrors, s.Compactions, s.Subagents)
		ms, err := db.Messages(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			var marks []string
			if m.IsPrompt {
				marks = append(marks, "prompt")
			}
			if m.Subtype != "" {
				marks = append(marks, m.Subtype)
			}
			if m.LogicalParentUUID != "" {
				marks = append(marks, "after="+m.LogicalParentUUID[:8])
			}
			if m.CompactTrigger != "" {
				marks = append(marks, fmt.Sprintf("%s at %d tokens", m.CompactTrigger, m.CompactPreTokens))
			}
			if m.IsCompactSummary {
				marks = append(marks, "compact-summary")
			}
			if len(marks) > 0 {
				fmt.Fprintf(&b, "  message %d %s agent=%s %s\n", m.Seq, m.UUID[:8], m.AgentID, strings.Join(marks, " "))
			}
		}
		cs, err := db.ToolCalls(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			fmt.Fprintf(&b, "  tool %s %s seq=%d message=%s took=%s", c.ID, c.Name, c.Seq, c.MessageUUID[:8], c.Duration())
			if r := c.Result; r != nil {
				fmt.Fprintf(&b, " result=%q error=%v structured=%v", clipText(r.Text, 30), r.IsError, len(r.Structured) > 0)
			}
			if c.Interrupted() {
				b.WriteString(" interrupted")
			}
			b.WriteString("\n")
		}
		fcs, err := db.FileChanges(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fcs {
			fmt.Fprintf(&b, "  change %s %s %s +%d -%d\n", f.ToolUseID, f.Path, f.Operation, f.Added, f.Removed)
		}
		as, err := db.Subagents(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			fmt.Fprintf(&b, "  subagent %s call=%s file=%s type=%s description=%q messages=%d output=%d\n",
				a.AgentID, a.ToolUseID, rel(a.Path), a.Type, a.Description, a.Messages, a.Output)
		}
		commits, err := db.Commits(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range commits {
			fmt.Fprintf(&b, "  commit %s %s %q call=%s at=%s\n", c.Hash, c.Branch, c.Subject, c.ToolUseID, c.At.Format(time.RFC3339))
		}
		tags, err := db.Tags(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  tags %s\n", strings.Join(tags, " "))
		lists, err := db.Todos(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lists {
			for _, it := range l.Items {
				fmt.Fprintf(&b, "  todo agent=%s %s %q\n", l.AgentID, it.Status, it.Content)
			}
		}
		prompts, err := db.Prompts(ctx, store.PromptQuery{SessionID: id})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range prompts {
			fmt.Fprintf(&b, "  prompt %s %s %q\n", p.At.Format(time.RFC3339), p.Project, p.Text)
		}
	}
	plans, err := db.Plans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		fmt.Fprintf(&b, "plan %s file=%s sessions=%s lines=%d\n", p.Slug, rel(p.Path), strings.Join(p.Sessions, ","), strings.Count(p.Markdown, "\n"))
	}
	return b.String()
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// TestStoredRecordGolden imports testdata/claude and compares the stored
// tool calls, file changes, subagents and titles with
// testdata/golden/stored.txt, on every driver.
func TestStoredRecordGolden(t *testing.T) {
	root, err := filepath.Abs(claudeDir)
	if err != nil {
		t.Fatal(err)
	}
	eachDriver(t, func(t *testing.T, open func(testing.TB) store.Driver) {
		db := open(t)
		if _, err := newImporter(db).ImportTree(context.Background(), root); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("..", "testdata", "golden", "stored.txt"), describeStored(t, db, root, testdataSessions))
	})
}

// TestSearchTestdata runs queries over the imported testdata on every driver.
func TestSearchTestdata(t *testing.T) {
	eachDriver(t, func(t *testing.T, open func(testing.TB) store.Driver) {
		db := open(t)
		if _, err := newImporter(db).ImportTree(context.Background(), claudeDir); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			q    store.SearchQuery
			want int64
		}{
			{store.SearchQuery{Text: "regression test"}, 3},                            // prompt, Task input, reply
			{store.SearchQuery{Text: `"go test"`}, 1},                                  // the Bash call's input
			{store.SearchQuery{Text: "0.012s"}, 1},                                     // the Bash result, "0 012s"
			{store.SearchQuery{Text: "screenshot"}, 1},                                 // text beside an image
			{store.SearchQuery{Text: "iVBORw0KGgo*"}, 0},                               // the image's data is not indexed
			{store.SearchQuery{Text: "regression", Tool: "Task"}, 1},                   // the call
			{store.SearchQuery{Text: "testloadreadslastkey", Tool: "Task"}, 1},         // its result
			{store.SearchQuery{Text: "callers", SessionID: testdataSessions[0]}, 4},    // subagent messages included
			{store.SearchQuery{Text: "callers", Role: "assistant", Project: "app"}, 3}, // role and project
		} {
			res, err := db.Search(context.Background(), tc.q)
			if err != nil {
				t.Fatalf("search %+v: %v", tc.q, err)
			}
			if res.Total != tc.want {
				var got []string
				for _, h := range res.Hits {
					got = append(got, fmt.Sprintf("%s:%d %s", h.SessionID[:8], h.Seq, store.SearchWords(fragmentsText(h.Snippet))))
				}
				t.Errorf("search %+v: %d hits, want %d:\n%s", tc.q, res.Total, tc.want, strings.Join(got, "\n"))
			}
		}
	})
}

func fragmentsText(fs []store.Fragment) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Text)
	}
	return b.String()
}
