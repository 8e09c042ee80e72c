package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claude-insights/insights/migrations"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
	"github.com/claude-insights/insights/store/postgres/pgtest"
	"github.com/claude-insights/insights/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t testing.TB) store.Driver {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, open)
}

// BenchmarkApply writes batches of 1,000 and of 100,000 messages and replies:
// the time per message stays flat, as each batch takes a fixed number of
// statements.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { storetest.BenchmarkApply(b, open, n) })
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Apply(ctx, &store.Batch{File: store.FileState{Path: "/a.jsonl", Size: 10, Offset: 10}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("reopen (migrations must be a no-op): %v", err)
	}
	defer db.Close()
	if st, ok, err := db.FileState(ctx, "/a.jsonl"); err != nil || !ok || st.Offset != 10 {
		t.Errorf("FileState after reopen = %+v, %v, %v", st, ok, err)
	}
}

func rawExec(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	conn, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// A migration that fails is reported by name, with how to recover; once the
// cause is gone, the next start applies it.
func TestFailedMigrationIsNamedAndRetried(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Back to version 1, with a table in the way of migration 2.
	var downs []string
	for _, name := range []string{"0007_export", "0006_dashboard", "0005_team", "0004_session_list", "0003_record"} {
		down, err := fs.ReadFile(migrations.Postgres, "postgres/"+name+".down.sql")
		if err != nil {
			t.Fatal(err)
		}
		downs = append(downs, string(down))
	}
	rawExec(t, dsn, append(downs,
		`DROP TABLE skipped_lines, session_files`,
		`ALTER TABLE ingest_files DROP COLUMN dev, DROP COLUMN inode, DROP COLUMN head_len, DROP COLUMN head_hash,
			DROP COLUMN imported_at, DROP COLUMN gone_at`,
		`UPDATE schema_migrations SET version = 1, dirty = false`,
		`CREATE TABLE skipped_lines (x int)`)...)
	_, err = postgres.Open(ctx, dsn, postgres.Options{})
	if err == nil {
		t.Fatal("Open succeeded with a table in the way of migration 2")
	}
	for _, want := range []string{"0002_incremental", "nothing of it was applied", "version 1", "skipped_lines", "start insights again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	rawExec(t, dsn, `DROP TABLE skipped_lines`)
	db, err = postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open after the cause was removed: %v", err)
	}
	defer db.Close()
	if _, err := db.Status(ctx, 1); err != nil {
		t.Errorf("Status after the retried migration: %v", err)
	}
}

// Processes starting together on one new database migrate it one at a time.
func TestOpenConcurrently(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h/db?sslmode=disable": "postgres://u:xxxxx@h/db?sslmode=disable",
		"host=h user=u password=secret dbname=d":   "host=h user=u password=xxxxx dbname=d",
		"host=h password='se cret' dbname=d":       "host=h password=xxxxx dbname=d",
		"postgres://u@h/db":                        "postgres://u@h/db",
		"postgres://u@h/db?password=secret&x=1":    "postgres://u@h/db?password=xxxxx&x=1",
	} {
		if got := postgres.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// countingDialer counts the writes on its connections: each request the
// client sends before it waits for an answer.
type countingDialer struct{ writes atomic.Int64 }

func (d *countingDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialTimeout(network, address, 0)
}

func (d *countingDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout(network, address, timeout)
	return &countingConn{c, &d.writes}, err
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// recordBatch is storetest.LargeBatch with, for each message, a tool call
// (its use and its result), a file change, a subagent, a summary, a commit,
// a tag (the same one each time), a plan, a todo list of two items and a
// prompt. The session lasts a day: it is tagged long too.
func recordBatch(sid string, n int) *store.Batch {
	b := storetest.LargeBatch(sid, n)
	for _, m := range b.Messages {
		id := "t-" + m.UUID
		b.ToolUses = append(b.ToolUses, store.ToolUse{ID: id, SessionID: sid, MessageUUID: m.UUID, Seq: m.Seq,
			Name: "Edit", Input: []byte(`{"file_path":"/src/a.go"}`), At: m.Timestamp})
		b.ToolResults = append(b.ToolResults, store.ToolResult{ToolUseID: id, SessionID: sid, MessageUUID: m.UUID,
			Text: "ok", At: m.Timestamp})
		b.FileChanges = append(b.FileChanges, store.FileChange{ToolUseID: id, SessionID: sid, Path: "/src/a.go",
			Operation: store.OpEdit, Added: 1, At: m.Timestamp})
		b.Subagents = append(b.Subagents, store.Subagent{SessionID: sid, AgentID: "a-" + m.UUID, ToolUseID: id})
		b.Summaries = append(b.Summaries, store.Summary{LeafUUID: m.UUID, Text: "title"})
		b.Commits = append(b.Commits, store.Commit{ToolUseID: id, SessionID: sid, Hash: "c-" + m.UUID, Branch: "main",
			Subject: "Edit a.go", At: m.Timestamp})
		b.Tags = append(b.Tags, store.Tag{SessionID: sid, Tag: "tool:Edit"})
		b.Plans = append(b.Plans, store.Plan{Slug: "p-" + m.UUID, Path: "/c/plans/p-" + m.UUID + ".md",
			Markdown: "# Plan", ModTime: m.Timestamp})
		b.TodoLists = append(b.TodoLists, store.TodoList{SessionID: sid, AgentID: "a-" + m.UUID, Items: []store.Todo{
			{Content: "Edit a.go", Status: "completed", ActiveForm: "Editing a.go"}, {Content: "Test", Status: "pending"}}})
		b.Prompts = append(b.Prompts, store.Prompt{Key: "k-" + m.UUID, At: m.Timestamp, Project: "/src", SessionID: sid,
			Text: "edit a.go", Pasted: []byte(`{"1":{"id":1}}`)})
	}
	return b
}

// A batch costs the same few round trips whether it holds ten rows or ten
// thousand: rows are never sent one statement each.
func TestApplyRoundTripsDoNotGrowWithRows(t *testing.T) {
	ctx := context.Background()
	d := &countingDialer{}
	db, err := postgres.Open(ctx, pgtest.DSN(t), postgres.Options{MaxConns: 1, Dialer: d})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	writes := func(b *store.Batch) int64 {
		before := d.writes.Load()
		if err := db.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
		return d.writes.Load() - before
	}
	// BEGIN, the write lock and COMMIT take one write each; each statement
	// with parameters takes two (parse, then bind and execute). There is one
	// statement for each of the batch's 12 kinds of rows (tool uses and
	// results together; the batch has no skipped lines), two for the
	// quarter-hour sums, and one each for the sessions' totals and tags,
	// their files, clearing the skipped lines and the file's state, and one
	// marking the days changed for the Parquet snapshots.
	const statements = 12 + 2 + 4 + 1
	const most = 3 + 2*statements
	writes(recordBatch("warm", 1))
	small, large := writes(recordBatch("small", 10)), writes(recordBatch("large", 10_000))
	if small != large || large > most {
		t.Errorf("writes to the server: %d for 10 rows, %d for 10,000; want the same, at most %d", small, large, most)
	}
	t.Logf("%d writes per batch", large)
}

// Copies of a row in one batch give what applying them one batch each, in
// the batch's order, gives: they are merged before PostgreSQL, which refuses
// to change a row twice in one statement, sees them.
func TestCopiesInOneBatchAsOneByOne(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	commit := func(sid, subject string) store.Commit {
		return store.Commit{ToolUseID: "t1", SessionID: sid, Hash: "abc1234", Branch: "main", Subject: subject, At: day}
	}
	todos := func(agent string, n int) store.TodoList {
		l := store.TodoList{SessionID: "s1", AgentID: agent}
		for i := range n {
			l.Items = append(l.Items, store.Todo{Content: fmt.Sprintf("%s item %d of %d", agent, i, n), Status: "pending"})
		}
		return l
	}
	parts := []store.Batch{
		{Commits: []store.Commit{commit("s2", "from s2")}},
		{Commits: []store.Commit{commit("s1", "from s1")}},
		{Commits: []store.Commit{commit("s1", "from s1 again")}},
		{Commits: []store.Commit{commit("s2", "from s2 again")}},
		{Tags: []store.Tag{{SessionID: "s1", Tag: "x"}}},
		{Tags: []store.Tag{{SessionID: "s1", Tag: "x"}}},
		{Tags: []store.Tag{{SessionID: "s1", Tag: "y"}}},
		{Plans: []store.Plan{{Slug: "plan", Path: "/c/plans/plan.md", Markdown: "# One", ModTime: day}}},
		{Plans: []store.Plan{{Slug: "plan", Path: "/c/plans/plan.md", Markdown: "# Two", ModTime: day.Add(time.Hour)}}},
		{TodoLists: []store.TodoList{todos("s1", 3)}},
		{TodoLists: []store.TodoList{todos("s1", 1), todos("ag", 1)}},
		{TodoLists: []store.TodoList{todos("s1", 2)}},
		{Prompts: []store.Prompt{{Key: "k1", At: day, Text: "first", Pasted: []byte(`{"1":{"id":1}}`)}}},
		{Prompts: []store.Prompt{{Key: "k1", At: day, Text: "second"}}},
	}
	sessions := &store.Batch{File: store.FileState{Path: "/c/s.jsonl"}, Sessions: []store.Session{
		{ID: "s1", Slug: "plan", FirstAt: day, LastAt: day}, {ID: "s2", Slug: "plan", FirstAt: day, LastAt: day}}}
	read := func(db store.Driver) string {
		var b strings.Builder
		for _, r := range []func() (any, error){
			func() (any, error) { return db.Commits(ctx, "s1") },
			func() (any, error) { return db.Commits(ctx, "s2") },
			func() (any, error) { return db.Tags(ctx, "s1") },
			func() (any, error) { return db.Plans(ctx) },
			func() (any, error) { return db.Todos(ctx, "s1") },
			func() (any, error) { return db.Prompts(ctx, store.PromptQuery{}) },
		} {
			v, err := r()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%+v\n", v)
		}
		return b.String()
	}

	apart, together := open(t), open(t)
	all := store.Batch{File: store.FileState{Path: "/c/all.jsonl"}}
	for _, db := range []store.Driver{apart, together} {
		if err := db.Apply(ctx, sessions); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range parts {
		p.File.Path = fmt.Sprintf("/c/part%d.jsonl", i)
		if err := apart.Apply(ctx, &p); err != nil {
			t.Fatal(err)
		}
		all.Commits, all.Tags, all.Plans = append(all.Commits, p.Commits...), append(all.Tags, p.Tags...), append(all.Plans, p.Plans...)
		all.TodoLists, all.Prompts = append(all.TodoLists, p.TodoLists...), append(all.Prompts, p.Prompts...)
	}
	if err := together.Apply(ctx, &all); err != nil {
		t.Fatal(err)
	}
	want, got := read(apart), read(together)
	if got != want {
		t.Errorf("one batch gives\n%s\none batch each gives\n%s", got, want)
	}
	for _, s := range []string{"from s1 again", "[x y]", "# Two", "s1 item 1 of 2", "first"} {
		if !strings.Contains(want, s) {
			t.Errorf("one batch each gives\n%s\nwhich lacks %q", want, s)
		}
	}
}

// The batches of several files applied in one Apply, merged into one set of
// statements, leave what applying them one by one leaves: copies of messages,
// replies and tool calls across sessions, a reply streamed over two batches
// of a file, a file read again from its start (its earlier skipped lines
// forgotten, those stored before and those of the group's earlier batches),
// and a whole-file error cleared by the file's next batch.
func TestGroupAsOneByOne(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return day.Add(time.Duration(m) * time.Minute) }
	file := func(path string, lines int64) store.FileState {
		return store.FileState{Path: path, Size: lines * 100, Offset: lines * 100, Lines: lines, ModTime: at(60),
			Dev: 1, Inode: uint64(len(path)), HeadLen: 100, HeadHash: "h" + path, ImportedAt: at(61)}
	}
	session := func(id string, first, last int) store.Session {
		return store.Session{ID: id, Project: "/src/" + id, GitBranch: "main", Version: "2.1.38", FirstAt: at(first), LastAt: at(last)}
	}
	msg := func(uuid, sid string, seq int64, text string) store.Message {
		return store.Message{UUID: uuid, SessionID: sid, Seq: seq, Type: "assistant", Role: "assistant", Timestamp: at(int(seq)),
			Text: text, Search: text + " searched", Model: "claude-opus-4-6", MessageID: "msg_" + uuid,
			Content: []byte(`[{"type":"text","text":"` + text + `"}]`)}
	}
	reply := func(key, sid string, m int, out int64) store.Usage {
		return store.Usage{Key: key, MessageID: "msg_" + key, RequestID: "req_" + key, SessionID: sid, Model: "claude-opus-4-6",
			Timestamp: at(m), Tokens: store.Tokens{Input: 3, Output: out, CacheRead: 100}, Cost: float64(out) / 1000, Priced: true}
	}
	call := func(id, sid string, m int) (store.ToolUse, store.ToolResult) {
		return store.ToolUse{ID: id, SessionID: sid, MessageUUID: "m-" + id, Seq: int64(m), Name: "Bash",
				Input: []byte(`{"command":"git commit"}`), At: at(m)},
			store.ToolResult{ToolUseID: id, SessionID: sid, MessageUUID: "r-" + id, Text: "done in " + sid, At: at(m + 1),
				IsError: sid == "s2"}
	}
	skip := func(path string, line int64) store.Skipped {
		return store.Skipped{Path: path, Line: line, Reason: "not JSON", Detail: fmt.Sprint("line ", line), At: at(int(line))}
	}
	u1, r1 := call("t1", "s2", 3)
	u1c, r1c := call("t1", "s1", 3)
	u2, r2 := call("t2", "s3", 7)
	before := []*store.Batch{
		{File: file("/c/c.jsonl", 4), Sessions: []store.Session{session("s3", 5, 6)}, Skipped: []store.Skipped{skip("/c/c.jsonl", 4)}},
	}
	group := []*store.Batch{
		{File: file("/c/a.jsonl", 3), Sessions: []store.Session{session("s2", 1, 3)},
			Messages: []store.Message{msg("m1", "s2", 1, "one"), msg("m2", "s2", 2, "two")},
			Usage:    []store.Usage{reply("r1", "s2", 2, 5)}, ToolUses: []store.ToolUse{u1},
			Skipped: []store.Skipped{skip("/c/a.jsonl", 3)}},
		{File: file("/c/c.jsonl", 6), Sessions: []store.Session{session("s3", 5, 8)},
			Messages: []store.Message{msg("m5", "s3", 5, "five")}, ToolUses: []store.ToolUse{u2},
			Skipped: []store.Skipped{skip("/c/c.jsonl", 5), skip("/c/c.jsonl", 6)}},
		{File: file("/c/b.jsonl", 4), Sessions: []store.Session{session("s1", 0, 4)}, // s2 resumed: copies
			Messages:    []store.Message{msg("m1", "s1", 1, "one again"), msg("m2", "s1", 2, "two again"), msg("m6", "s1", 4, "six")},
			Usage:       []store.Usage{reply("r1", "s1", 2, 40), reply("r2", "s1", 4, 7)},
			ToolUses:    []store.ToolUse{u1c},
			ToolResults: []store.ToolResult{r1c},
			FileChanges: []store.FileChange{{ToolUseID: "t1", SessionID: "s1", Path: "/src/x.go", Operation: store.OpEdit, Added: 2, At: at(3)}},
			Commits:     []store.Commit{{ToolUseID: "t1", SessionID: "s1", Hash: "abc1234", Branch: "main", Subject: "from s1", At: at(3)}}},
		{File: file("/c/a.jsonl", 6), Sessions: []store.Session{session("s2", 3, 6)}, // a read further
			Messages:    []store.Message{msg("m3", "s2", 5, "three")},
			Usage:       []store.Usage{reply("r1", "s2", 3, 40), reply("r3", "s2", 5, 9)},
			ToolResults: []store.ToolResult{r1},
			FileChanges: []store.FileChange{{ToolUseID: "t1", SessionID: "s2", Path: "/src/x.go", Operation: store.OpEdit, Added: 3, At: at(3)}},
			Commits:     []store.Commit{{ToolUseID: "t1", SessionID: "s2", Hash: "abc1234", Branch: "main", Subject: "from s2", At: at(3)}},
			Subagents:   []store.Subagent{{SessionID: "s2", AgentID: "ag1", ToolUseID: "t1"}},
			Summaries:   []store.Summary{{LeafUUID: "m3", Text: "Three things"}},
			Tags:        []store.Tag{{SessionID: "s2", Tag: "tool:Bash"}},
			Skipped:     []store.Skipped{skip("/c/a.jsonl", 5)}},
		{File: file("/c/d.jsonl", 1), Sessions: []store.Session{session("s4", 9, 9)},
			Usage: []store.Usage{reply("r4", "s4", 9, 1)}},
		{File: file("/c/c.jsonl", 2), Reset: true, Sessions: []store.Session{session("s3", 5, 7)}, // replaced: read again
			Messages:    []store.Message{msg("m5", "s3", 5, "five, replaced")},
			ToolResults: []store.ToolResult{r2},
			Usage:       []store.Usage{reply("r5", "s3", 7, 11)},
			Skipped:     []store.Skipped{skip("/c/c.jsonl", 2)}},
		{File: file("/c/a.jsonl", 7), Usage: []store.Usage{reply("r3", "s2", 6, 9)}},
	}
	read := func(db store.Driver) string {
		var b strings.Builder
		st, err := db.Status(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		st.Size = 0
		fmt.Fprintf(&b, "status %+v\n", st)
		files, err := db.Files(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "files %+v\n", files)
		for _, q := range []store.UsageQuery{{}, {BySession: true}} {
			us, err := db.UsageSums(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "usage %+v\n", us)
		}
		for _, id := range []string{"s1", "s2", "s3", "s4"} {
			for _, r := range []func() (any, error){
				func() (any, error) { return db.Session(ctx, id) },
				func() (any, error) { return db.Messages(ctx, id) },
				func() (any, error) {
					cs, err := db.ToolCalls(ctx, id)
					var out []string // the results, not their addresses
					for _, c := range cs {
						out = append(out, fmt.Sprintf("%+v %+v", c.ToolUse, c.Result))
					}
					return out, err
				},
				func() (any, error) { return db.FileChanges(ctx, id) },
				func() (any, error) { return db.Commits(ctx, id) },
				func() (any, error) { return db.Subagents(ctx, id) },
				func() (any, error) { return db.Tags(ctx, id) },
				func() (any, error) { return db.Replies(ctx, id) },
			} {
				v, err := r()
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "%s %+v\n", id, v)
			}
		}
		return b.String()
	}

	apart, together := open(t), open(t)
	for _, db := range []store.Driver{apart, together} {
		for _, b := range before {
			if err := db.Apply(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SkipFile(ctx, store.Skipped{Path: "/c/d.jsonl", Reason: "unreadable", At: at(0)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range group {
		if err := apart.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := together.Apply(ctx, group...); err != nil {
		t.Fatal(err)
	}
	want, got := read(apart), read(together)
	if got != want {
		t.Errorf("one Apply gives\n%s\none Apply each gives\n%s", got, want)
	}
	// The case is only worth its name if each rule was at work.
	for _, s := range []string{"Skipped:3 ", "Line:2 ", "Line:3 ", "Line:5 ", "Text:one again", "Text:five, replaced",
		"Output:40", "Subject:from s1", "Title:Three things", "Text:done in s1", "Lines:7 "} {
		if !strings.Contains(want, s) {
			t.Errorf("one Apply each gives\n%s\nwhich lacks %q", want, s)
		}
	}
}
