package cli

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/store/postgres/pgtest"
)

func TestMain(m *testing.M) {
	// The test binary doubles as a team server that a test can kill.
	if cfg := os.Getenv(envTeamChild); cfg != "" {
		os.Exit(runTeamChild(cfg))
	}
	// And as any command a test can kill.
	if args := os.Getenv(envChildArgs); args != "" {
		os.Exit(runChild(strings.Split(args, "\n")))
	}
	os.Exit(pgtest.Main(m))
}

// drivers are the databases a command-line test runs against: a new SQLite
// file and a new PostgreSQL schema, each given as the --db value.
var drivers = []struct {
	name string
	db   func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "insights.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
}

// eachDriver runs fn as a subtest on each driver's new database.
func eachDriver(t *testing.T, fn func(t *testing.T, db string)) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) { fn(t, d.db(t)) })
	}
}

// A team install names its PostgreSQL database in the config file; import
// and usage work on it as on SQLite.
func TestTeamModeConfig(t *testing.T) {
	isolate(t)
	dsn := pgtest.DSN(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	body := "mode = \"team\"\ndb = \"" + dsn + "\"\ndb_connections = 2\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "--config", cfg, "import", testdataDir); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "--config", cfg, "usage", "--json", "--timezone", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	if u := decodeUsage(t, "daily", out); u.Totals.OutputTokens != 1919 {
		t.Errorf("output tokens = %d, want 1919", u.Totals.OutputTokens)
	}
	// Without a DSN, team mode refuses to start.
	if err := os.WriteFile(cfg, []byte("mode = \"team\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "--config", cfg, "status"); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("team mode on SQLite: err = %v, want one asking for a postgres:// DSN", err)
	}
}

// A password in the DSN is never shown.
func TestStatusHidesPassword(t *testing.T) {
	isolate(t)
	dsn := pgtest.WithParams(pgtest.DSN(t), map[string]string{"password": "hunter2"})
	out, err := run(t, "--db", dsn, "status")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "Database:") {
		t.Errorf("status shows the password or no database:\n%s", out)
	}
}

// The daemon outlives a database that fails for a while: the import that
// failed is logged and tried again, and nothing is lost.
func TestDaemonRetriesWhenDatabaseFails(t *testing.T) {
	isolate(t)
	dsn := pgtest.DSN(t)
	claude := copyTree(t, testdataDir)
	const main = "5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03"
	done, _ := startDaemon(t, "--db", dsn, "--claude-dir", claude)
	waitFor(t, 20*time.Second, "first import", func() bool { return filesTracked(t, dsn) == testdataFiles })
	before := messageCount(t, dsn, main)

	raw, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Every write now fails: the table a batch ends with is gone.
	if _, err := raw.Exec(`ALTER TABLE ingest_files RENAME TO ingest_files_away`); err != nil {
		t.Fatal(err)
	}
	line := `{"type":"user","uuid":"retry-1","sessionId":"` + main + `","timestamp":"2026-02-11T12:00:00.000Z","message":{"role":"user","content":"while down"}}` + "\n"
	appendLine(t, filepath.Join(claude, "projects", "-src-app", main+".jsonl"), line)
	time.Sleep(500 * time.Millisecond) // the event's import fails meanwhile
	select {
	case err := <-done:
		t.Fatalf("daemon exited when the database failed: %v", err)
	default:
	}
	if _, err := raw.Exec(`ALTER TABLE ingest_files_away RENAME TO ingest_files`); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, 10*time.Second, "the line written while the database failed", func() bool {
		return messageCount(t, dsn, main) == before+1
	})
	t.Logf("imported %s after the database came back", took)
}
