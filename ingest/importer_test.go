package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
)

func openDB(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "insights.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newImporter(db store.Driver) *ingest.Importer {
	return &ingest.Importer{Store: db, Prices: pricing.Default()}
}

// assistantLine is one streamed line of reply n, with the given output count.
func assistantLine(n, out int, ts string) string {
	return fmt.Sprintf(`{"type":"assistant","uuid":"a%d-%d","sessionId":"s1","timestamp":"%s","cwd":"/src/app","requestId":"req_%d",`+
		`"message":{"id":"msg_%d","model":"claude-opus-4-6","role":"assistant","content":[{"type":"text","text":"x"}],`+
		`"usage":{"input_tokens":10,"output_tokens":%d,"cache_read_input_tokens":100}}}`+"\n", n, out, ts, n, n, out)
}

func userLine(n int, text string) string {
	return fmt.Sprintf(`{"type":"user","uuid":"u%d","sessionId":"s1","timestamp":"2026-02-10T10:00:00.000Z","cwd":"/src/app",`+
		`"message":{"role":"user","content":%q}}`+"\n", n, text)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

func sessionOf(t *testing.T, db store.Driver, id string) store.Session {
	t.Helper()
	s, err := db.Session(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestImportBrokenLinesAreSkippedAndCounted(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "projects", "p", "s1.jsonl")
	writeFile(t, path, "\xEF\xBB\xBF"+userLine(1, "hi")+
		"\n"+ // blank: skipped, not broken
		`{"type":"assistant", truncated`+"\n"+
		"[1,2]\n"+
		assistantLine(1, 42, "2026-02-10T10:00:01.000Z"))
	st, err := newImporter(db).ImportTree(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Broken != 2 || len(st.Errors) != 2 {
		t.Fatalf("broken = %d (%v), want 2", st.Broken, st.Errors)
	}
	if e := st.Errors[0]; e.Path != path || e.Line != 3 {
		t.Errorf("first error at %s:%d, want %s:3", e.Path, e.Line, path)
	}
	if e := st.Errors[1]; e.Line != 4 {
		t.Errorf("second error at line %d, want 4", e.Line)
	}
	s := sessionOf(t, db, "s1")
	if s.Messages != 2 || s.Output != 42 {
		t.Errorf("session = %d messages, %d output; want 2, 42", s.Messages, s.Output)
	}
	fs, _, _ := db.FileState(context.Background(), path)
	if fs.Broken != 2 || fs.Lines != 5 {
		t.Errorf("file state = %+v", fs)
	}
}

func TestImportIncrementalAndIdempotent(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "s1.jsonl")
	im := newImporter(db)
	ctx := context.Background()

	writeFile(t, path, userLine(1, "hi")+assistantLine(1, 1, "2026-02-10T10:00:01.000Z"))
	if _, err := im.ImportTree(ctx, dir); err != nil {
		t.Fatal(err)
	}
	// Unchanged: nothing is read.
	st, err := im.ImportTree(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.FilesRead != 0 || st.Bytes != 0 {
		t.Errorf("re-import read %d files, %d bytes; want none", st.FilesRead, st.Bytes)
	}
	// A line being written: not consumed until complete.
	full := assistantLine(1, 90, "2026-02-10T10:00:02.000Z")
	appendFile(t, path, full[:40])
	if _, err := im.ImportTree(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if s := sessionOf(t, db, "s1"); s.Output != 1 {
		t.Errorf("after partial line output = %d, want 1", s.Output)
	}
	appendFile(t, path, full[40:])
	st, err = im.ImportTree(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 1 || st.Broken != 0 {
		t.Errorf("append read %d lines, %d broken; want 1, 0", st.Lines, st.Broken)
	}
	s := sessionOf(t, db, "s1")
	if s.Output != 90 || s.Input != 10 || s.Messages != 3 {
		t.Errorf("after append: output %d, input %d, messages %d; want 90, 10 (one reply), 3", s.Output, s.Input, s.Messages)
	}
	// A file replaced by a shorter one is re-read from the start, without
	// duplicating anything.
	writeFile(t, path, assistantLine(1, 90, "2026-02-10T10:00:02.000Z"))
	if _, err := im.ImportTree(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if s := sessionOf(t, db, "s1"); s.Output != 90 || s.Messages != 3 {
		t.Errorf("after rewrite: output %d, messages %d; want 90, 3", s.Output, s.Messages)
	}
}

func TestImportLastLineWithoutNewline(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "s1.jsonl")
	line := assistantLine(1, 7, "2026-02-10T10:00:01.000Z")
	writeFile(t, path, strings.TrimSuffix(line, "\n"))
	im := newImporter(db)
	if _, err := im.ImportTree(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if s := sessionOf(t, db, "s1"); s.Output != 7 {
		t.Errorf("output = %d, want 7: a complete last line without newline counts", s.Output)
	}
	appendFile(t, path, "\n"+assistantLine(2, 5, "2026-02-10T10:00:03.000Z"))
	st, err := im.ImportTree(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Broken != 0 {
		t.Errorf("broken = %d after appending to a line without newline", st.Broken)
	}
	if s := sessionOf(t, db, "s1"); s.Output != 12 {
		t.Errorf("output = %d, want 12", s.Output)
	}
}

func TestImportHugeLine(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	big := strings.Repeat("y", 20<<20)
	writeFile(t, filepath.Join(dir, "s1.jsonl"), userLine(1, big)+assistantLine(1, 3, "2026-02-10T10:00:01.000Z"))
	st, err := newImporter(db).ImportTree(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Broken != 0 || st.Lines != 2 {
		t.Errorf("lines %d, broken %d", st.Lines, st.Broken)
	}
	if s := sessionOf(t, db, "s1"); s.Messages != 2 || s.Output != 3 {
		t.Errorf("session = %+v", s)
	}
}

func TestImportBatchesKeepOneReply(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	var sb strings.Builder
	for i, out := range []int{1, 2, 3, 50, 4} {
		sb.WriteString(strings.Replace(assistantLine(1, out, "2026-02-10T10:00:01.000Z"), `"uuid":"a1-`, fmt.Sprintf(`"uuid":"b%d-`, i), 1))
	}
	im := newImporter(db)
	im.BatchLines = 2 // the reply's lines straddle three transactions
	writeFile(t, filepath.Join(dir, "s1.jsonl"), sb.String())
	if _, err := im.ImportTree(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if s := sessionOf(t, db, "s1"); s.Output != 50 || s.Input != 10 || s.Messages != 5 {
		t.Errorf("output %d, input %d, messages %d; want 50, 10, 5", s.Output, s.Input, s.Messages)
	}
}

func TestTranscriptsUnderProjects(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{
		"projects/-a/s1.jsonl",
		"projects/-a/s1/subagents/agent-x.jsonl",
		"projects/-a/notes.txt",
		"history.jsonl", // outside projects/: not a transcript
	} {
		writeFile(t, filepath.Join(dir, p), "")
	}
	files, _, err := ingest.Transcripts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || !strings.HasSuffix(files[0], "s1.jsonl") || !strings.HasSuffix(files[1], "agent-x.jsonl") {
		t.Errorf("transcripts = %v", files)
	}
}
