package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
	rawExec(t, dsn,
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
	writes(storetest.LargeBatch("warm", 1))
	small, large := writes(storetest.LargeBatch("small", 10)), writes(storetest.LargeBatch("large", 10_000))
	if small != large || large > 40 {
		t.Errorf("writes to the server: %d for 10 rows, %d for 10,000; want the same few", small, large)
	}
	t.Logf("%d writes per batch", large)
}
