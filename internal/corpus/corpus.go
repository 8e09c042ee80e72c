// Package corpus finds the shared corpus of real transcripts that the
// conformance tests read.
package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir is the corpus beside the checkout (or at $INSIGHTS_CORPUS), from a
// test running in a package one level below the repository's root. It is
// absent on a user's clone: the test skips there, but fails in CI, where it
// must be present.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("INSIGHTS_CORPUS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(wd, "..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "PROVENANCE.md")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("conformance corpus missing at %s (required in CI): %v", dir, err)
		}
		t.Skipf("conformance corpus not found at %s; set INSIGHTS_CORPUS to run", dir)
	}
	return dir
}
