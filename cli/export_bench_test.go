package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/config"
	"github.com/claude-insights/insights/exporter"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
	"github.com/claude-insights/insights/store/postgres/pgtest"
	"github.com/claude-insights/insights/store/sqlite"
)

// benchDay is the UTC day the export benchmark fills.
var benchDay = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// fillDay writes n messages in sessions of 200 spread over one UTC day, with
// replies, tool calls and file changes in the proportions of real
// transcripts (per 1,000 messages: 350 replies, 215 calls, 50 changes), in
// batches as an import writes them.
func fillDay(b *testing.B, db store.Driver, n int) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the a parser file test import session reply token cost model function error value " +
		"returns reads writes index query table row column database server client upload export snapshot day")
	text := func(lo, hi int) string {
		var sb strings.Builder
		for sb.Len() < lo+rng.IntN(hi-lo) {
			sb.WriteString(words[rng.IntN(len(words))])
			sb.WriteByte(' ')
		}
		return sb.String()
	}
	const perSession = 200
	step := 24 * time.Hour / time.Duration(n+1)
	start := time.Now()
	var batch store.Batch
	flush := func(i int) {
		batch.File = store.FileState{Path: fmt.Sprintf("/bench/%d.jsonl", i), Size: int64(i), Offset: int64(i)}
		if err := db.Apply(ctx, &batch); err != nil {
			b.Fatal(err)
		}
		batch = store.Batch{}
	}
	for i := 0; i < n; i++ {
		sid := fmt.Sprintf("s%07d", i/perSession)
		at := benchDay.Add(time.Duration(i+1) * step)
		if i%perSession == 0 {
			last := benchDay.Add(time.Duration(min(i+perSession, n)) * step)
			batch.Sessions = append(batch.Sessions, store.Session{ID: sid, Project: "/src/p" + strconv.Itoa(i/5000),
				GitBranch: "main", Version: "2.1.38", FirstAt: at, LastAt: last})
		}
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		body := text(100, 900)
		content, _ := json.Marshal(body)
		m := store.Message{UUID: fmt.Sprintf("m%08d", i), SessionID: sid, Seq: int64(i % perSession), Type: role, Role: role,
			Timestamp: at, Text: body, Content: content}
		if role == "assistant" {
			m.Model, m.MessageID = "claude-opus-4-6", fmt.Sprintf("msg%08d", i)
		}
		batch.Messages = append(batch.Messages, m)
		if i%20 < 7 { // 350 replies per 1,000 messages
			batch.Usage = append(batch.Usage, store.Usage{Key: fmt.Sprintf("u%08d", i), MessageID: fmt.Sprintf("msg%08d", i),
				RequestID: fmt.Sprintf("req%08d", i), SessionID: sid, Model: "claude-opus-4-6", Timestamp: at,
				Tokens: store.Tokens{Input: 3, Output: int64(50 + rng.IntN(900)), CacheRead: 20000, CacheWrite5m: 500},
				Cost:   0.01, Priced: true})
		}
		if i%200 < 43 { // 215 calls
			id := fmt.Sprintf("t%08d", i)
			input, _ := json.Marshal(map[string]string{"file_path": "/src/p/" + words[rng.IntN(len(words))] + ".go", "command": text(20, 120)})
			batch.ToolUses = append(batch.ToolUses, store.ToolUse{ID: id, SessionID: sid, MessageUUID: m.UUID, Seq: m.Seq,
				Name: []string{"Read", "Edit", "Bash", "Grep"}[i%4], Input: input, At: at})
			batch.ToolResults = append(batch.ToolResults, store.ToolResult{ToolUseID: id, SessionID: sid, MessageUUID: m.UUID,
				Text: text(50, 600), IsError: i%37 == 0, At: at.Add(step / 2)})
			if i%200 < 10 { // 50 changes
				batch.FileChanges = append(batch.FileChanges, store.FileChange{ToolUseID: id, SessionID: sid,
					Path: "/src/p/f" + strconv.Itoa(i%97) + ".go", Operation: store.OpEdit, Added: 3, Removed: 1, At: at})
			}
		}
		if len(batch.Messages) == 5000 {
			flush(i)
		}
	}
	if len(batch.Messages) > 0 {
		flush(n)
	}
	// Price the replies as any command does first on a database, so that the
	// command measured does not.
	prices := config.Default().Prices()
	if _, err := db.Reprice(ctx, prices.Fingerprint(), prices.Cost); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d messages in %s", n, time.Since(start).Round(time.Millisecond))
}

// envChildPeak names a file where a child command writes its peak RSS.
const envChildPeak = "INSIGHTS_TEST_CHILD_PEAK"

// writePeakRSS writes the process's peak resident memory (VmHWM, in KiB) to
// path. A child's rusage would not do: its ru_maxrss counts the memory of
// the parent it was started from, whose address space it shared until exec.
func writePeakRSS(path string) error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fmt.Errorf("peak RSS: %w", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return os.WriteFile(path, []byte(strings.TrimSuffix(strings.TrimSpace(v), " kB")), 0o644)
		}
	}
	return errors.New("peak RSS: no VmHWM in /proc/self/status")
}

// BenchmarkExportDay exports one UTC day of INSIGHTS_BENCH_MESSAGES
// messages (default 100,000) with `insights export --date`, each run in a
// process of its own so that its peak RSS is the export's (Linux only).
func BenchmarkExportDay(b *testing.B) {
	n := 100_000
	if s := os.Getenv("INSIGHTS_BENCH_MESSAGES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("INSIGHTS_BENCH_MESSAGES=%q: want a number of messages", s)
		}
	}
	ctx := context.Background()
	for _, d := range []struct {
		name string
		open func(b *testing.B) (store.Driver, string)
	}{
		{"sqlite", func(b *testing.B) (store.Driver, string) {
			path := filepath.Join(b.TempDir(), "insights.db")
			db, err := sqlite.Open(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			return db, path
		}},
		{"postgres", func(b *testing.B) (store.Driver, string) {
			dsn := pgtest.DSN(b)
			db, err := postgres.Open(ctx, dsn, postgres.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return db, dsn
		}},
	} {
		b.Run(d.name, func(b *testing.B) {
			db, where := d.open(b)
			fillDay(b, db, n)
			db.Close()
			out := b.TempDir()
			peakFile := filepath.Join(b.TempDir(), "peak")
			var rss int64
			var m exporter.Manifest
			b.ResetTimer()
			for b.Loop() {
				cmd := exec.Command(os.Args[0])
				cmd.Env = append(os.Environ(), envChildPeak+"="+peakFile, envChildArgs+"="+strings.Join([]string{"--db", where,
					"--log-level", "warn", "export", "--date", benchDay.Format(time.DateOnly), "--out", out}, "\n"))
				if outp, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("export: %v\n%s", err, outp)
				}
				kib, err := os.ReadFile(peakFile)
				if err != nil {
					b.Fatal(err)
				}
				n, err := strconv.ParseInt(string(kib), 10, 64)
				if err != nil {
					b.Fatalf("peak RSS %q: %v", kib, err)
				}
				rss = max(rss, n)
			}
			b.StopTimer()
			var err error
			if m, err = exporter.ReadManifest(filepath.Join(out, "date="+benchDay.Format(time.DateOnly))); err != nil {
				b.Fatal(err)
			}
			if f, _ := m.File(exporter.MessagesFile); f.Rows != int64(n) {
				b.Fatalf("%d messages exported, want %d", f.Rows, n)
			}
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
			b.ReportMetric(float64(m.Rows()), "rows")
			b.ReportMetric(float64(m.Bytes())/(1<<20), "MiB-written")
		})
	}
}
