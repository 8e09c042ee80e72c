package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/store"
)

// skipAt is where an import must report a skipped line (or a whole file, at
// line 0) and why.
type skipAt struct {
	path   string
	line   int64
	reason string
}

func (s skipAt) String() string { return fmt.Sprintf("%s:%d (%s)", s.path, s.line, s.reason) }

// badWant is what an import must make of a tree of bad input.
type badWant struct {
	// sessions hold exactly the valid lines okBefore and okAfter write.
	sessions []string
	// absent are sessions whose only lines cannot be read.
	absent []string
	skips  []skipAt
	// types are record types imported besides the valid lines' user and
	// assistant records.
	types map[string]int64
}

func (w *badWant) add(o badWant) {
	w.sessions = append(w.sessions, o.sessions...)
	w.absent = append(w.absent, o.absent...)
	w.skips = append(w.skips, o.skips...)
	for k, v := range o.types {
		if w.types == nil {
			w.types = map[string]int64{}
		}
		w.types[k] += v
	}
}

// badCase builds its files in folder p (dir/projects/p) and says what to
// expect. limit is the importer's effective MaxLineBytes.
type badCase struct {
	name string
	// maxLine is the Importer.MaxLineBytes the case runs with alone.
	maxLine int
	// perms marks cases that rely on file permissions, which root ignores.
	perms bool
	build func(t *testing.T, p string, limit int) badWant
}

const okTime = "2026-03-01T09:00:00.000Z"

// okBefore and okAfter are two valid prompts with their replies; around a
// bad line they must be imported exactly: 4 messages and okTokens.
func okBefore(sid string) string { return okUser(sid, 1) + okReply(sid, 1, 5) }
func okAfter(sid string) string  { return okUser(sid, 2) + okReply(sid, 2, 7) }

var okTokens = store.Tokens{Input: 20, Output: 12, CacheRead: 200}

func okUser(sid string, n int) string {
	return fmt.Sprintf(`{"type":"user","uuid":"%s-u%d","sessionId":"%s","timestamp":"%s","cwd":"/src/bad",`+
		`"message":{"role":"user","content":"prompt %d"}}`+"\n", sid, n, sid, okTime, n)
}

func okReply(sid string, n, out int) string {
	return fmt.Sprintf(`{"type":"assistant","uuid":"%s-a%d","sessionId":"%s","timestamp":"%s","cwd":"/src/bad",`+
		`"requestId":"req_%s_%d","message":{"id":"msg_%s_%d","model":"claude-opus-4-6","role":"assistant",`+
		`"content":[{"type":"text","text":"ok"}],"usage":{"input_tokens":10,"output_tokens":%d,"cache_read_input_tokens":100}}}`+"\n",
		sid, n, sid, okTime, sid, n, sid, n, out)
}

// framed writes bad between the valid lines of session sid into p/<sid>.jsonl
// and returns the file's path; bad starts at line 3.
func framed(t *testing.T, p, sid, bad string) string {
	t.Helper()
	path := filepath.Join(p, sid+".jsonl")
	writeFile(t, path, okBefore(sid)+bad+okAfter(sid))
	return path
}

// lineCase is a case of bad lines between valid ones, each line's reason
// given in order ("" for a line that is not skipped).
func lineCase(name, sid string, reasons []error, lines ...string) badCase {
	return badCase{name: name, build: func(t *testing.T, p string, _ int) badWant {
		path := framed(t, p, sid, strings.Join(lines, "\n")+"\n")
		w := badWant{sessions: []string{sid}}
		for i, r := range reasons {
			if r != nil {
				w.skips = append(w.skips, skipAt{path, int64(3 + i), r.Error()})
			}
		}
		return w
	}}
}

// binaryLines is n lines of random bytes, each with NULs and no newline.
func binaryLines(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b []byte
	for range n {
		line := make([]byte, 512)
		for i := range line {
			line[i] = byte(rng.UintN(256))
			if line[i] == '\n' {
				line[i] = 0
			}
		}
		line[100] = 0
		b = append(append(b, line...), '\n')
	}
	return b
}

// hugeLine writes a file with one line of size bytes between the valid
// lines of sid: garbage (an unterminated object) or a valid user record.
func hugeLine(t *testing.T, p, sid string, size int, garbage bool) string {
	t.Helper()
	path := filepath.Join(p, sid+".jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := `{"type":"user","x":"`
	tail := ""
	if !garbage {
		head = fmt.Sprintf(`{"type":"user","uuid":"%s-big","sessionId":"%s","timestamp":"%s","message":{"role":"user","content":"`, sid, sid, okTime)
		tail = `"}}`
	}
	body := bytes.Repeat([]byte("a"), size-len(head)-len(tail))
	for _, s := range [][]byte{[]byte(okBefore(sid) + head), body, []byte(tail + "\n" + okAfter(sid))} {
		if _, err := f.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

const hugeSize = 50 << 20

var badCases = []badCase{
	lineCase("not JSON", "notjson", []error{ingest.ErrNotJSON}, "this is not JSON at all"),
	lineCase("truncated JSON", "truncated", []error{ingest.ErrNotJSON},
		`{"type":"assistant","uuid":"truncated-x","sessionId":"truncated","message":{"id":"msg_tr`),
	{name: "blank lines", build: func(t *testing.T, p string, _ int) badWant {
		writeFile(t, filepath.Join(p, "blank.jsonl"), "\n"+okBefore("blank")+"\n   \n\t\r\n"+okAfter("blank")+"\n\n")
		return badWant{sessions: []string{"blank"}}
	}},
	{name: "BOM", build: func(t *testing.T, p string, _ int) badWant {
		writeFile(t, filepath.Join(p, "bom.jsonl"), "\xEF\xBB\xBF"+okBefore("bom")+okAfter("bom"))
		return badWant{sessions: []string{"bom"}}
	}},
	lineCase("not UTF-8", "latin1", []error{ingest.ErrNotUTF8, ingest.ErrNotUTF8},
		`{"type":"user","uuid":"latin1-x","sessionId":"latin1","message":{"role":"user","content":"caf`+"\xe9"+`"}}`,
		"\xff\xfe\xfd"),
	lineCase("JSON not an object", "notobject",
		[]error{ingest.ErrNotObject, ingest.ErrNotObject, ingest.ErrNotObject, ingest.ErrNotObject, ingest.ErrNotObject},
		`42`, `"a string"`, `[1,{"type":"user"}]`, `null`, `true`),
	{name: "unknown record type", build: func(t *testing.T, p string, _ int) badWant {
		framed(t, p, "unknown", `{"type":"queue-operation","operation":"enqueue","sessionId":"unknown","timestamp":"`+okTime+`"}`+"\n")
		return badWant{sessions: []string{"unknown"}, types: map[string]int64{"queue-operation": 1}}
	}},
	lineCase("missing type", "notype", []error{ingest.ErrNoType, ingest.ErrNoType, ingest.ErrNoType},
		`{"uuid":"notype-x","sessionId":"notype","timestamp":"`+okTime+`","message":{"role":"user","content":"x"}}`,
		`{"type":null,"uuid":"notype-y","sessionId":"notype"}`,
		`{"type":"","uuid":"notype-z","sessionId":"notype"}`),
	lineCase("wrongly typed fields", "badfield",
		[]error{ingest.ErrBadField, ingest.ErrBadField, ingest.ErrBadField, ingest.ErrBadField, ingest.ErrBadField, ingest.ErrBadField},
		`{"type":"user","uuid":"badfield-1","sessionId":"badfield","timestamp":5,"message":{"role":"user","content":"x"}}`,
		`{"type":"user","uuid":"badfield-2","sessionId":"badfield","timestamp":"`+okTime+`","message":"x"}`,
		`{"type":"assistant","uuid":"badfield-3","sessionId":"badfield","timestamp":"`+okTime+`","requestId":"req_bf",`+
			`"message":{"id":"msg_bf","model":"claude-opus-4-6","usage":{"input_tokens":"many"}}}`,
		`{"type":"user","uuid":"badfield-4","sessionId":"badfield","timestamp":"yesterday","message":{"role":"user","content":"x"}}`,
		`{"type":"user","uuid":"badfield-5","sessionId":"badfield","isSidechain":"yes","message":{"role":"user","content":"x"}}`,
		`{"type":5,"uuid":"badfield-6","sessionId":"badfield"}`),
	lineCase("message missing", "nomessage", []error{ingest.ErrMissingField, ingest.ErrMissingField, ingest.ErrMissingField},
		`{"type":"user","uuid":"nomessage-1","sessionId":"nomessage","timestamp":"`+okTime+`"}`,
		`{"type":"user","uuid":"nomessage-2","sessionId":"nomessage","timestamp":"`+okTime+`","message":null}`,
		`{"type":"assistant","uuid":"nomessage-3","sessionId":"nomessage","timestamp":"`+okTime+`","requestId":"req_nm"}`),
	{name: "line too long", maxLine: 1 << 20, build: func(t *testing.T, p string, limit int) badWant {
		if limit >= hugeSize {
			t.Fatalf("limit %d lets the huge line through", limit)
		}
		path := hugeLine(t, p, "toolong", hugeSize, false)
		return badWant{sessions: []string{"toolong"}, skips: []skipAt{{path, 3, ingest.ErrTooLong.Error()}}}
	}},
	{name: "50 MB of garbage at the default limit", build: func(t *testing.T, p string, limit int) badWant {
		path := hugeLine(t, p, "garbage", hugeSize, true)
		reason := ingest.ErrNotJSON
		if limit < hugeSize {
			reason = ingest.ErrTooLong
		}
		return badWant{sessions: []string{"garbage"}, skips: []skipAt{{path, 3, reason.Error()}}}
	}},
	{name: "binary file", build: func(t *testing.T, p string, _ int) badWant {
		framed(t, p, "binary", "")
		path := filepath.Join(p, "x.jsonl")
		writeFile(t, path, string(binaryLines(3)))
		// Without its last newline, the last line is no less binary.
		unterminated := filepath.Join(p, "x2.jsonl")
		b := binaryLines(2)
		writeFile(t, unterminated, string(b[:len(b)-1]))
		w := badWant{sessions: []string{"binary"}}
		for n := int64(1); n <= 3; n++ {
			w.skips = append(w.skips, skipAt{path, n, ingest.ErrBinary.Error()})
		}
		for n := int64(1); n <= 2; n++ {
			w.skips = append(w.skips, skipAt{unterminated, n, ingest.ErrBinary.Error()})
		}
		return w
	}},
	{name: "folder named like a transcript", build: func(t *testing.T, p string, _ int) badWant {
		// A folder is reported, and walked: a transcript inside it counts.
		framed(t, filepath.Join(p, "y.jsonl"), "infolder", "")
		if err := os.Mkdir(filepath.Join(p, "empty.jsonl"), 0o755); err != nil {
			t.Fatal(err)
		}
		return badWant{sessions: []string{"infolder"}, skips: []skipAt{
			{filepath.Join(p, "empty.jsonl"), 0, ingest.ErrNotFile.Error()},
			{filepath.Join(p, "y.jsonl"), 0, ingest.ErrNotFile.Error()},
		}}
	}},
	{name: "symlink to a folder", build: func(t *testing.T, p string, _ int) badWant {
		framed(t, p, "dirlink", "")
		path := filepath.Join(p, "w.jsonl")
		if err := os.Symlink(".", path); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
		return badWant{sessions: []string{"dirlink"}, skips: []skipAt{{path, 0, ingest.ErrNotFile.Error()}}}
	}},
	{name: "empty file", build: func(t *testing.T, p string, _ int) badWant {
		framed(t, p, "emptysib", "")
		writeFile(t, filepath.Join(p, "e.jsonl"), "")
		return badWant{sessions: []string{"emptysib"}}
	}},
	{name: "symlink loop", build: func(t *testing.T, p string, _ int) badWant {
		framed(t, p, "loopsib", "")
		path := filepath.Join(p, "z.jsonl")
		if err := os.Symlink("z.jsonl", path); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
		return badWant{sessions: []string{"loopsib"}, skips: []skipAt{{path, 0, ingest.ErrUnreadable.Error()}}}
	}},
	{name: "unreadable file", perms: true, build: func(t *testing.T, p string, _ int) badWant {
		framed(t, p, "lockedsib", "")
		path := framed(t, p, "lockedfile", "")
		chmod(t, path, 0)
		return badWant{sessions: []string{"lockedsib"}, absent: []string{"lockedfile"},
			skips: []skipAt{{path, 0, ingest.ErrUnreadable.Error()}}}
	}},
	{name: "unreadable folder", perms: true, build: func(t *testing.T, p string, _ int) badWant {
		framed(t, p, "lockeddirsib", "")
		dir := filepath.Join(p, "locked")
		framed(t, dir, "lockeddir", "")
		chmod(t, dir, 0)
		return badWant{sessions: []string{"lockeddirsib"}, absent: []string{"lockeddir"},
			skips: []skipAt{{dir, 0, ingest.ErrUnreadable.Error()}}}
	}},
}

// chmod sets mode on path and restores it when the test ends, so that the
// temporary directory can be removed.
func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(path, 0o755) })
}

// permsIgnored reports why permission cases cannot run here, or "".
func permsIgnored() string {
	switch {
	case runtime.GOOS == "windows":
		return "file modes do not deny reads on Windows"
	case os.Geteuid() == 0:
		return "running as root, which reads files whatever their mode"
	}
	return ""
}

func TestBadInput(t *testing.T) {
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			if why := permsIgnored(); tc.perms && why != "" {
				t.Skip(why)
			}
			dir := t.TempDir()
			p := filepath.Join(dir, "projects", "p")
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			limit := tc.maxLine
			if limit == 0 {
				limit = ingest.DefaultMaxLineBytes
			}
			want := tc.build(t, p, limit)
			checkBadImport(t, openDB(t), dir, tc.maxLine, want)
		})
	}
}

// TestBadInputAllTogether imports every bad case from one tree at once.
func TestBadInputAllTogether(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "projects", "p")
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	const limit = 1 << 20
	var want badWant
	for _, tc := range badCases {
		if why := permsIgnored(); tc.perms && why != "" {
			t.Logf("leaving out %q: %s", tc.name, why)
			continue
		}
		want.add(tc.build(t, p, limit))
	}
	eachDriver(t, func(t *testing.T, open func(testing.TB) store.Driver) {
		checkBadImport(t, open(t), dir, limit, want)
	})
}

// checkBadImport imports dir twice and checks both imports against want.
func checkBadImport(t *testing.T, db store.Driver, dir string, maxLine int, want badWant) {
	t.Helper()
	ctx := context.Background()
	im := newImporter(db)
	im.MaxLineBytes = maxLine

	start := time.Now()
	st, err := im.ImportTree(ctx, dir)
	if err != nil {
		t.Fatalf("ImportTree: %v", err)
	}
	t.Logf("imported %d lines, %d bytes in %v", st.Lines, st.Bytes, time.Since(start).Round(time.Millisecond))

	var got []skipAt
	for _, e := range st.Errors {
		got = append(got, skipAt{e.Path, e.Line, e.Reason()})
	}
	if !sameSkips(got, want.skips) {
		t.Errorf("Stats.Errors = %v\nwant %v", got, sortedSkips(want.skips))
	}
	if st.Broken != int64(len(want.skips)) {
		t.Errorf("Stats.Broken = %d, want %d", st.Broken, len(want.skips))
	}
	wantReasons := map[string]int64{}
	for _, s := range want.skips {
		wantReasons[s.reason]++
	}
	if !equalCounts(st.Reasons, wantReasons) {
		t.Errorf("Stats.Reasons = %v, want %v", st.Reasons, wantReasons)
	}
	wantTypes := map[string]int64{
		ingest.TypeUser:      2 * int64(len(want.sessions)),
		ingest.TypeAssistant: 2 * int64(len(want.sessions)),
	}
	for k, v := range want.types {
		wantTypes[k] += v
	}
	if !equalCounts(st.Types, wantTypes) {
		t.Errorf("Stats.Types = %v, want %v", st.Types, wantTypes)
	}
	checkBadStore(t, db, want)
	before, err := db.Status(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}

	// Again: nothing is read twice, and what was skipped is not counted twice.
	st2, err := im.ImportTree(ctx, dir)
	if err != nil {
		t.Fatalf("second ImportTree: %v", err)
	}
	if st2.Lines != 0 || st2.Bytes != 0 {
		t.Errorf("second import read %d lines, %d bytes; want none", st2.Lines, st2.Bytes)
	}
	for _, e := range st2.Errors {
		t.Errorf("second import reported again: %v", e)
	}
	checkBadStore(t, db, want)
	after, err := db.Status(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	if after.Skipped != before.Skipped || after.Sessions != before.Sessions || after.Files != before.Files {
		t.Errorf("second import changed the status: skipped %d → %d, sessions %d → %d, files %d → %d",
			before.Skipped, after.Skipped, before.Sessions, after.Sessions, before.Files, after.Files)
	}
}

// checkBadStore checks what the database holds after importing want's tree.
func checkBadStore(t *testing.T, db store.Driver, want badWant) {
	t.Helper()
	ctx := context.Background()
	for _, sid := range want.sessions {
		s, err := db.Session(ctx, sid)
		if err != nil {
			t.Errorf("session %s: %v", sid, err)
			continue
		}
		if s.Messages != 4 || s.Tokens != okTokens {
			t.Errorf("session %s: %d messages, tokens %+v; want 4, %+v", sid, s.Messages, s.Tokens, okTokens)
		}
	}
	for _, sid := range want.absent {
		if _, err := db.Session(ctx, sid); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session %s of an unreadable file: err = %v, want not found", sid, err)
		}
	}
	status, err := db.Status(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	if status.Sessions != int64(len(want.sessions)) {
		t.Errorf("Status.Sessions = %d, want %d", status.Sessions, len(want.sessions))
	}
	if status.Skipped != int64(len(want.skips)) {
		t.Errorf("Status.Skipped = %d, want %d", status.Skipped, len(want.skips))
	}
	var got []skipAt
	for _, s := range status.Recent {
		got = append(got, skipAt{s.Path, s.Line, s.Reason})
		if s.Detail == "" {
			t.Errorf("Status.Recent: %s:%d has no detail", s.Path, s.Line)
		}
	}
	if !sameSkips(got, want.skips) {
		t.Errorf("Status.Recent = %v\nwant %v", sortedSkips(got), sortedSkips(want.skips))
	}
}

func sortedSkips(s []skipAt) []skipAt {
	s = slices.Clone(s)
	slices.SortFunc(s, func(a, b skipAt) int {
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		if a.line != b.line {
			return int(a.line - b.line)
		}
		return strings.Compare(a.reason, b.reason)
	})
	return s
}

func sameSkips(a, b []skipAt) bool { return slices.Equal(sortedSkips(a), sortedSkips(b)) }

// equalCounts compares two maps of counts, a missing key counting as 0.
func equalCounts(a, b map[string]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// TestBadInputFolderAsFile hands a folder and a symlink loop to ImportFile
// directly, as a watcher would: each is a whole-file skip, not an error.
func TestBadInputFolderAsFile(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "y.jsonl")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "z.jsonl")
	if err := os.Symlink("z.jsonl", loop); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	db := openDB(t)
	var st ingest.Stats
	for _, path := range []string{folder, loop} {
		if err := newImporter(db).ImportFile(context.Background(), path, &st); err != nil {
			t.Fatalf("ImportFile(%s): %v", path, err)
		}
	}
	want := []skipAt{{folder, 0, ingest.ErrNotFile.Error()}, {loop, 0, ingest.ErrUnreadable.Error()}}
	var got []skipAt
	for _, e := range st.Errors {
		got = append(got, skipAt{e.Path, e.Line, e.Reason()})
	}
	if !sameSkips(got, want) || st.Broken != 2 {
		t.Errorf("skipped %v (broken %d), want %v", got, st.Broken, want)
	}
}

// TestBadInputNeverHangs imports files that cannot end (a symlink loop, a
// folder, links to a folder and to a device) under a deadline.
func TestBadInputNeverHangs(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "projects", "p")
	framed(t, p, "hangsib", "")
	if err := os.Mkdir(filepath.Join(p, "y.jsonl"), 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"z.jsonl": "z.jsonl", "w.jsonl": ".", "y.jsonl/up": ".."}
	if _, err := os.Stat("/dev/zero"); err == nil {
		links["n.jsonl"] = "/dev/zero" // read, it would never end
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(p, name)); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db := openDB(t)
	type result struct {
		st  *ingest.Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := newImporter(db).ImportTree(ctx, dir)
		if err == nil {
			// A watcher hands paths over one by one.
			for _, name := range []string{"z.jsonl", "y.jsonl", "w.jsonl", "n.jsonl"} {
				if err = newImporter(db).ImportFile(ctx, filepath.Join(p, name), st); err != nil {
					break
				}
			}
		}
		done <- result{st, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("import: %v", r.err)
		}
		if ctx.Err() != nil {
			t.Fatalf("import returned only at the deadline")
		}
		if s := sessionOf(t, db, "hangsib"); s.Messages != 4 || s.Tokens != okTokens {
			t.Errorf("session: %d messages, tokens %+v; want 4, %+v", s.Messages, s.Tokens, okTokens)
		}
		for _, e := range r.st.Errors {
			if e.Line != 0 {
				t.Errorf("unexpected skipped line %v", e)
			}
		}
	case <-time.After(15 * time.Second):
		t.Fatal("import hangs")
	}
}
