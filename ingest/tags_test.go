package ingest

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/claude-insights/insights/store"
)

func TestTags(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Record
		want []string
	}{
		{"tools and languages", Record{ToolUses: []ToolUseBlock{
			toolUse("id", "Edit", json.RawMessage(`{"file_path":"/a/b.GO"}`)),
			toolUse("id", "Read", json.RawMessage(`{"file_path":"/a/App.tsx"}`)),
			toolUse("id", "NotebookEdit", json.RawMessage(`{"notebook_path":"/a/n.ipynb"}`)),
			toolUse("id", "Write", json.RawMessage(`{"file_path":"/a/Makefile"}`)),
			toolUse("id", "Bash", json.RawMessage(`{"command":"cat x_path.py"}`)),
		}}, []string{"lang:go", "lang:python", "lang:typescript", "tool:Bash", "tool:Edit", "tool:NotebookEdit", "tool:Read", "tool:Write"}},
		{"mcp and subagents", Record{ToolUses: []ToolUseBlock{{Name: "mcp__github__create_issue"}, {Name: "mcp__bad"}, {Name: "Task"}}},
			[]string{"subagents", "tool:Task", "tool:mcp__bad", "mcp:github"}},
		{"a subagent's record", Record{AgentID: "a1"}, []string{"subagents"}},
		{"errors", Record{ToolResults: []ToolResultBlock{{IsError: false}, {IsError: true}, {IsError: true}}}, []string{"errors"}},
		{"compaction", Record{Subtype: "compact_boundary"}, []string{"compacted"}},
		{"compact summary", Record{IsCompactSummary: true}, []string{"compacted"}},
		{"prompt kinds", Record{IsPrompt: true, Text: "Please FIX the crash, then add tests and update the README."},
			[]string{"kind:bugfix", "kind:docs", "kind:feature", "kind:test"}},
		{"words, not parts of words", Record{IsPrompt: true, Text: "prefix, latest, addition, reviewer, testing-free"},
			[]string{"kind:test"}},
		{"not a prompt", Record{Text: "fix the bug"}, nil},
		{"review and refactor", Record{IsPrompt: true, Text: "Review this; rename the helpers"}, []string{"kind:refactor", "kind:review"}},
	} {
		got := Tags(&tc.r)
		slices.Sort(got)
		got = slices.Compact(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: tags %v, want %v", tc.name, got, want)
		}
	}
}

func TestCommits(t *testing.T) {
	out := "[main 3f2a1b9] Fix the loader\n 1 file changed\n" +
		"[feature/x (root-commit) abcdef1234] First commit\n" +
		"[detached HEAD 0123abc] Detached\n" +
		"[not a commit] text\n[main zzzzzzz] not hex\n"
	want := []store.Commit{
		{Branch: "main", Hash: "3f2a1b9", Subject: "Fix the loader"},
		{Branch: "feature/x", Hash: "abcdef1234", Subject: "First commit"},
		{Branch: "detached HEAD", Hash: "0123abc", Subject: "Detached"},
	}
	if got := commits(out); !reflect.DeepEqual(got, want) {
		t.Errorf("commits = %+v\nwant %+v", got, want)
	}
	if got := commits("nothing here"); got != nil {
		t.Errorf("commits of plain output = %+v", got)
	}
}

func TestFileChange(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      *store.FileChange
	}{
		{"edit", `{"filePath":"/a.go","structuredPatch":[{"lines":[" x","-a","-b","+c"]},{"lines":["+d","+e"]}]}`,
			&store.FileChange{Path: "/a.go", Operation: store.OpEdit, Added: 3, Removed: 2}},
		{"write over a file", `{"type":"update","filePath":"/a.go","content":"x","structuredPatch":[{"lines":["-a","+x"]}]}`,
			&store.FileChange{Path: "/a.go", Operation: store.OpWrite, Added: 1, Removed: 1}},
		{"new file", `{"type":"create","filePath":"/n.go","content":"a\nb\nc","structuredPatch":[]}`,
			&store.FileChange{Path: "/n.go", Operation: store.OpCreate, Added: 3}},
		{"new empty file", `{"type":"create","filePath":"/e","content":"","structuredPatch":[]}`,
			&store.FileChange{Path: "/e", Operation: store.OpCreate}},
		{"read", `{"type":"text","file":{"filePath":"/a.go","content":"x"}}`, nil},
		{"bash", `{"stdout":"ok","stderr":"","interrupted":false}`, nil},
		{"no patch", `{"filePath":"/a.go"}`, nil},
	} {
		got := parseToolUseResult(json.RawMessage(tc.raw)).fileChange()
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if parseToolUseResult(json.RawMessage(`"Error: no such file"`)) != nil {
		t.Error("a plain-string result parsed as an object")
	}
}

func TestRemovals(t *testing.T) {
	for _, tc := range []struct {
		command, dir string
		want         []string
	}{
		{"rm a.go", "/src", []string{"/src/a.go"}},
		{"rm -rf build /tmp/x", "/src", []string{"/src/build", "/tmp/x"}},
		{"rm -- -odd", "/src", []string{"/src/-odd"}},
		{"git rm -r old/", "/src/app", []string{"/src/app/old"}},
		{"git rm --cached a.go", "/src", nil},
		{"rm *.o", "/src", nil},
		{"rm a && rm b", "/src", nil},
		{"rm 'with space'", "/src", nil},
		{"rm $FILE", "/src", nil},
		{"rmdir x", "/src", nil},
		{"echo rm x", "/src", nil},
		{"rm a.go", "", nil},
	} {
		if got := removals(tc.command, tc.dir); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("removals(%q) = %q, want %q", tc.command, got, tc.want)
		}
	}
}
