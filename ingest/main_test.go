package ingest_test

import (
	"context"
	"os"
	"testing"

	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
	"github.com/claude-insights/insights/store/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// openPostgres opens a new PostgreSQL schema for one test or benchmark.
func openPostgres(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// benchDrivers are the databases the import benchmarks run on.
var benchDrivers = []struct {
	name string
	open func(testing.TB) store.Driver
}{
	{"sqlite", func(t testing.TB) store.Driver { return openDB(t) }},
	{"postgres", func(t testing.TB) store.Driver { return openPostgres(t) }},
}
