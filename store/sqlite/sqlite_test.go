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
	"testing"

	"github.com/claude-insights/insights/migrations"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
	"github.com/claude-insights/insights/store/storetest"
)

func open(t testing.TB) store.Driver {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "insights.db"))
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

// A new database has 16 KiB pages and WAL journaling.
func TestNewDatabaseSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "insights.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var size int
	var journal string
	if err := conn.QueryRow("PRAGMA page_size").Scan(&size); err != nil || size != 16384 {
		t.Errorf("page_size = %d, %v; want 16384", size, err)
	}
	if err := conn.QueryRow("PRAGMA journal_mode").Scan(&journal); err != nil || journal != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", journal, err)
	}
	// Readers map the file.
	r, err := sql.Open("sqlite3_reader", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var mmap int64
	if err := r.QueryRow("PRAGMA mmap_size").Scan(&mmap); err != nil || mmap != 1<<30 {
		t.Errorf("a reader's mmap_size = %d, %v; want 1 GiB", mmap, err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "dir", "insights.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Apply(ctx, &store.Batch{File: store.FileState{Path: "/a.jsonl", Size: 10, Offset: 10}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen (migrations must be a no-op): %v", err)
	}
	defer db.Close()
	if st, ok, err := db.FileState(ctx, "/a.jsonl"); err != nil || !ok || st.Offset != 10 {
		t.Errorf("FileState after reopen = %+v, %v, %v", st, ok, err)
	}
}

// rawExec runs statements on the database file directly.
func rawExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	conn, err := sql.Open("sqlite3", path)
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

// TestOpenRepairsCutOffMigrations: a process killed while migrating leaves
// a database the next Open repairs and completes.
func TestOpenRepairsCutOffMigrations(t *testing.T) {
	// Undo every migration from the newest down to version 2.
	latest, err := migrations.Latest(migrations.SQLite, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	var down []string
	for v := latest; v >= 2; v-- {
		b, err := fs.ReadFile(migrations.SQLite, "sqlite/"+migrations.Name(migrations.SQLite, "sqlite", v)+".down.sql")
		if err != nil {
			t.Fatal(err)
		}
		down = append(down, string(b))
	}
	for _, tc := range []struct {
		name  string
		setup []string // applied to a fully migrated database
	}{
		{"version 2 marked dirty before it ran", append(slices.Clip(down), `UPDATE schema_migrations SET version = 2, dirty = 1`)},
		{"version 1 applied, still marked dirty", append(slices.Clip(down), `UPDATE schema_migrations SET version = 1, dirty = 1`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "insights.db")
			db, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			rawExec(t, path, tc.setup...)
			db, err = sqlite.Open(ctx, path)
			if err != nil {
				t.Fatalf("open after a cut-off migration: %v", err)
			}
			defer db.Close()
			if _, err := db.Status(ctx, 1); err != nil { // needs the tables of version 2
				t.Errorf("status after repair: %v", err)
			}
		})
	}
	t.Run("new database cut off while being built", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "insights.db")
		// What a killed first Open leaves: an empty file and a half-built one.
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".new", []byte("SQLite format 3\x00 and then nothing"), 0o644); err != nil {
			t.Fatal(err)
		}
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer db.Close()
		if _, err := os.Stat(path + ".new"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the half-built file is still there: %v", err)
		}
		if _, err := db.Status(context.Background(), 1); err != nil {
			t.Errorf("status: %v", err)
		}
	})
}

// TestOpenConcurrently: processes opening one new database at once all
// succeed (they migrate one at a time).
func TestOpenConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "insights.db")
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := sqlite.Open(context.Background(), path)
			if err == nil {
				_, err = db.Status(context.Background(), 1)
				db.Close()
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
