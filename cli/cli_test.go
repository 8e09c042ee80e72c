package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs the insights command line in-process with an isolated home, and
// returns what it printed on stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := New("test")
	app.Writer, app.ErrWriter = &out, &errOut
	err := app.RunContext(context.Background(), append([]string{"insights"}, args...))
	if testing.Verbose() && errOut.Len() > 0 {
		t.Logf("stderr: %s", errOut.String())
	}
	return out.String(), err
}

// isolate points every default location into a temporary directory.
func isolate(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	for _, k := range []string{"CLAUDE_CONFIG_DIR", "INSIGHTS_CONFIG", "INSIGHTS_MODE", "INSIGHTS_DB", "INSIGHTS_CLAUDE_DIR", "INSIGHTS_LOG_LEVEL", envPushKey} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	// Daemons under test serve their UI on a port of their own, never on
	// the one a running insights may hold.
	t.Setenv("INSIGHTS_UI_ADDR", "127.0.0.1:0")
	t.Setenv("INSIGHTS_SQL_ADDR", "127.0.0.1:0")
	return home
}

// usageJSON is the part of `usage --json` the tests compare.
type usageJSON struct {
	Rows   []usageRow `json:"-"`
	Totals usageRow   `json:"totals"`
}

type usageRow struct {
	Period              string  `json:"period"`
	Date                string  `json:"date"`
	InputTokens         int64   `json:"inputTokens"`
	OutputTokens        int64   `json:"outputTokens"`
	CacheCreationTokens int64   `json:"cacheCreationTokens"`
	CacheReadTokens     int64   `json:"cacheReadTokens"`
	TotalTokens         int64   `json:"totalTokens"`
	TotalCost           float64 `json:"totalCost"`
	ModelBreakdowns     []struct {
		ModelName    string  `json:"modelName"`
		OutputTokens int64   `json:"outputTokens"`
		Cost         float64 `json:"cost"`
	} `json:"modelBreakdowns"`
}

func decodeUsage(t *testing.T, period, out string) usageJSON {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("usage --json is not JSON: %v\n%s", err, out)
	}
	var u usageJSON
	if err := json.Unmarshal(raw[period], &u.Rows); err != nil {
		t.Fatalf("usage --json has no %q array: %v\n%s", period, err, out)
	}
	if err := json.Unmarshal(raw["totals"], &u.Totals); err != nil {
		t.Fatalf("usage --json has no totals: %v", err)
	}
	return u
}

func TestVersion(t *testing.T) {
	isolate(t)
	out, err := run(t, "version")
	if err != nil || strings.TrimSpace(out) != "insights test" {
		t.Errorf("version = %q, %v", out, err)
	}
}

func TestBadArguments(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{
		{"usage", "yearly"},
		{"usage", "daily", "--since", "2026-13-01"},
		{"usage", "--since", "20260210", "--until", "20260201"},
		{"usage", "--timezone", "Mars/Olympus"},
		{"usage", "blocks", "daily"},
		{"usage", "blocks", "--now", "2026-02-11"},
		{"usage", "blocks", "--since", "20260210", "--until", "20260201"},
		{"--mode", "cluster", "usage"},
		{"--config", "/does/not/exist.toml", "usage"},
		{"--log-level", "loud", "usage"},
		{"import", "a", "b"},
		{"frobnicate"},
	} {
		if _, err := run(t, args...); err == nil {
			t.Errorf("insights %s succeeded", strings.Join(args, " "))
		}
	}
}

func TestConfigPrecedence(t *testing.T) {
	home := isolate(t)
	claude := t.TempDir()
	t.Setenv("CLAUDE_CONFIG_DIR", claude)
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }

	// Default: $XDG_DATA_HOME/insights/insights.db.
	if _, err := run(t, "import"); err != nil {
		t.Fatal(err)
	}
	if def := filepath.Join(home, "data", "insights", "insights.db"); !exists(def) {
		t.Errorf("default database %s not created", def)
	}

	// File over default.
	cfgDir := filepath.Join(home, "config", "insights")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	fileDB := filepath.Join(home, "file.db")
	writeFile(t, filepath.Join(cfgDir, "config.toml"), "db = '"+fileDB+"'\n")
	if _, err := run(t, "import"); err != nil {
		t.Fatal(err)
	}
	if !exists(fileDB) {
		t.Errorf("config file's db %s not used", fileDB)
	}

	// Environment over file.
	envDB := filepath.Join(home, "env.db")
	t.Setenv("INSIGHTS_DB", envDB)
	if _, err := run(t, "import"); err != nil {
		t.Fatal(err)
	}
	if !exists(envDB) {
		t.Errorf("INSIGHTS_DB %s not used", envDB)
	}

	// Flag over environment, given after the subcommand too.
	flagDB := filepath.Join(home, "flag.db")
	if _, err := run(t, "--db", flagDB, "import"); err != nil {
		t.Fatal(err)
	}
	if !exists(flagDB) {
		t.Errorf("--db %s not used", flagDB)
	}
	afterDB := filepath.Join(home, "after.db")
	if _, err := run(t, "usage", "monthly", "--db", afterDB); err != nil {
		t.Fatal(err)
	}
	if !exists(afterDB) {
		t.Errorf("--db %s after the command not used", afterDB)
	}

	// A named config file with an unknown key is refused.
	bad := filepath.Join(home, "bad.toml")
	writeFile(t, bad, "mode = 'solo'\ndatabase = 'x'\n")
	if _, err := run(t, "--config", bad, "import"); err == nil || !strings.Contains(err.Error(), "database") {
		t.Errorf("unknown key: err = %v", err)
	}
}

func TestImportMissingDirectory(t *testing.T) {
	isolate(t)
	_, err := run(t, "--db", filepath.Join(t.TempDir(), "x.db"), "import", "/does/not/exist")
	if err == nil || !strings.Contains(err.Error(), "/does/not/exist") {
		t.Errorf("import of a missing directory: err = %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
