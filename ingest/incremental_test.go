package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/store"
)

// sessionLine is a user line of session sid.
func sessionLine(sid, uuid, text string) string {
	return strings.Replace(userLine(0, text), `"uuid":"u0","sessionId":"s1"`, `"uuid":"`+uuid+`","sessionId":"`+sid+`"`, 1)
}

// copyLine is line with its session id replaced, as a resumed session
// repeats earlier lines under its own id.
func copyLine(line, sid string) string {
	return strings.Replace(line, `"sessionId":"s1"`, `"sessionId":"`+sid+`"`, 1)
}

func TestImportIncrementalCases(t *testing.T) {
	a1, a2, a3 := assistantLine(1, 5, "2026-02-10T10:00:01.000Z"), assistantLine(2, 7, "2026-02-10T10:00:02.000Z"),
		assistantLine(3, 11, "2026-02-10T10:00:03.000Z")
	tests := []struct {
		name    string
		initial string // content of s1.jsonl at the first import
		change  func(t *testing.T, path string)
		// what the second import reads, and what the database holds after it
		wantBytes    int64
		wantReset    bool
		wantMessages int64 // messages of session s1
		wantOutput   int64 // output tokens of session s1
		wantGone     int
	}{
		{
			name: "unchanged", initial: a1 + a2,
			change:    func(*testing.T, string) {},
			wantBytes: 0, wantMessages: 2, wantOutput: 12,
		},
		{
			name: "append", initial: a1 + a2,
			change:    func(t *testing.T, p string) { appendFile(t, p, a3) },
			wantBytes: int64(len(a3)), wantMessages: 3, wantOutput: 23,
		},
		{
			name: "partial last line waits for its newline", initial: a1 + a2[:40],
			change:    func(t *testing.T, p string) { appendFile(t, p, a2[40:]) },
			wantBytes: int64(len(a2)), wantMessages: 2, wantOutput: 12,
		},
		{
			name: "a fuller line of the same reply upgrades it", initial: a1 + a2,
			change: func(t *testing.T, p string) {
				appendFile(t, p, strings.Replace(assistantLine(2, 70, "2026-02-10T10:00:04.000Z"), `"uuid":"a2-70"`, `"uuid":"a2-full"`, 1))
			},
			wantBytes: -1, wantMessages: 3, wantOutput: 75,
		},
		{
			name: "shrink re-reads from the start", initial: a1 + a2 + a3,
			change:    func(t *testing.T, p string) { writeFile(t, p, a2) },
			wantBytes: int64(len(a2)), wantReset: true, wantMessages: 3, wantOutput: 23,
		},
		{
			name: "head change re-reads from the start", initial: a1,
			change: func(t *testing.T, p string) {
				writeFile(t, p, userLine(9, "a new first line")+a1+a2) // same inode, new head
			},
			wantBytes: -1, wantReset: true, wantMessages: 3, wantOutput: 12,
		},
		{
			name: "replaced by another file re-reads from the start", initial: a1 + a2,
			change: func(t *testing.T, p string) {
				tmp := p + ".tmp"
				writeFile(t, tmp, a1+a2+a3)
				if err := os.Rename(tmp, p); err != nil { // a new inode, same head
					t.Fatal(err)
				}
			},
			wantBytes: int64(len(a1 + a2 + a3)), wantReset: true, wantMessages: 3, wantOutput: 23,
		},
		{
			name: "rename keeps one copy", initial: a1 + a2,
			change: func(t *testing.T, p string) {
				if err := os.Rename(p, filepath.Join(filepath.Dir(p), "renamed.jsonl")); err != nil {
					t.Fatal(err)
				}
			},
			wantBytes: int64(len(a1 + a2)), wantMessages: 2, wantOutput: 12, wantGone: 1,
		},
		{
			name: "delete keeps what was imported", initial: a1 + a2,
			change: func(t *testing.T, p string) {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			},
			wantBytes: 0, wantMessages: 2, wantOutput: 12, wantGone: 1,
		},
		{
			name: "copy into a new file of another session", initial: a1 + a2,
			change: func(t *testing.T, p string) {
				// The resumed session "s2" repeats both replies, and goes on.
				writeFile(t, filepath.Join(filepath.Dir(p), "s2.jsonl"), copyLine(a1, "s2")+copyLine(a2, "s2")+copyLine(a3, "s2"))
			},
			// s1 < s2: the copies stay with s1; the new reply belongs to s2.
			wantBytes: -1, wantMessages: 2, wantOutput: 12,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "projects", "p", "s1.jsonl")
			writeFile(t, path, tc.initial)
			im := newImporter(db)
			if _, err := im.ImportTree(ctx, dir); err != nil {
				t.Fatal(err)
			}
			tc.change(t, path)
			st, err := im.ImportTree(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantBytes >= 0 && st.Bytes != tc.wantBytes {
				t.Errorf("second import read %d bytes, want %d", st.Bytes, tc.wantBytes)
			}
			if tc.wantBytes == 0 && st.FilesRead != 0 {
				t.Errorf("second import opened %d files, want none", st.FilesRead)
			}
			after, ok, err := db.FileState(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if ok && after.GoneAt.IsZero() {
				if fi, err := os.Stat(path); err == nil && after.Offset > fi.Size() {
					t.Errorf("offset %d is past the end of the file (%d bytes)", after.Offset, fi.Size())
				}
			}
			if wantReread := map[bool]int{true: 1}[tc.wantReset]; st.Reread != wantReread {
				t.Errorf("%d files read again from the start, want %d", st.Reread, wantReread)
			}
			if st.Gone != tc.wantGone {
				t.Errorf("gone = %d, want %d", st.Gone, tc.wantGone)
			}
			s := sessionOf(t, db, "s1")
			if s.Messages != tc.wantMessages || s.Output != tc.wantOutput {
				t.Errorf("session s1 has %d messages, %d output tokens; want %d, %d", s.Messages, s.Output, tc.wantMessages, tc.wantOutput)
			}
			again, err := im.ImportTree(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			if again.Bytes != 0 || again.FilesRead != 0 {
				t.Errorf("a third import of the unchanged tree read %d bytes of %d files", again.Bytes, again.FilesRead)
			}
		})
	}
}

func TestCopiesAcrossFilesAnyOrder(t *testing.T) {
	eachDriver(t, func(t *testing.T, open func(testing.TB) store.Driver) {
		a1 := assistantLine(1, 5, "2026-02-10T10:00:01.000Z")
		full := strings.Replace(assistantLine(1, 50, "2026-02-10T10:00:02.000Z"), `"uuid":"a1-50"`, `"uuid":"a1-full"`, 1)
		files := map[string]string{
			"s2.jsonl": copyLine(a1, "s2") + copyLine(full, "s2"), // the resumed copy holds the fuller line
			"s1.jsonl": a1,
		}
		var results []string
		for _, order := range [][]string{{"s1.jsonl", "s2.jsonl"}, {"s2.jsonl", "s1.jsonl"}} {
			ctx := context.Background()
			db := open(t)
			dir := t.TempDir()
			im := newImporter(db)
			st := &ingest.Stats{}
			for _, name := range order {
				p := filepath.Join(dir, name)
				writeFile(t, p, files[name])
				if err := im.ImportFile(ctx, p, st); err != nil {
					t.Fatal(err)
				}
			}
			s1, s2 := sessionOf(t, db, "s1"), sessionOf(t, db, "s2")
			if s1.Output+s2.Output != 50 {
				t.Errorf("order %v: output tokens %d + %d, want the fuller line's 50 once", order, s1.Output, s2.Output)
			}
			if s1.Messages != 1 || s2.Messages != 1 {
				t.Errorf("order %v: messages s1=%d s2=%d, want a1 in s1 (the smaller id) and a1-full in s2", order, s1.Messages, s2.Messages)
			}
			results = append(results, sessionSummary(s1)+sessionSummary(s2))
		}
		if results[0] != results[1] {
			t.Errorf("the result depends on the order files are read in:\n%s\n%s", results[0], results[1])
		}
	})
}

func sessionSummary(s store.Session) string {
	return strings.Join([]string{s.ID, s.FirstAt.String(), s.LastAt.String()}, " ") + " " +
		strings.Repeat("m", int(s.Messages)) + " " + strings.Repeat("o", int(s.Output)) + "\n"
}

func TestStatusAfterDeletion(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	dir := t.TempDir()
	keep := filepath.Join(dir, "projects", "p", "keep.jsonl")
	lost := filepath.Join(dir, "projects", "p", "lost.jsonl")
	writeFile(t, keep, sessionLine("keep", "k1", "hello"))
	writeFile(t, lost, sessionLine("lost", "l1", "hello")+"not json\n")
	im := newImporter(db)
	if _, err := im.ImportTree(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(lost); err != nil {
		t.Fatal(err)
	}
	if _, err := im.ImportTree(ctx, dir); err != nil {
		t.Fatal(err)
	}
	st, err := db.Status(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 2 || st.FilesGone != 1 || st.Sessions != 2 || st.SessionsOnlyHere != 1 {
		t.Errorf("status = %+v; want 2 files, 1 gone, 2 sessions, 1 only in the database", st)
	}
	if st.Skipped != 1 || len(st.Recent) != 1 || st.Recent[0].Path != lost || st.Recent[0].Line != 2 || st.Recent[0].Reason != "not JSON" {
		t.Errorf("skipped = %d %+v; want %s:2 not JSON", st.Skipped, st.Recent, lost)
	}
	if st.LastImport.IsZero() || st.FirstAt.IsZero() {
		t.Errorf("status lacks times: %+v", st)
	}
	// The file comes back (restored from a backup): it is tracked again.
	writeFile(t, lost, sessionLine("lost", "l1", "hello"))
	if _, err := im.ImportTree(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.Status(ctx, 50); st.FilesGone != 0 || st.SessionsOnlyHere != 0 || st.Skipped != 0 {
		t.Errorf("after the file came back: %+v; want nothing gone and the old skipped line forgotten", st)
	}
}

func TestRelativeAndAbsolutePathsAreOneFile(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "projects", "p", "s1.jsonl"), assistantLine(1, 5, "2026-02-10T10:00:01.000Z"))
	t.Chdir(dir)
	im := newImporter(db)
	if _, err := im.ImportTree(ctx, "."); err != nil {
		t.Fatal(err)
	}
	st, err := im.ImportTree(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := db.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.FilesRead != 0 || len(files) != 1 || !filepath.IsAbs(files[0].Path) {
		t.Errorf("after importing . then %s: read %d files again, tracking %+v; want one absolute path", dir, st.FilesRead, files)
	}
}
