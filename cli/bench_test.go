package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-insights/insights/synth"
)

// TestGeneratedTreeTotals imports a generated tree with broken lines and
// checks that the daily report shows exactly the totals the generator
// counted, per day and model, and that every broken line was reported.
func TestGeneratedTreeTotals(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "claude")
	out, err := run(t, "bench", "gen", "--size", "3MB", "--seed", "11", "--broken", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Expected totals: "+filepath.Join(dir, synth.ExpectedFile)) {
		t.Errorf("bench gen output:\n%s", out)
	}
	want, err := synth.ReadExpected(dir)
	if err != nil {
		t.Fatal(err)
	}
	eachDriver(t, func(t *testing.T, db string) {
		out, err := run(t, "--db", db, "import", dir)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, fmt.Sprintf("Skipped %d: ", want.Broken)) {
			t.Errorf("import did not report %d broken lines:\n%s", want.Broken, out)
		}
		out, err = run(t, "--db", db, "usage", "daily", "--json", "--timezone", "UTC")
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Daily []struct {
				Date            string `json:"date"`
				ModelBreakdowns []struct {
					ModelName           string `json:"modelName"`
					InputTokens         int64  `json:"inputTokens"`
					OutputTokens        int64  `json:"outputTokens"`
					CacheCreationTokens int64  `json:"cacheCreationTokens"`
					CacheReadTokens     int64  `json:"cacheReadTokens"`
				} `json:"modelBreakdowns"`
			} `json:"daily"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		type key struct{ day, model string }
		gotDays := map[key]synth.Tokens{}
		for _, d := range got.Daily {
			for _, m := range d.ModelBreakdowns {
				gotDays[key{d.Date, m.ModelName}] = synth.Tokens{Input: m.InputTokens, Output: m.OutputTokens,
					CacheCreation: m.CacheCreationTokens, CacheRead: m.CacheReadTokens}
			}
		}
		n := 0
		for _, d := range want.Days {
			for model, w := range d.Models {
				n++
				w.Replies = 0
				if g := gotDays[key{d.Date, model}]; g != w {
					t.Errorf("%s %s: %+v, want %+v", d.Date, model, g, w)
				}
				delete(gotDays, key{d.Date, model})
			}
		}
		for k, g := range gotDays {
			t.Errorf("%s %s: %+v, not generated", k.day, k.model, g)
		}
		if n < 20 {
			t.Errorf("only %d day-model rows: the tree is too small to test much", n)
		}
	})
}

func TestBenchGenRefusesNonEmptyDir(t *testing.T) {
	isolate(t)
	_, err := run(t, "bench", "gen", "--size", "10KB", testdataDir)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("bench gen into a non-empty directory: %v", err)
	}
}

func TestBenchGenFlagsAfterDir(t *testing.T) {
	isolate(t)
	_, err := run(t, "bench", "gen", t.TempDir(), "--size", "10KB")
	if err == nil || !strings.Contains(err.Error(), "flags go before DIR") {
		t.Errorf("bench gen DIR --size: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"250MB": 250e6, "1.5GB": 1.5e9, "512kb": 512e3, "4096": 4096, "10 MB": 10e6} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1MB", "ten"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}
