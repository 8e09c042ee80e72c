package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/claude-insights/insights/server"
	"github.com/claude-insights/insights/store"
)

// BenchmarkExplorer answers the SQL explorer's pages on a database imported
// from the benchmarks' generated tree (INSIGHTS_BENCH_SIZE): the index with
// every table's count, the first page of messages and a page 100,000 rows
// in (keyset) against the same rows by OFFSET, a sorted and filtered page,
// every canned query in turn and each alone, and the whole messages table
// as CSV.
func BenchmarkExplorer(b *testing.B) {
	dir, size := benchTree(b)
	ctx := context.Background()
	_, ex := explorerDB(b, store.ExploreLimits{Timeout: time.Minute}, dir)
	srv, err := server.NewExplorer(ex, server.ExplorerOptions{ReplayURL: "http://127.0.0.1:8002"})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != 200 {
			b.Fatalf("GET %s: %d %s", path, w.Code, w.Body.String())
		}
		return w
	}
	// The link to the page that starts 100,000 rows into messages (or half
	// way into a smaller table), walked to once.
	res, err := ex.Query(ctx, "SELECT count(*) FROM messages", nil)
	if err != nil {
		b.Fatal(err)
	}
	total := res.Rows[0][0].(int64)
	deep := min(100_000, total/2/1000*1000)
	b.Logf("%d MB tree: %d messages; the deep page starts at row %d", size>>20, total, deep)
	next := "/tables/messages?_size=1000&format=json"
	for n := int64(0); n < deep; n += 1000 {
		var page struct {
			NextURL string `json:"nextUrl"`
		}
		if err := json.Unmarshal(get(next).Body.Bytes(), &page); err != nil || page.NextURL == "" {
			b.Fatalf("walk to row %d: %v", n, err)
		}
		next = page.NextURL
	}
	u, _ := url.Parse(next)
	deepKeyset := "/tables/messages?_next=" + url.QueryEscape(u.Query().Get("_next"))
	deepOffset := "/query?sql=" + url.QueryEscape("SELECT * FROM messages ORDER BY rowid LIMIT 101 OFFSET "+itoa64(deep))
	type bench struct {
		name  string
		paths []string
	}
	var canned []string
	var each []bench
	for _, q := range ex.Queries() {
		canned = append(canned, "/queries/"+q.Name)
		each = append(each, bench{"canned-" + q.Name, canned[len(canned)-1:]})
	}
	for _, p := range append([]bench{
		{"index", []string{"/"}},
		{"table-first-page", []string{"/tables/messages"}},
		{"table-deep-keyset", []string{deepKeyset}},
		{"table-deep-offset", []string{deepOffset}},
		{"table-sorted-filtered", []string{"/tables/messages?_sort_desc=ts&role=assistant&model__contains=sonnet"}},
		{"canned-mix", canned},
		{"csv-messages", []string{"/tables/messages?format=csv"}},
	}, each...) {
		b.Run(p.name, func(b *testing.B) {
			var took []time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				w := get(p.paths[i%len(p.paths)])
				took = append(took, time.Since(t0))
				b.SetBytes(int64(w.Body.Len()))
			}
			reportPercentiles(b, took)
		})
	}
}
