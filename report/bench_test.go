package report_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/claude-insights/insights/report"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
)

// BenchmarkUsage measures `insights usage daily` and `insights usage session`
// over a year of history: 200,000 replies in 2,000 sessions across 365 days
// and three models, grouped in a time zone with summer time.
func BenchmarkUsage(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "insights.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const replies, sessions = 200_000, 2_000
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	models := []string{"claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"}
	for s := 0; s < sessions; s++ {
		per := replies / sessions
		first := start.Add(time.Duration(s) * 365 * 24 * time.Hour / sessions)
		batch := &store.Batch{
			File:     store.FileState{Path: fmt.Sprintf("/c/s%d.jsonl", s)},
			Sessions: []store.Session{{ID: fmt.Sprintf("s%d", s), Project: fmt.Sprintf("/src/p%d", s%20), FirstAt: first, LastAt: first.Add(time.Duration(per) * time.Minute)}},
		}
		for r := 0; r < per; r++ {
			batch.Usage = append(batch.Usage, store.Usage{
				Key: fmt.Sprintf("m%d-%d", s, r), SessionID: fmt.Sprintf("s%d", s), Model: models[r%3],
				Timestamp: first.Add(time.Duration(r) * time.Minute),
				Tokens:    store.Tokens{Input: 10, Output: 300, CacheWrite1h: 500, CacheRead: 20000}, Cost: 0.02, Priced: true,
			})
		}
		if err := db.Apply(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []report.Period{report.Daily, report.Session} {
		b.Run(string(p), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r, err := report.Usage(ctx, db, report.Options{Period: p, Location: loc})
				if err != nil {
					b.Fatal(err)
				}
				if r.Totals.Output != replies*300 {
					b.Fatalf("output = %d", r.Totals.Output)
				}
			}
		})
	}
}
