package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
	"github.com/claude-insights/insights/store/storetest"
)

func open(t *testing.T) store.Driver {
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
