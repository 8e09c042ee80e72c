package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	appFile = "../testdata/claude/projects/-src-app/" + sessApp + ".jsonl"
	appSub  = "../testdata/claude/projects/-src-app/" + sessApp + "/subagents/agent-a1b2c3.jsonl"
)

func TestExportMarkdown(t *testing.T) {
	ts := newServer(t)
	code, body, h := get(t, ts, "/sessions/"+sessApp+".md")
	if code != 200 {
		t.Fatalf("GET .md: %d\n%s", code, body)
	}
	if ct := h.Get("Content-Type"); ct != "text/markdown; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := h.Get("Content-Disposition"); cd != `attachment; filename=session-`+sessApp+`.md` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	for _, want := range []string{
		"# Fix off-by-one in config loader\n", "- **Project:** /src/app\n", "- **Plan:** some-slug\n",
		"## User · ", "Fix the off-by-one in config/load.go: the last key is never read.",
		"## Assistant · ", "The loop bound skips the last key.",
		"**Tool call: Edit** (`", "```json\n{\n", `"file_path": "/src/app/config/load.go"`,
		"**Tool call: Bash**", `"command": "go test ./config/..."`, "**Result**",
		"### Subagent", "Find callers of load", "### Subagent · Assistant", "Start of the subagent's transcript",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the Markdown export lacks %q", want)
		}
	}
	if i, j := strings.Index(body, "Fix the off-by-one in config/load.go"), strings.Index(body, "Have a subagent write a regression test."); i < 0 || j < i {
		t.Error("the export is not in the order of the session")
	}
	// A result shown under its call is not repeated as a message of its own.
	if strings.Contains(body, "call not in this session") {
		t.Error("a result is shown apart from its call")
	}

	// The hostile session exports without trouble; the file is text, not a page.
	if code, body, h := get(t, ts, "/sessions/"+sessXSS+".md"); code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/markdown") || !strings.Contains(body, "<script>") {
		t.Errorf("the hostile session's export: %d %q", code, h.Get("Content-Type"))
	}
}

func TestExportJSONL(t *testing.T) {
	ts := newServer(t)
	code, body, h := get(t, ts, "/sessions/"+sessApp+".jsonl")
	if code != 200 {
		t.Fatalf("GET .jsonl: %d\n%s", code, body)
	}
	if cd := h.Get("Content-Disposition"); cd != `attachment; filename=session-`+sessApp+`.jsonl` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	var want []byte
	for _, p := range []string{appFile, appSub} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, b...)
	}
	if body != string(want) {
		t.Errorf("the export (%d bytes) differs from the transcript and its subagent's (%d bytes)", len(body), len(want))
	}
	// Old-style subagent files beside the session's come after it.
	_, body, _ = get(t, ts, "/sessions/"+sessTools+".jsonl")
	main, err := os.ReadFile("../testdata/claude/projects/-src-tools/" + sessTools + ".jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(body, string(main)) || len(body) == len(main) {
		t.Errorf("the export of %s does not start with its transcript and go on with its subagent's", sessTools)
	}
	for path, want := range map[string]int{
		"/sessions/no-such-session.jsonl": 404, "/sessions/no-such-session.md": 404, "/sessions/%00.md": 400,
		"/sessions/" + sessApp + ".txt": 404,
	} {
		if code, _, _ := get(t, ts, path); code != want {
			t.Errorf("GET %s = %d, want %d", path, code, want)
		}
	}
}

// A transcript whose file is gone still exports as Markdown, but not as
// its original lines.
func TestExportGone(t *testing.T) {
	dir := t.TempDir()
	src := os.DirFS("../testdata/claude")
	if err := os.CopyFS(dir, src); err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t)
	importTrees(t, db, dir)
	ts := serve(t, db)
	if code, _, _ := get(t, ts, "/sessions/"+sessApp+".jsonl"); code != 200 {
		t.Fatalf("before deleting: %d", code)
	}
	if err := os.Remove(filepath.Join(dir, "projects", "-src-app", sessApp+".jsonl")); err != nil {
		t.Fatal(err)
	}
	code, body, _ := get(t, ts, "/sessions/"+sessApp+".jsonl")
	if code != 410 || !strings.Contains(body, "is gone") || !strings.Contains(body, "/sessions/"+sessApp+".md") {
		t.Errorf("after deleting: %d\n%s", code, body)
	}
	if code, body, _ := get(t, ts, "/sessions/"+sessApp+".md"); code != 200 || !strings.Contains(body, "Fix the off-by-one") {
		t.Errorf("the Markdown export after deleting: %d", code)
	}
}
