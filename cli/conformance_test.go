package cli

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/claude-insights/insights/internal/corpus"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
)

// reference is one row of PROVENANCE.md's table of token totals.
type reference struct {
	folder, day                    string
	input, output, write, readToks int64
}

var (
	refRow  = regexp.MustCompile("^\\|\\s*`([^`]+)/`\\s*\\|\\s*([0-9-]+|total)\\s*\\|\\s*([\\d,]+)\\s*\\|\\s*([\\d,]+)\\s*\\|\\s*([\\d,]+)\\s*\\|\\s*([\\d,]+)\\s*\\|")
	refCost = regexp.MustCompile("`([^`]+)/` costs\\s+\\$(\\d+\\.\\d+)")
)

func readReferences(t *testing.T, dir string) ([]reference, map[string]float64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "PROVENANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	num := func(s string) int64 {
		n, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
		if err != nil {
			t.Fatalf("PROVENANCE.md number %q: %v", s, err)
		}
		return n
	}
	var refs []reference
	for _, line := range strings.Split(string(b), "\n") {
		if m := refRow.FindStringSubmatch(line); m != nil {
			refs = append(refs, reference{m[1], m[2], num(m[3]), num(m[4]), num(m[5]), num(m[6])})
		}
	}
	costs := map[string]float64{}
	for _, m := range refCost.FindAllStringSubmatch(strings.Join(strings.Fields(string(b)), " "), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		costs[m[1]] = v
	}
	if len(refs) == 0 || len(costs) == 0 {
		t.Fatalf("no reference totals found in PROVENANCE.md (%d rows, %d costs)", len(refs), len(costs))
	}
	return refs, costs
}

// TestCorpusConformance imports each corpus folder and checks the per-day
// token totals and the cost against the reference table.
func TestCorpusConformance(t *testing.T) {
	corpus := corpus.Dir(t)
	isolate(t)
	refs, costs := readReferences(t, corpus)
	byFolder := map[string][]reference{}
	for _, r := range refs {
		byFolder[r.folder] = append(byFolder[r.folder], r)
	}
	entries, err := os.ReadDir(corpus)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && len(byFolder[e.Name()]) == 0 {
			t.Errorf("corpus folder %s has no reference totals in PROVENANCE.md", e.Name())
		}
	}
	for folder, rows := range byFolder {
		t.Run(folder, func(t *testing.T) {
			eachDriver(t, func(t *testing.T, db string) {
				if _, err := run(t, "--db", db, "import", filepath.Join(corpus, folder)); err != nil {
					t.Fatal(err)
				}
				out, err := run(t, "--db", db, "usage", "daily", "--json", "--timezone", "UTC")
				if err != nil {
					t.Fatal(err)
				}
				u := decodeUsage(t, "daily", out)
				days := map[string]usageRow{}
				for _, r := range u.Rows {
					days[r.Date] = r
				}
				for _, ref := range rows {
					got := u.Totals
					if ref.day != "total" {
						got = days[ref.day]
					}
					want := fmt.Sprintf("in %d out %d write %d read %d", ref.input, ref.output, ref.write, ref.readToks)
					have := fmt.Sprintf("in %d out %d write %d read %d", got.InputTokens, got.OutputTokens, got.CacheCreationTokens, got.CacheReadTokens)
					if have != want {
						t.Errorf("%s %s: %s, want %s", folder, ref.day, have, want)
					}
				}
				if want, ok := costs[folder]; ok && math.Abs(u.Totals.TotalCost-want) >= 0.005 {
					t.Errorf("%s cost = $%.4f, want $%.2f", folder, u.Totals.TotalCost, want)
				}
				if !strings.HasPrefix(db, "postgres") {
					cannedOnCorpus(t, db, rows)
				}
			})
		})
	}
}

// cannedOnCorpus runs every canned query of the SQL explorer on a database
// imported from real transcripts: each runs, and tokens-by-day gives the
// reference tokens of each UTC day.
func cannedOnCorpus(t *testing.T, db string, refs []reference) {
	t.Helper()
	ctx := context.Background()
	ex, err := sqlite.OpenExplorer(ctx, db, store.ExploreLimits{})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	for _, q := range ex.Queries() {
		res, err := ex.Query(ctx, q.SQL, nil)
		if err != nil {
			t.Errorf("canned query %s: %v", q.Name, err)
			continue
		}
		if q.Name != "tokens-by-day" {
			continue
		}
		days := map[string][2]int64{}
		var total [2]int64
		for _, r := range res.Rows {
			d := [2]int64{r[2].(int64), r[3].(int64)}
			days[r[0].(string)] = d
			total[0] += d[0]
			total[1] += d[1]
		}
		for _, ref := range refs {
			got := days[ref.day]
			if ref.day == "total" {
				got = total
			}
			if got != [2]int64{ref.input, ref.output} {
				t.Errorf("tokens-by-day %s: in, out %v, want %d, %d", ref.day, got, ref.input, ref.output)
			}
		}
	}
}
