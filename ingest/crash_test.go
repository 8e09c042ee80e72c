package ingest_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/store/sqlite"
)

// The child process of TestCrashRestartMatchesUninterruptedImport finds its
// database and transcript tree in these variables.
const (
	envCrashDB   = "INSIGHTS_CRASH_DB"
	envCrashTree = "INSIGHTS_CRASH_TREE"
)

// crashBatchLines makes the child commit in hundreds of small transactions,
// so that a kill is likely to land inside one.
const crashBatchLines = 7

// TestCrashChild is the import that TestCrashRestartMatchesUninterruptedImport
// runs in a process of its own and kills.
func TestCrashChild(t *testing.T) {
	dbPath, tree := os.Getenv(envCrashDB), os.Getenv(envCrashTree)
	if dbPath == "" || tree == "" {
		t.Skip("only run as the child of TestCrashRestartMatchesUninterruptedImport")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	im := &ingest.Importer{Store: db, Prices: pricing.Default(), BatchLines: crashBatchLines}
	if _, err := im.ImportTree(ctx, tree); err != nil {
		t.Fatal(err)
	}
}

// killPoint is when the parent kills the child: after a delay, or once the
// child has committed a share of the reference's usage rows.
type killPoint struct {
	after time.Duration
	share float64
}

func (k killPoint) String() string {
	if k.share > 0 {
		return fmt.Sprintf("after %.0f%% of usage rows", 100*k.share)
	}
	return "after " + k.after.String()
}

// TestCrashRestartMatchesUninterruptedImport kills an import with SIGKILL at
// several moments, finishes it with a fresh import, and expects the database
// an uninterrupted import gives: rows and the file offset commit together, so
// no line is lost or counted twice.
func TestCrashRestartMatchesUninterruptedImport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a dozen processes")
	}
	tree := t.TempDir()
	gen := writeCrashTree(t, tree)
	t.Logf("tree: %d files, %d lines, %d bytes, %d broken, %d replies, %d messages",
		gen.files, gen.lines, gen.bytes, gen.broken, len(gen.keys), len(gen.uuids))

	refPath := filepath.Join(t.TempDir(), "reference.db")
	finishImport(t, refPath, tree)
	ref := snapshotDB(t, refPath, tree)
	checkReference(t, refPath, ref, gen)
	if t.Failed() {
		t.FailNow()
	}

	points := []killPoint{
		{after: 5 * time.Millisecond}, {after: 20 * time.Millisecond}, {after: 50 * time.Millisecond},
		{after: 100 * time.Millisecond}, {after: 200 * time.Millisecond}, {after: 400 * time.Millisecond},
		{share: 0.1}, {share: 0.5}, {share: 0.9},
	}
	wantRows := ref["usage"].count
	midImport := 0
	for _, kp := range points {
		dbPath := filepath.Join(t.TempDir(), "crash.db")
		createSchema(t, dbPath)
		killed, committed := runAndKill(t, dbPath, tree, kp, wantRows)
		switch {
		case !killed:
			t.Logf("%v: the child had finished", kp)
		case committed == 0:
			t.Logf("%v: killed before its first commit", kp)
		case committed < gen.bytes:
			midImport++
			t.Logf("%v: killed mid-import, %d of %d bytes committed", kp, committed, gen.bytes)
		default:
			t.Logf("%v: killed after its last commit", kp)
		}
		finishImport(t, dbPath, tree)
		compareStates(t, kp.String(), ref, snapshotDB(t, dbPath, tree))
	}
	t.Logf("%d of %d kills hit mid-import", midImport, len(points))
	if midImport == 0 {
		t.Fatal("no kill hit mid-import: the tree is too small to test anything")
	}
}

// createSchema creates the schema before the child starts, so that kills land in
// the import and not in the first migration.
func createSchema(t *testing.T, path string) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// finishImport runs one uninterrupted import of tree into the database at path.
func finishImport(t *testing.T, path, tree string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := newImporter(db).ImportTree(ctx, tree); err != nil {
		t.Fatal(err)
	}
}

// runAndKill starts the child import and kills it at kp. It reports whether
// the kill found the child still running, and how many bytes of the tree the
// database holds as read once the child is gone.
func runAndKill(t *testing.T, dbPath, tree string, kp killPoint, wantRows int64) (killed bool, committed int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashDB+"="+dbPath, envCrashTree+"="+tree)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	poll := openQueryOnly(t, dbPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // when the test stops early
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	done, err := waitForKillPoint(t, poll, kp, wantRows, exited)
	if !done {
		if kerr := cmd.Process.Kill(); kerr != nil && !errors.Is(kerr, os.ErrProcessDone) {
			t.Fatalf("kill child: %v", kerr)
		}
		err = <-exited
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() == -1: // ended by the signal
		killed = true
	default:
		t.Fatalf("%v: child failed: %v\n%s", kp, err, out.Bytes())
	}
	if err := poll.QueryRow(`SELECT coalesce(sum(offset), 0) FROM ingest_files`).Scan(&committed); err != nil {
		t.Fatalf("%v: read committed offsets: %v", kp, err)
	}
	return killed, committed
}

// waitForKillPoint waits until kp is reached, or until the child exits
// first: then done is true and err is what its Wait returned.
func waitForKillPoint(t *testing.T, poll *sql.DB, kp killPoint, wantRows int64, exited <-chan error) (done bool, err error) {
	t.Helper()
	if kp.share == 0 {
		select {
		case <-time.After(kp.after):
			return false, nil
		case err := <-exited:
			return true, err
		}
	}
	threshold := int64(kp.share * float64(wantRows))
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return true, err
		case <-tick.C:
		}
		var n int64
		if qerr := poll.QueryRow(`SELECT count(*) FROM usage`).Scan(&n); qerr != nil {
			t.Fatalf("%v: poll usage rows: %v", kp, qerr)
		}
		if n >= threshold {
			return false, nil
		}
	}
}

// openQueryOnly opens a connection that cannot write, beside the child's.
func openQueryOnly(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_query_only=1&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// tableSnapshot is what is compared of one table.
type tableSnapshot struct {
	count int64
	sums  string   // sums of the token and cost columns; "" when it has none
	rows  []string // the columns of keyColumns, in order; nil for other tables
}

// keyColumns are the columns compared row by row; times of import are left
// out, since they differ between any two imports.
var keyColumns = map[string][]string{
	"usage":          {"key", "session_id", "ts", "model", "total_tokens"},
	"messages":       {"uuid", "session_id", "seq", "ts", "type"},
	"sessions":       {"id", "project", "first_at", "last_at", "messages"},
	"usage_quarters": {"session_id", "bucket", "model", "replies", "unpriced", "last_ts"},
	"session_files":  {"session_id", "path"},
	"ingest_files":   {"path", "size", "offset", "lines", "broken"},
	"skipped_lines":  {"path", "line", "reason"},
}

var sumColumns = []string{"input_tokens", "output_tokens", "cache_write_5m", "cache_write_1h", "cache_read", "total_tokens", "cost"}

// snapshotDB reads every table but meta, which holds settings, not imported
// data. Paths are shown relative to tree.
func snapshotDB(t *testing.T, path, tree string) map[string]tableSnapshot {
	t.Helper()
	db := openQueryOnly(t, path)
	defer db.Close()
	tables := map[string]string{}
	rows, err := db.Query(`SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			t.Fatal(err)
		}
		tables[name] = ddl
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	state := map[string]tableSnapshot{}
	for name := range tables {
		if name == "meta" || isShadowTable(name, tables) {
			continue
		}
		var ts tableSnapshot
		if err := db.QueryRow(`SELECT count(*) FROM "` + name + `"`).Scan(&ts.count); err != nil {
			t.Fatalf("count %s: %v", name, err)
		}
		ts.sums = columnSums(t, db, name)
		if cols, ok := keyColumns[name]; ok {
			ts.rows = keyRows(t, db, name, cols, tree)
		}
		state[name] = ts
	}
	return state
}

// isShadowTable reports whether name holds the data of a virtual table (an
// FTS index): its layout depends on how rows were batched, and the virtual
// table's own count stands for it.
func isShadowTable(name string, tables map[string]string) bool {
	for v, ddl := range tables {
		if strings.HasPrefix(strings.ToUpper(ddl), "CREATE VIRTUAL TABLE") && strings.HasPrefix(name, v+"_") {
			return true
		}
	}
	return false
}

func columnSums(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	present := map[string]bool{}
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		present[c] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var exprs, names []string
	for _, c := range sumColumns {
		if !present[c] {
			continue
		}
		names = append(names, c)
		if c == "cost" { // sums of reals differ in the last bits with the order of addition
			exprs = append(exprs, `printf('%.6f', coalesce(sum(cost), 0))`)
		} else {
			exprs = append(exprs, `coalesce(sum(`+c+`), 0)`)
		}
	}
	if len(exprs) == 0 {
		return ""
	}
	vals := make([]string, len(exprs))
	ptrs := make([]any, len(exprs))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := db.QueryRow(`SELECT ` + strings.Join(exprs, ", ") + ` FROM "` + table + `"`).Scan(ptrs...); err != nil {
		t.Fatalf("sum %s: %v", table, err)
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + vals[i]
	}
	return strings.Join(parts, " ")
}

func keyRows(t *testing.T, db *sql.DB, table string, cols []string, tree string) []string {
	t.Helper()
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = "quote(" + c + ")"
	}
	q := `SELECT ` + strings.Join(quoted, ` || ' ' || `) + ` FROM "` + table + `" ORDER BY ` + strings.Join(cols, ", ")
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.ReplaceAll(s, tree+string(filepath.Separator), ""))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkReference makes sure the uninterrupted import holds what the tree
// was made of, so that the comparisons compare something.
func checkReference(t *testing.T, path string, ref map[string]tableSnapshot, gen *crashGen) {
	t.Helper()
	checks := []struct {
		table string
		want  int
	}{
		{"usage", len(gen.keys)},
		{"messages", len(gen.uuids)},
		{"skipped_lines", gen.broken},
		{"ingest_files", gen.files},
		{"sessions", gen.sessions},
	}
	for _, c := range checks {
		if got := ref[c.table].count; got != int64(c.want) {
			t.Errorf("reference import: %s has %d rows, want %d", c.table, got, c.want)
		}
	}
	var offsets int64
	if err := openQueryOnly(t, path).QueryRow(`SELECT coalesce(sum(offset), 0) FROM ingest_files`).Scan(&offsets); err != nil {
		t.Fatal(err)
	}
	if offsets != gen.bytes {
		t.Errorf("reference import read %d bytes, want %d", offsets, gen.bytes)
	}
}

// compareStates reports every table of got that differs from want.
func compareStates(t *testing.T, label string, want, got map[string]tableSnapshot) {
	t.Helper()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		w, inWant := want[n]
		g, inGot := got[n]
		if !inWant || !inGot {
			t.Errorf("%s: table %s in reference %v, after restart %v", label, n, inWant, inGot)
			continue
		}
		if g.count != w.count {
			t.Errorf("%s: %s has %d rows after restart, want %d", label, n, g.count, w.count)
		}
		if g.sums != w.sums {
			t.Errorf("%s: %s sums after restart\n  %s\nwant\n  %s", label, n, g.sums, w.sums)
		}
		if !slices.Equal(g.rows, w.rows) {
			t.Errorf("%s: %s rows differ after restart: %s", label, n, diffSortedRows(w.rows, g.rows))
		}
	}
}

// diffSortedRows describes the first few rows missing from got and extra in it;
// both lists are sorted.
func diffSortedRows(want, got []string) string {
	var missing, extra []string
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || (i < len(want) && want[i] < got[j]):
			missing = append(missing, want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			extra = append(extra, got[j])
			j++
		default:
			i++
			j++
		}
	}
	return fmt.Sprintf("%d missing %v, %d extra %v", len(missing), missing[:min(3, len(missing))],
		len(extra), extra[:min(3, len(extra))])
}

// crashGen writes a transcript tree and notes what an import must find in it.
type crashGen struct {
	keys     map[string]bool // distinct billed replies
	uuids    map[string]bool // distinct messages
	files    int
	sessions int
	lines    int
	broken   int
	bytes    int64
}

// crashFile is the content of one transcript file, line by line.
type crashFile struct {
	path  string
	lines []string
}

var crashModels = []string{"claude-opus-4-6", "claude-opus-4-6", "claude-sonnet-4-5-20250929",
	"claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"}

// writeCrashTree writes a deterministic tree of about 4,000 lines: eight
// sessions in three projects, streamed replies whose lines share message id
// and request id with a growing output count, replies straddling a quarter
// hour, subagent replies both in agent_progress records and in their own
// files, unpriced and synthetic replies, lines without requestId, blank and
// broken lines, a BOM, a last line without newline, and a resumed session
// whose file repeats the start of another session's.
func writeCrashTree(t *testing.T, dir string) *crashGen {
	t.Helper()
	g := &crashGen{keys: map[string]bool{}, uuids: map[string]bool{}}
	projects := []string{"/src/alpha", "/src/beta", "/src/gamma"}
	var files []*crashFile
	var source []map[string]any // records of session 1, which the resumed session repeats
	for s := 0; s < 8; s++ {
		sid := fmt.Sprintf("%08x-7c1e-4a2b-9d3f-%012x", 0x10000000*(s+1), s)
		cwd := projects[s%len(projects)]
		dirName := filepath.Join(dir, "projects", strings.ReplaceAll(cwd, "/", "-"))
		f := &crashFile{path: filepath.Join(dirName, sid+".jsonl")}
		var sub *crashFile
		if s%4 == 0 {
			sub = &crashFile{path: filepath.Join(dirName, sid, "subagents", "agent-sub"+fmt.Sprint(s)+".jsonl")}
		}
		base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(s) * 5 * time.Hour)
		recs := g.session(f, sub, s, sid, cwd, base, 110)
		if s == 1 {
			source = recs
		}
		files = append(files, f)
		if sub != nil {
			files = append(files, sub)
		}
		g.sessions++
	}

	// A resumed session: its id sorts before session 1's and its file is
	// read after it, so the copies move to it.
	rid := "0a000000-7c1e-4a2b-9d3f-00000000000f"
	rf := &crashFile{path: filepath.Join(dir, "projects", "-src-gamma", rid+".jsonl")}
	for _, rec := range source[:60] {
		c := make(map[string]any, len(rec))
		for k, v := range rec {
			c[k] = v
		}
		c["sessionId"] = rid
		g.record(rf, c)
	}
	g.session(rf, nil, 100, rid, "/src/beta", time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC), 30)
	files = append(files, rf)
	g.sessions++

	for i, f := range files {
		content := strings.Join(f.lines, "\n") + "\n"
		if i == 3 {
			content = "\xEF\xBB\xBF" + content
		}
		if i == len(files)-2 { // complete, but not yet followed by a newline
			content = strings.TrimSuffix(content, "\n")
		}
		writeFile(t, f.path, content)
		g.files++
		g.lines += len(f.lines)
		g.bytes += int64(len(content))
	}
	return g
}

// session writes turns of one session into f (and its subagent's lines into
// sub, when there is one) and returns the records it wrote.
func (g *crashGen) session(f, sub *crashFile, s int, sid, cwd string, base time.Time, turns int) []map[string]any {
	var recs []map[string]any
	add := func(rec map[string]any) {
		g.record(f, rec)
		recs = append(recs, rec)
	}
	common := func(typ, uuid, parent string, ts time.Time) map[string]any {
		rec := map[string]any{"type": typ, "uuid": uuid, "parentUuid": nil, "sessionId": sid,
			"timestamp": ts.Format("2006-01-02T15:04:05.000Z"), "cwd": cwd, "gitBranch": "main",
			"version": "2.1.38", "userType": "external", "isSidechain": false}
		if parent != "" {
			rec["parentUuid"] = parent
		}
		return rec
	}
	text := strings.Repeat(fmt.Sprintf("session %d says lorem ipsum dolor sit amet. ", s), 3)
	parent := ""
	for i := 0; i < turns; i++ {
		t0 := base.Add(time.Duration(i) * 97 * time.Second)
		if i%19 == 0 { // the reply's lines straddle a quarter hour
			t0 = t0.Truncate(15 * time.Minute).Add(15*time.Minute - 4*time.Second)
		}
		u := common("user", fmt.Sprintf("u-%d-%d", s, i), parent, t0)
		u["message"] = map[string]any{"role": "user", "content": fmt.Sprintf("prompt %d: %s", i, text)}
		add(u)
		parent = u["uuid"].(string)
		if i%17 == 5 {
			f.lines = append(f.lines, "")
		}
		if i%41 == 20 && (s == 1 || s == 4 || s == 6) {
			g.brokenLine(f, `{"type":"assistant","uuid":"cut-`+fmt.Sprint(s, i)+`","message":{"id":"msg_`)
		}
		if i%53 == 40 && s == 4 {
			g.brokenLine(f, `[1,2,3]`)
		}

		model := crashModels[i%len(crashModels)]
		if i%10 == 4 {
			model = "claude-mystery-9" // unpriced
		}
		parts := 1 + i%4
		full := 50 + (i*37)%900
		for j := 0; j < parts; j++ {
			out := full
			if j < parts-1 {
				out = []int{1, 7, 30}[j]
			}
			a := common("assistant", fmt.Sprintf("a-%d-%d-%d", s, i, j), parent, t0.Add(time.Duration(3+2*j)*time.Second))
			a["requestId"] = fmt.Sprintf("req_%d_%d", s, i)
			a["message"] = map[string]any{"id": fmt.Sprintf("msg_%d_%d", s, i), "model": model, "role": "assistant",
				"content": []any{map[string]any{"type": "text", "text": fmt.Sprintf("part %d of reply %d. %s", j, i, text)}},
				"usage":   crashUsage(i, out)}
			add(a)
			parent = a["uuid"].(string)
		}
		if i%13 == 7 { // no requestId: counted on its own
			a := common("assistant", fmt.Sprintf("n-%d-%d", s, i), parent, t0.Add(20*time.Second))
			a["message"] = map[string]any{"id": fmt.Sprintf("msg_n_%d_%d", s, i), "model": "claude-opus-4-6",
				"role": "assistant", "content": []any{map[string]any{"type": "text", "text": "no request id"}},
				"usage": crashUsage(i+1, 77)}
			add(a)
		}
		if i%11 == 3 { // a subagent reply, streamed in two agent_progress records
			for j, out := range []int{3, 210 + i} {
				inner := map[string]any{"type": "assistant", "uuid": fmt.Sprintf("sub-%d-%d-%d", s, i, j),
					"timestamp": t0.Add(time.Duration(30+j) * time.Second).Format("2006-01-02T15:04:05.000Z"),
					"requestId": fmt.Sprintf("req_sub_%d_%d", s, i),
					"message": map[string]any{"id": fmt.Sprintf("msg_sub_%d_%d", s, i), "model": "claude-haiku-4-5-20251001",
						"role": "assistant", "content": []any{map[string]any{"type": "text", "text": "subagent work"}},
						"usage": crashUsage(i+2, out)}}
				p := common("progress", fmt.Sprintf("p-%d-%d-%d", s, i, j), parent, t0.Add(time.Duration(30+j)*time.Second))
				p["data"] = map[string]any{"type": "agent_progress", "agentId": fmt.Sprint("sub", s), "message": inner}
				add(p)
				if sub != nil {
					c := make(map[string]any, len(inner)+4)
					for k, v := range inner {
						c[k] = v
					}
					c["sessionId"], c["cwd"], c["isSidechain"], c["agentId"] = sid, cwd, true, fmt.Sprint("sub", s)
					g.record(sub, c)
				}
			}
		}
		if i%23 == 9 {
			sys := common("system", fmt.Sprintf("y-%d-%d", s, i), parent, t0.Add(40*time.Second))
			sys["subtype"], sys["content"] = "local_command", "ls"
			add(sys)
		}
		if i%29 == 14 { // made up by Claude Code: never billed
			a := common("assistant", fmt.Sprintf("z-%d-%d", s, i), parent, t0.Add(45*time.Second))
			a["message"] = map[string]any{"id": fmt.Sprintf("msg_z_%d_%d", s, i), "model": ingest.SyntheticModel,
				"role": "assistant", "content": []any{map[string]any{"type": "text", "text": "No response requested."}},
				"usage": crashUsage(i, 50)}
			add(a)
		}
	}
	return recs
}

// crashUsage is the usage of a line of reply i; every fifth reply has the
// old form without the split of cache writes.
func crashUsage(i, out int) map[string]any {
	cw5, cw1 := 100*(i%9), 1000*(i%3)
	u := map[string]any{"input_tokens": 3 + i%20, "output_tokens": out,
		"cache_creation_input_tokens": cw5 + cw1, "cache_read_input_tokens": 1000 * (i % 13)}
	if i%5 != 0 {
		u["cache_creation"] = map[string]any{"ephemeral_5m_input_tokens": cw5, "ephemeral_1h_input_tokens": cw1}
	}
	return u
}

// record appends rec to f and notes the message and billed reply it holds.
func (g *crashGen) record(f *crashFile, rec map[string]any) {
	b, err := json.Marshal(rec)
	if err != nil {
		panic(err)
	}
	f.lines = append(f.lines, string(b))
	switch rec["type"] {
	case "user", "system":
		g.uuids[rec["uuid"].(string)] = true
	case "assistant":
		g.uuids[rec["uuid"].(string)] = true
		g.noteReply(rec)
	case "progress":
		g.noteReply(rec["data"].(map[string]any)["message"].(map[string]any))
	}
}

func (g *crashGen) noteReply(rec map[string]any) {
	msg := rec["message"].(map[string]any)
	if msg["model"] == ingest.SyntheticModel {
		return
	}
	req, _ := rec["requestId"].(string)
	if req == "" {
		g.keys["uuid:"+rec["uuid"].(string)] = true
		return
	}
	g.keys[msg["id"].(string)+":"+req] = true
}

func (g *crashGen) brokenLine(f *crashFile, line string) {
	f.lines = append(f.lines, line)
	g.broken++
}
