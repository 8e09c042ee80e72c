package ingest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/internal/corpus"
	"github.com/claude-insights/insights/store"
)

// corpusFacts is what the transcripts of a tree say, read independently of
// the importer: the sessions, the tool results, and the subagent files.
type corpusFacts struct {
	sessions map[string]bool
	results  map[string]bool   // tool_use ids with a result in a top-level record
	files    map[string]string // agent id → its transcript file
}

func readFacts(t *testing.T, root string) corpusFacts {
	t.Helper()
	f := corpusFacts{sessions: map[string]bool{}, results: map[string]bool{}, files: map[string]string{}}
	paths, _, err := ingest.Transcripts(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if id, ok := strings.CutPrefix(strings.TrimSuffix(filepath.Base(p), ".jsonl"), "agent-"); ok {
			f.files[id] = p
		}
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			r, err := ingest.Parse(sc.Bytes())
			if err != nil {
				continue
			}
			if r.SessionID != "" {
				f.sessions[r.SessionID] = true
			}
			for _, tr := range r.ToolResults {
				f.results[tr.ToolUseID] = true
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// TestCorpusRecord imports the shared corpus and checks the whole record
// against what the files say: every tool result is matched to its call,
// every Edit/MultiEdit/Write with a structuredPatch gives a file change, and
// every Task/Agent call whose subagent's file exists is linked to it.
func TestCorpusRecord(t *testing.T) {
	dir := corpus.Dir(t)
	eachDriver(t, func(t *testing.T, open func(testing.TB) store.Driver) {
		for _, folder := range []string{"spotter", "claude-code-log"} {
			root := filepath.Join(dir, folder)
			db := open(t)
			ctx := context.Background()
			if _, err := newImporter(db).ImportTree(ctx, root); err != nil {
				t.Fatal(err)
			}
			facts := readFacts(t, root)
			calls := map[string]store.ToolCall{}
			links := map[string]store.SubagentInfo{}
			changes := map[string]bool{}
			for sid := range facts.sessions {
				cs, err := db.ToolCalls(ctx, sid)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cs {
					calls[c.ID] = c
				}
				as, err := db.Subagents(ctx, sid)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range as {
					links[a.AgentID] = a
				}
				fcs, err := db.FileChanges(ctx, sid)
				if err != nil {
					t.Fatal(err)
				}
				for _, fc := range fcs {
					changes[fc.ToolUseID] = true
				}
			}
			var patched, linked int
			for id := range facts.results {
				c, ok := calls[id]
				if !ok || c.Result == nil {
					t.Errorf("%s: the result of tool call %s is not stored with it", folder, id)
				}
			}
			for id, c := range calls {
				if c.Result == nil {
					continue
				}
				var res struct {
					AgentID         string            `json:"agentId"`
					StructuredPatch []json.RawMessage `json:"structuredPatch"`
				}
				_ = json.Unmarshal(c.Result.Structured, &res)
				switch c.Name {
				case "Edit", "MultiEdit", "Write":
					if res.StructuredPatch != nil && !c.Result.IsError {
						patched++
						if !changes[id] {
							t.Errorf("%s: %s call %s has a structuredPatch but no file change", folder, c.Name, id)
						}
					}
				case "Task", "Agent":
					if path, ok := facts.files[res.AgentID]; ok {
						linked++
						if a := links[res.AgentID]; a.ToolUseID != id || a.Path != path {
							t.Errorf("%s: subagent %s = %+v; want linked to call %s and file %s", folder, res.AgentID, a, id, path)
						}
					}
				}
			}
			t.Logf("%s: %d tool results, %d patched files, %d linked subagents", folder, len(facts.results), patched, linked)
			if folder == "spotter" && (patched == 0 || linked == 0) {
				t.Errorf("spotter: %d patched calls and %d linked subagents; the corpus holds both", patched, linked)
			}
		}
	})
}
