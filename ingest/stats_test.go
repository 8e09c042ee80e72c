package ingest_test

import (
	"context"
	"slices"
	"testing"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/pricing"
)

// An import names the sessions it changed, and a second one over the same
// files names none.
func TestStatsSessionIDs(t *testing.T) {
	db := openDB(t)
	im := &ingest.Importer{Store: db, Prices: pricing.Default()}
	st, err := im.ImportTree(context.Background(), "../testdata/claude")
	if err != nil {
		t.Fatal(err)
	}
	ids := st.SessionIDs()
	if len(ids) != st.Sessions() || !slices.IsSorted(ids) || !slices.Contains(ids, "5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03") {
		t.Errorf("SessionIDs() = %q, want %d sorted ids with the main fixture's", ids, st.Sessions())
	}
	st, err = im.ImportTree(context.Background(), "../testdata/claude")
	if err != nil {
		t.Fatal(err)
	}
	if ids := st.SessionIDs(); len(ids) != 0 {
		t.Errorf("SessionIDs() after nothing changed = %q, want none", ids)
	}
}
