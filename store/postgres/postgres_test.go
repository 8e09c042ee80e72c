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
	down3, err := fs.ReadFile(migrations.Postgres, "postgres/0003_record.down.sql")
	if err != nil {
		t.Fatal(err)
	}
	rawExec(t, dsn, string(down3),
		`DROP TABLE skipped_lines, session_files`,
		`ALTER TABLE ingest_files DROP COLUMN dev, DROP COLUMN inode, DROP COLUMN head_len, DROP COLUMN head_hash,
			DROP COLUMN imported_at, DROP COLUMN gone_at`,
		`UPDATE schema_migrations SET version = 1, dirty = false`,
		`CREATE TABLE skipped_lines (x int)`)
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
	// their files, clearing the skipped lines and the file's state.
	const statements = 12 + 2 + 4
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
