package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/claude-insights/insights/server"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/synth"
)

// BenchmarkPages renders the sessions list, the replay of the longest
// session, the usage page and searches on an SQLite database imported from a generated tree (seed 1,
// its first session over 2,000 messages long), and reports the 50th and 95th
// percentile of a render. The tree is INSIGHTS_BENCH_SIZE bytes (default
// 20 MB); BENCHMARKS.md gives the numbers for 250 MB.
func BenchmarkPages(b *testing.B) {
	dir, size := benchTree(b)
	db := openSQLite(b)
	importTrees(b, db, dir)
	ctx := context.Background()
	long, err := db.Sessions(ctx, store.SessionQuery{Sort: store.SortMessages, Desc: true, Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	st, err := db.Status(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	longest := long.Sessions[0]
	b.Logf("%d MB tree: %d sessions; the longest has %d messages, %d tool calls", size>>20, st.Sessions, longest.Messages, longest.ToolCalls)
	s, err := server.New(db, server.Options{})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	// searches is a mix of what people type: common and rare words, a
	// phrase, a prefix, several words, a filter, a later page.
	searches := []string{
		"/search?q=the", "/search?q=loader", "/search?q=%22config+loader%22", "/search?q=migrat*",
		"/search?q=deploy+schema+timeout", "/search?q=xyzzy", "/search?q=the&role=assistant",
		"/search?q=config&tool=Bash", "/search?q=the&offset=200", "/api/search?q=timeout+retry",
	}
	for _, p := range []struct {
		name  string
		paths []string
	}{
		{"list", []string{"/sessions"}},
		{"list-filtered", []string{"/sessions?errors=1&sort=cost&order=asc"}},
		{"replay-long", []string{"/sessions/" + longest.ID}},
		{"replay-long-page-2", []string{"/sessions/" + longest.ID + "?page=2"}},
		{"api-messages", []string{"/api/sessions/" + longest.ID + "/messages"}},
		{"usage", []string{"/usage"}},
		{"usage-range", []string{"/usage?since=" + longest.FirstAt.Format(time.DateOnly) + "&until=" + longest.FirstAt.AddDate(0, 0, 30).Format(time.DateOnly)}},
		{"search-word", searches[:1]},
		{"search-filtered", searches[6:8]},
		{"search-mix", searches},
	} {
		b.Run(p.name, func(b *testing.B) {
			var took []time.Duration
			for i := 0; i < b.N; i++ {
				path := p.paths[i%len(p.paths)]
				w := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
				took = append(took, time.Since(t0))
				if w.Code != 200 {
					b.Fatalf("GET %s: %d", path, w.Code)
				}
				b.SetBytes(int64(w.Body.Len()))
			}
			reportPercentiles(b, took)
		})
	}
}

// benchTree generates the benchmarks' Claude directory: INSIGHTS_BENCH_SIZE
// bytes (default 20 MB), seed 1, its first session over 2,000 messages long.
func benchTree(b *testing.B) (dir string, size int64) {
	size = int64(20e6)
	if s := os.Getenv("INSIGHTS_BENCH_SIZE"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("INSIGHTS_BENCH_SIZE=%q: want bytes", s)
		}
		size = n
	}
	dir = b.TempDir()
	if _, err := synth.Generate(dir, synth.Options{Size: size, Seed: 1, LongTurns: 215}); err != nil {
		b.Fatal(err)
	}
	return dir, size
}

// reportPercentiles reports the 50th and 95th percentile of the times.
func reportPercentiles(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
}
