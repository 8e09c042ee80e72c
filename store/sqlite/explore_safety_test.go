package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

// countRows reads a number through a connection of its own, not the
// explorer's.
func countRows(t *testing.T, path, query string) int64 {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int64
	if err := conn.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestExplorerRefusesWrites(t *testing.T) {
	ex, db := explorer(t, store.ExploreLimits{})
	ctx := context.Background()
	other := filepath.Join(t.TempDir(), "other.db")
	counts := func() string {
		return fmt.Sprint(
			countRows(t, db.Path(), "SELECT count(*) FROM sessions"),
			countRows(t, db.Path(), "SELECT count(*) FROM messages"),
			countRows(t, db.Path(), "SELECT count(*) FROM meta"),
			countRows(t, db.Path(), "SELECT count(*) FROM sqlite_schema"),
			countRows(t, db.Path(), "SELECT total(length(title)) FROM sessions"),
		)
	}
	before := counts()
	for _, q := range []string{
		"DELETE FROM sessions",
		"delete from messages where 1",
		"DROP TABLE sessions",
		"INSERT INTO meta (key, value) VALUES ('x', 'y')",
		"REPLACE INTO meta (key, value) VALUES ('x', 'y')",
		"UPDATE sessions SET title = 'x'",
		"WITH x AS (SELECT 1) DELETE FROM sessions",
		"CREATE TABLE x (a)",
		"CREATE TEMP TABLE x (a)",
		"CREATE VIEW x AS SELECT 1",
		"ALTER TABLE sessions ADD COLUMN x",
		"CREATE INDEX x ON sessions(title)",
		"ATTACH DATABASE '" + other + "' AS other",
		"DETACH DATABASE main",
		"PRAGMA query_only = 0",
		"PRAGMA query_only = 0; DELETE FROM sessions",
		"PRAGMA writable_schema = 1",
		"PRAGMA journal_mode = DELETE",
		"SELECT load_extension('/nonexistent/ext')",
		"select LOAD_EXTENSION('x', 'y')",
		"BEGIN",
		"SAVEPOINT a",
		"ANALYZE",
		"REINDEX",
		"VACUUM",
		"VACUUM INTO '" + other + "'",
		"SELECT 1; DELETE FROM sessions",
		"SELECT 1 /* ; */; DROP TABLE sessions -- done",
		"",
		"  -- nothing",
	} {
		_, err := ex.Query(ctx, q, nil)
		var se *store.SQLError
		if !errors.As(err, &se) || se.Msg == "" {
			t.Errorf("%s: got %v, want a refusal with a message", q, err)
			continue
		}
		// A download goes through the same door.
		err = ex.Stream(ctx, q, nil, func([]string) error { return nil }, func([]any) error { return nil })
		if !errors.As(err, &se) {
			t.Errorf("stream %s: got %v, want a refusal", q, err)
		}
	}
	if after := counts(); after != before {
		t.Errorf("the database changed: %s, was %s", after, before)
	}
	if _, err := os.Stat(other); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file was written: %s (%v)", other, err)
	}
	// Reading still works, and so do the pragmas that read the schema.
	for _, q := range []string{
		"SELECT count(*) FROM sessions",
		"PRAGMA table_info(sessions)",
		"SELECT * FROM pragma_index_list('messages')",
		"PRAGMA journal_mode",
		"SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'config'",
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3) SELECT x FROM c",
		"SELECT 'a;b' AS \";\"; -- a comment; with a semicolon",
	} {
		if res, err := ex.Query(ctx, q, nil); err != nil || len(res.Rows) == 0 {
			t.Errorf("%s: %v, %+v", q, err, res)
		}
	}
}

func TestExplorerTimeLimit(t *testing.T) {
	const limit = 300 * time.Millisecond
	ex, _ := explorer(t, store.ExploreLimits{Timeout: limit, StreamTimeout: limit})
	runaway := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
	for name, run := range map[string]func() error{
		"query": func() error { _, err := ex.Query(context.Background(), runaway, nil); return err },
		"stream": func() error {
			return ex.Stream(context.Background(), runaway, nil, func([]string) error { return nil }, func([]any) error { return nil })
		},
	} {
		start := time.Now()
		err := run()
		took := time.Since(start)
		var se *store.SQLError
		if !errors.As(err, &se) || !strings.Contains(se.Msg, "stopped after") {
			t.Errorf("%s: got %v, want the time limit's message", name, err)
		}
		if took > limit+2*time.Second {
			t.Errorf("%s: stopped after %s, limit %s", name, took, limit)
		}
	}
}

func TestExplorerRowLimit(t *testing.T) {
	ex, _ := explorer(t, store.ExploreLimits{MaxRows: 5})
	q := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < CAST(:n AS INTEGER)) SELECT x FROM c"
	for n, want := range map[string]struct {
		rows      int
		truncated bool
	}{"3": {3, false}, "5": {5, false}, "6": {5, true}, "100": {5, true}} {
		res, err := ex.Query(context.Background(), q, map[string]string{"n": n})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != want.rows || res.Truncated != want.truncated {
			t.Errorf("n=%s: %d rows, truncated %v; want %d, %v", n, len(res.Rows), res.Truncated, want.rows, want.truncated)
		}
	}
	// A download has no row limit.
	rows := 0
	err := ex.Stream(context.Background(), q, map[string]string{"n": "100"}, func([]string) error { return nil },
		func([]any) error { rows++; return nil })
	if err != nil || rows != 100 {
		t.Errorf("stream: %d rows, %v; want 100", rows, err)
	}
}

func TestExplorerTables(t *testing.T) {
	ex, _ := explorer(t, store.ExploreLimits{})
	tables, err := ex.Tables(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	// Without counts: the same tables and columns, no rows counted.
	plain, err := ex.Tables(context.Background(), false)
	if err != nil || len(plain) != len(tables) {
		t.Fatalf("tables without counts: %d, %v; with: %d", len(plain), err, len(tables))
	}
	for i, tb := range plain {
		if tb.Name != tables[i].Name || len(tb.Columns) != len(tables[i].Columns) || tb.Rows != -1 {
			t.Errorf("without counts: %+v, with: %+v", tb, tables[i])
		}
	}
	got := map[string]store.Table{}
	for _, tb := range tables {
		got[tb.Name] = tb
		if tb.Description == "" {
			t.Errorf("table %s has no description", tb.Name)
		}
		if strings.HasPrefix(tb.Name, "sqlite_") || strings.HasPrefix(tb.Name, "messages_fts_") {
			t.Errorf("internal table %s listed", tb.Name)
		}
	}
	// Counting the full-text index runs its own reads, which the
	// authorizer lets through (messages without text are not indexed).
	if n := got["messages_fts"].Rows; n < 10 || n > got["messages"].Rows {
		t.Errorf("messages_fts: %d rows, messages %d", n, got["messages"].Rows)
	}
	for name, rows := range map[string]int64{"sessions": 4, "plans": 1, "todos": 3, "prompt_history": 2, "commits": 1} {
		if got[name].Rows != rows {
			t.Errorf("%s: %d rows, want %d", name, got[name].Rows, rows)
		}
	}
	if tb := got["sessions"]; len(tb.Columns) == 0 || tb.Columns[0].Name != "id" || !tb.Columns[0].PK {
		t.Errorf("sessions' columns: %+v", tb.Columns)
	}
	if _, err := ex.Table(context.Background(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a missing table: %v", err)
	}
	if _, err := ex.Table(context.Background(), "sqlite_schema"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SQLite's own table: %v", err)
	}
}

// Paging through a table a few rows at a time, in any order and with any
// filter, gives every row once, in the order one query gives.
func TestExplorerRowsKeyset(t *testing.T) {
	ex, _ := explorer(t, store.ExploreLimits{})
	ctx := context.Background()
	for _, c := range []struct {
		q     store.TableQuery
		whole string // the same rows in one query
	}{
		{store.TableQuery{Table: "messages"}, "SELECT uuid FROM messages ORDER BY rowid"},
		{store.TableQuery{Table: "messages", Desc: true}, "SELECT uuid FROM messages ORDER BY rowid DESC"},
		{store.TableQuery{Table: "messages", Sort: "model"}, "SELECT uuid FROM messages ORDER BY model, rowid"},
		{store.TableQuery{Table: "messages", Sort: "model", Desc: true}, "SELECT uuid FROM messages ORDER BY model DESC, rowid DESC"},
		{store.TableQuery{Table: "messages", Sort: "ts", Filters: []store.Filter{store.ParseFilter("session_id", sessApp)}},
			"SELECT uuid FROM messages WHERE session_id = '" + sessApp + "' ORDER BY ts, rowid"},
		{store.TableQuery{Table: "messages", Sort: "type", Desc: true, Filters: []store.Filter{
			store.ParseFilter("seq__gte", "10"), store.ParseFilter("seq__lt", "40"), store.ParseFilter("model__notnull", "")}},
			"SELECT uuid FROM messages WHERE seq >= 10 AND seq < 40 AND model IS NOT NULL ORDER BY type DESC, rowid DESC"},
		{store.TableQuery{Table: "messages", Filters: []store.Filter{store.ParseFilter("text__contains", "CONFIG"),
			store.ParseFilter("role__in", "user, assistant"), store.ParseFilter("agent_id__isnull", "1")}},
			"SELECT uuid FROM messages WHERE text LIKE '%config%' AND role IN ('user', 'assistant') AND agent_id IS NULL ORDER BY rowid"},
		{store.TableQuery{Table: "messages", Filters: []store.Filter{store.ParseFilter("text__startswith", "50%_"),
			store.ParseFilter("type__not", "user")}}, "SELECT uuid FROM messages WHERE 0"},
	} {
		whole, err := ex.Query(ctx, c.whole, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(whole.Rows) == 0 && c.q.Filters == nil {
			t.Fatalf("%s: no rows", c.whole)
		}
		want := rowsText(whole)
		var got strings.Builder
		q := c.q
		q.Limit = 7
		pages := 0
		for {
			page, err := ex.Rows(ctx, q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			if page.Count != int64(len(whole.Rows)) {
				t.Errorf("%+v: count %d, want %d", q, page.Count, len(whole.Rows))
			}
			uuid := slices.Index(page.Columns, "uuid")
			for _, r := range page.Rows {
				fmt.Fprintln(&got, r[uuid])
			}
			pages++
			if page.Next == "" {
				break
			}
			if pages > 100 {
				t.Fatalf("%+v: no end", q)
			}
			q.After = page.Next
		}
		if got.String() != want {
			t.Errorf("%+v: pages give\n%s\nwant\n%s", c.q, got.String(), want)
		}
	}
	for _, q := range []store.TableQuery{
		{Table: "messages", Sort: "nope"},
		{Table: "messages", Filters: []store.Filter{{Column: "nope", Op: "exact"}}},
		{Table: "messages", After: "garbage!"},
	} {
		var se *store.SQLError
		if _, err := ex.Rows(ctx, q); !errors.As(err, &se) {
			t.Errorf("%+v: got %v, want an error for the user", q, err)
		}
	}
}

// A view has no rowid: its pages go by offset.
func TestExplorerRowsView(t *testing.T) {
	ex, db := explorer(t, store.ExploreLimits{})
	conn, err := sql.Open("sqlite3", "file:"+db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec("CREATE VIEW session_titles AS SELECT id, title FROM sessions"); err != nil {
		t.Fatal(err)
	}
	var got []string
	q := store.TableQuery{Table: "session_titles", Sort: "title", Limit: 3}
	for {
		page, err := ex.Rows(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if page.Table.Kind != "view" {
			t.Errorf("kind %q, want view", page.Table.Kind)
		}
		for _, r := range page.Rows {
			got = append(got, r[1].(string))
		}
		if q.After = page.Next; q.After == "" {
			break
		}
	}
	want := []string{"Fix off-by-one in config loader", "Refactor the parser and add tests for it",
		"Shorten the README section to one sentence.", "What does this project do?"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
