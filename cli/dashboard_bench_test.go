package cli

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

// fillAggregates writes a year of the aggregates the dashboard reads for
// users users: every user active every day, with 10 tools, 2 projects × 2
// models × main thread and a subagent, and 8 busy hours.
func fillAggregates(b *testing.B, dsn string, users int, days int) {
	b.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, 1-days).Format(time.DateOnly)
	for _, q := range []string{
		`INSERT INTO daily_stats (user_id, day, sessions, messages, replies, input_tokens, output_tokens, cache_write_5m,
			cache_write_1h, cache_read, cost, tool_calls, tool_errors)
		SELECT u.id, d, 3 + u.id % 4, 200, 90, 9000, 40000, 100000, 0, 2000000 + (u.id * 7919 + extract(doy FROM d)::int * 104729) % 1000000,
			4.5 + u.id % 7, 60, 3
		FROM users u, generate_series($1::date, $1::date + ($2 - 1), interval '1 day') d`,
		`INSERT INTO tool_usage (user_id, day, tool, calls, errors)
		SELECT u.id, d, t, 6, (u.id + extract(doy FROM d)::int) % 2
		FROM users u, generate_series($1::date, $1::date + ($2 - 1), interval '1 day') d,
			unnest(ARRAY['Read','Edit','Bash','Grep','Glob','Write','Task','TodoWrite','WebFetch','mcp__github__get_issue']) t`,
		`INSERT INTO usage_stats (user_id, day, project, model, subagent, agent_type, replies, input_tokens, output_tokens,
			cache_write_5m, cache_write_1h, cache_read, cost)
		SELECT u.id, d, '/src/project-' || (u.id % 10 + p), m, s, CASE WHEN s THEN 'Explore' ELSE '' END, 11, 1125, 5000,
			12500, 0, 250000, 0.56
		FROM users u, generate_series($1::date, $1::date + ($2 - 1), interval '1 day') d, generate_series(0, 1) p,
			unnest(ARRAY['claude-opus-4-6', 'claude-sonnet-4-5']) m, unnest(ARRAY[false, true]) s`,
		`INSERT INTO hour_stats (user_id, day, hour, replies, tokens)
		SELECT u.id, d, (h + u.id) % 24, 11, 270000
		FROM users u, generate_series($1::date, $1::date + ($2 - 1), interval '1 day') d, generate_series(8, 15) h`,
	} {
		if _, err := db.ExecContext(context.Background(), q, first, days); err != nil {
			b.Fatalf("%.60s: %v", q, err)
		}
	}
	if _, err := db.ExecContext(context.Background(), `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

// benchClient is a signed-in browser for benchmarks.
type benchClient struct {
	b *testing.B
	c *http.Client
}

func (c *benchClient) signIn(base, name, secret string) {
	jar, _ := cookiejar.New(nil)
	c.c = &http.Client{Jar: jar}
	res, err := c.c.Get(base + "/login")
	if err != nil {
		c.b.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		c.b.Fatal("no token on the sign-in form")
	}
	res, err = c.c.PostForm(base+"/login", url.Values{"csrf": {string(m[1])}, "name": {name}, "password": {secret}})
	if err != nil || res.StatusCode != http.StatusOK {
		c.b.Fatalf("sign in: %v %v", res, err)
	}
	res.Body.Close()
}

// get fetches a page and returns its size.
func (c *benchClient) get(page string) int {
	res, err := c.c.Get(page)
	if err != nil {
		c.b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		c.b.Fatalf("GET %s: %d", page, res.StatusCode)
	}
	return int(n)
}

// BenchmarkDashboardOverview renders dashboard pages, signed in as an
// admin, over 50 users × 365 days of aggregates: the overview for the
// default 30 days and for the whole year, and the year's user, usage and
// leaderboard pages. It reports the 50th and 95th percentile of a request.
func BenchmarkDashboardOverview(b *testing.B) {
	isolate(b)
	ts := startTeam(b, teamDSN(b), nil)
	_, key := ts.newUser(b, "admin", true, store.ShareFull)
	for i := range 49 {
		ts.newUser(b, fmt.Sprintf("user%02d", i), false, store.ShareFull)
	}
	fillAggregates(b, ts.DSN, 50, 365)
	for _, pg := range []struct{ name, path string }{
		{"overview-30d", "/?days=30"},
		{"overview-365d", "/?days=365"},
		{"user-365d", "/users/user07?days=365"},
		{"usage-by-project-365d", "/usage?by=project&days=365"},
		{"leaderboard-365d", "/leaderboard?days=365"},
	} {
		b.Run(pg.name, func(b *testing.B) {
			cl := &benchClient{b: b}
			cl.signIn(ts.Dashboard, "admin", key)
			var took []time.Duration
			var size int
			for b.Loop() {
				start := time.Now()
				size = cl.get(ts.Dashboard + pg.path)
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[(len(took)*95+99)/100-1].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(size)/1024, "page-KiB")
		})
	}
}
