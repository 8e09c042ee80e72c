package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/config"
	"github.com/claude-insights/insights/exporter"
	"github.com/claude-insights/insights/internal/duckdb"
	"github.com/claude-insights/insights/store"
)

// src reads every date's file of one kind, with the date column.
func src(dir, file string) string {
	return fmt.Sprintf("read_parquet('%s', hive_partitioning = true)", filepath.Join(dir, "*", file))
}

func num(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			t.Fatalf("%q is not a number", x)
		}
		return f
	case nil:
		return 0
	}
	t.Fatalf("%v (%T) is not a number", v, v)
	return 0
}

// `insights export` on a team database writes what DuckDB reads back with
// the columns typed, every row once, aggregates equal to the database's, and
// messages, tool input and output only of users who share in full.
func TestExportTeamReadBackWithDuckDB(t *testing.T) {
	duck := duckdb.Open(t)
	isolate(t)
	ctx := context.Background()
	ts := startTeam(t, teamDSN(t), nil)
	members := []struct {
		name  string
		share store.ShareLevel
		seed  uint64
	}{{"bob", store.ShareFull, 31}, {"cat", store.ShareMetadata, 32}, {"dan", store.ShareNone, 33}}
	for _, m := range members {
		_, key := ts.newUser(t, m.name, false, m.share)
		ts.pushTree(t, genTree(t, 600<<10, m.seed), key)
	}
	out := t.TempDir()
	stdout, err := run(t, "--mode", "team", "--db", ts.DSN, "export", "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	days, err := ts.DB.ExportDays(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout, fmt.Sprintf("wrote %d days (", len(days))) || len(days) < 4 {
		t.Fatalf("export printed %q for %d days", stdout, len(days))
	}
	if again, err := run(t, "--mode", "team", "--db", ts.DSN, "export", "--out", out); err != nil || !strings.Contains(again, "up to date") {
		t.Errorf("a second export: %q, %v", again, err)
	}

	describe := func(file string) string { return "DESCRIBE SELECT * FROM " + src(out, file) }
	res := duck.Query(t,
		describe(exporter.SessionsFile), describe(exporter.MessagesFile), describe(exporter.ToolCallsFile),
		describe(exporter.UsageFile), describe(exporter.DailyStatsFile),
		// 5: rows of each file
		`SELECT (SELECT count(*) FROM `+src(out, exporter.SessionsFile)+`) AS sessions,
			(SELECT count(*) FROM `+src(out, exporter.MessagesFile)+`) AS messages,
			(SELECT count(*) FROM `+src(out, exporter.ToolCallsFile)+`) AS calls,
			(SELECT count(*) FROM `+src(out, exporter.FileChangesFile)+`) AS changes,
			(SELECT count(*) FROM `+src(out, exporter.UsageFile)+`) AS replies`,
		// 6: per user, from the usage file
		`SELECT "user", count(*) AS replies, sum(total_tokens) AS tokens, sum(output_tokens) AS output,
			sum(coalesce(cost_usd, 0)) AS cost, count(DISTINCT session_id) AS sessions
			FROM `+src(out, exporter.UsageFile)+` GROUP BY 1 ORDER BY 1`,
		// 7: whose messages, tool input and results are there
		`SELECT "user", count(*) AS n FROM `+src(out, exporter.MessagesFile)+` GROUP BY 1 ORDER BY 1`,
		`SELECT "user", count(*) AS calls, count(input) AS inputs, count(result) AS results, count(*) FILTER (WHERE is_error) AS errors
			FROM `+src(out, exporter.ToolCallsFile)+` GROUP BY 1 ORDER BY 1`,
		// 9: every row in the partition of its own UTC day
		`SELECT (SELECT count(*) FROM `+src(out, exporter.MessagesFile)+` WHERE date <> CAST("timestamp" AS DATE))
			+ (SELECT count(*) FROM `+src(out, exporter.UsageFile)+` WHERE date <> CAST("timestamp" AS DATE))
			+ (SELECT count(*) FROM `+src(out, exporter.SessionsFile)+` WHERE date <> CAST(started_at AS DATE))
			+ (SELECT count(*) FROM `+src(out, exporter.DailyStatsFile)+` WHERE date <> day) AS misplaced`,
		// 10: daily_stats
		`SELECT "user", CAST(day AS VARCHAR) AS day, sessions, messages, replies, total_tokens, cost_usd, tool_calls, tool_errors
			FROM `+src(out, exporter.DailyStatsFile)+` ORDER BY 2, 1`,
	)
	wantTypes := []map[string]string{
		{"session_id": "VARCHAR", "user": "VARCHAR", "started_at": "TIMESTAMP WITH TIME ZONE", "ended_at": "TIMESTAMP WITH TIME ZONE",
			"messages": "BIGINT", "cost_usd": "DOUBLE", "date": "DATE"},
		{"timestamp": "TIMESTAMP WITH TIME ZONE", "seq": "BIGINT", "is_sidechain": "BOOLEAN", "is_prompt": "BOOLEAN", "text": "VARCHAR"},
		{"started_at": "TIMESTAMP WITH TIME ZONE", "finished_at": "TIMESTAMP WITH TIME ZONE", "duration_ms": "BIGINT",
			"is_error": "BOOLEAN", "input": "VARCHAR"},
		{"timestamp": "TIMESTAMP WITH TIME ZONE", "total_tokens": "BIGINT", "cost_usd": "DOUBLE"},
		{"day": "DATE", "sessions": "BIGINT", "cost_usd": "DOUBLE", "date": "DATE"},
	}
	for i, want := range wantTypes {
		got := map[string]string{}
		nullable := map[string]string{}
		for _, r := range res[i] {
			got[r["column_name"].(string)] = r["column_type"].(string)
			nullable[r["column_name"].(string)] = fmt.Sprint(r["null"])
		}
		for col, typ := range want {
			if got[col] != typ {
				t.Errorf("%s.%s: %s, want %s", exporter.Files[[]int{0, 1, 2, 4, 5}[i]], col, got[col], typ)
			}
		}
	}

	// Row counts: every row of the database once, messages only for bob.
	var wantRows struct{ sessions, messages, calls, changes, replies int64 }
	perUser := map[string]store.Totals{}
	for _, m := range members {
		u, err := ts.DB.UserByName(ctx, m.name)
		if err != nil {
			t.Fatal(err)
		}
		tot, _ := totalsOf(t, ts.DB, u.ID)
		perUser[m.name] = tot
		wantRows.sessions += tot.Sessions
		wantRows.calls += tot.ToolCalls
		if m.share == store.ShareFull {
			wantRows.messages += tot.Messages
		}
	}
	counts := res[5][0]
	if int64(num(t, counts["sessions"])) != wantRows.sessions || int64(num(t, counts["messages"])) != wantRows.messages ||
		int64(num(t, counts["calls"])) != wantRows.calls {
		t.Errorf("rows %v, want sessions %d, messages %d (bob's), calls %d", counts, wantRows.sessions, wantRows.messages, wantRows.calls)
	}
	if num(t, counts["changes"]) == 0 || num(t, counts["replies"]) == 0 {
		t.Errorf("no file changes or replies: %v", counts)
	}
	// Usage per user equals the database's daily_stats, summed.
	stats, err := ts.DB.DailyStats(ctx, store.StatsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	type sums struct {
		replies, tokens int64
		cost            float64
	}
	want := map[string]*sums{}
	for _, s := range stats {
		if want[s.User] == nil {
			want[s.User] = &sums{}
		}
		w := want[s.User]
		w.replies, w.tokens, w.cost = w.replies+s.Replies, w.tokens+s.Total(), w.cost+s.Cost
	}
	if len(res[6]) != len(members) {
		t.Fatalf("usage of %d users: %v", len(res[6]), res[6])
	}
	for _, r := range res[6] {
		w := want[r["user"].(string)]
		if w == nil || int64(num(t, r["replies"])) != w.replies || int64(num(t, r["tokens"])) != w.tokens ||
			math.Abs(num(t, r["cost"])-w.cost) > 1e-6 {
			t.Errorf("usage of %v: %v, daily_stats %+v", r["user"], r, w)
		}
	}
	if len(res[7]) != 1 || res[7][0]["user"] != "bob" {
		t.Errorf("messages of %v, want bob's only", res[7])
	}
	for _, r := range res[8] {
		user, inputs, results := r["user"], num(t, r["inputs"]), num(t, r["results"])
		if user == "bob" && (inputs == 0 || results == 0) || user != "bob" && (inputs != 0 || results != 0) {
			t.Errorf("tool calls of %v: %v (input and output only for full sharing)", user, r)
		}
		if user != "dan" && num(t, r["errors"]) != float64(perUser[user.(string)].ToolErrors) {
			t.Errorf("tool errors of %v: %v, database %d", user, r["errors"], perUser[user.(string)].ToolErrors)
		}
	}
	if m := num(t, res[9][0]["misplaced"]); m != 0 {
		t.Errorf("%v rows sit in another day's partition", m)
	}
	// daily_stats.parquet holds the same rows as the database's daily_stats.
	if len(res[10]) != len(stats) {
		t.Fatalf("daily_stats: %d rows, database %d", len(res[10]), len(stats))
	}
	for i, r := range res[10] {
		s := stats[i]
		got := fmt.Sprintf("%v %v %v %v %v %v %v %v", r["user"], r["day"], r["sessions"], r["messages"], r["replies"],
			r["total_tokens"], r["tool_calls"], r["tool_errors"])
		wantRow := fmt.Sprintf("%s %s %d %d %d %d %d %d", s.User, s.Day.Format(time.DateOnly), s.Sessions, s.Messages,
			s.Replies, s.Total(), s.ToolCalls, s.ToolErrors)
		if got != wantRow || math.Abs(num(t, r["cost_usd"])-s.Cost) > 1e-6 {
			t.Errorf("daily_stats row %d: %s cost %v, database %s cost %f", i, got, r["cost_usd"], wantRow, s.Cost)
		}
	}
}

// The daily snapshot: with the lock held by another server it writes
// nothing; with it, every complete day (today waits for tomorrow), and old
// dates go after the retention.
func TestExportScheduleTakesTheLock(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	ts := startTeam(t, teamDSN(t), nil)
	_, key := ts.newUser(t, "bob", false, store.ShareFull)
	ts.pushTree(t, genRecent(t, 1<<20, 41, 4), key)
	out := t.TempDir()
	x, err := exporter.New(ts.DB, exporter.Options{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	sched := exporter.Schedule{At: 2 * time.Hour, RetentionDays: 3,
		Lock: func(ctx context.Context) (func(), bool, error) { return ts.DB.TryLock(ctx, exportLock) }}
	unlock, ok, err := ts.DB.TryLock(ctx, exportLock)
	if err != nil || !ok {
		t.Fatalf("TryLock: %v %v", ok, err)
	}
	if held, err := x.RunOnce(ctx, sched); held || err != nil {
		t.Errorf("exported while another server held the lock: %v, %v", held, err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("%d entries written without the lock", len(entries))
	}
	unlock()
	// A date from long ago, left by an earlier export, goes.
	old := filepath.Join(out, "date=2020-01-01")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	if held, err := x.RunOnce(ctx, sched); !held || err != nil {
		t.Fatalf("did not export with the lock free: %v, %v", held, err)
	}
	today := store.UTCDay(time.Now())
	var got []string
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		got = append(got, e.Name())
	}
	held, err := ts.DB.ExportDays(ctx, today.AddDate(0, 0, -3), today)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range held {
		if d.Day.Before(today) {
			want = append(want, "date="+d.Day.Format(time.DateOnly))
		}
	}
	if len(want) < 2 || len(held) != len(want)+1 {
		t.Fatalf("the tree should have rows on the last days and today: %v", held)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("dates written %v, want %v (the retention's complete days)", got, want)
	}
	if next := exporter.NextRun(today.Add(3*time.Hour), sched.At); !next.Equal(today.AddDate(0, 0, 1).Add(2 * time.Hour)) {
		t.Errorf("next run after 03:00: %v", next)
	}
	if next := exporter.NextRun(today.Add(time.Hour), sched.At); !next.Equal(today.Add(2 * time.Hour)) {
		t.Errorf("next run after 01:00: %v", next)
	}
}

// The team server's daily snapshot runs at start and counts its runs in the
// API's metrics.
func TestExportScheduleMetrics(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	_, key := ts.newUser(t, "bob", false, store.ShareFull)
	ts.pushTree(t, genRecent(t, 1<<20, 43, 4), key)
	cfg := config.Default()
	cfg.Mode, cfg.DB, cfg.Export.Dir = config.ModeTeam, ts.DSN, t.TempDir()
	e := &env{cfg: cfg, log: slog.New(slog.DiscardHandler), db: ts.DB, prices: cfg.Prices()}
	run, err := exportSchedule(e, ts.DB, ts.srv.api.ExportDone)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	today := store.UTCDay(time.Now())
	held, err := ts.DB.ExportDays(context.Background(), time.Time{}, today.AddDate(0, 0, -1))
	if err != nil || len(held) < 2 {
		t.Fatalf("the tree should have rows on the days before today: %v, %v", held, err)
	}
	metrics := func() string {
		res, err := http.Get(ts.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	var m string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m = metrics(); strings.Contains(m, `insights_export_runs_total{result="ok"} 1`) {
			break
		}
	}
	for _, want := range []string{
		`insights_export_runs_total{result="ok"} 1`,
		`insights_export_runs_total{result="failed"} 0`,
		fmt.Sprintf("insights_export_days_written_total %d", len(held)),
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	var last float64
	for _, line := range strings.Split(m, "\n") {
		if v, ok := strings.CutPrefix(line, "insights_export_last_success_timestamp_seconds "); ok {
			last, _ = strconv.ParseFloat(v, 64)
		}
	}
	if age := time.Since(time.Unix(int64(last), 0)); age < 0 || age > time.Minute {
		t.Errorf("last success %v ago, want just now", age)
	}
	if _, err := exporter.ReadManifest(filepath.Join(cfg.Export.Dir, "date="+held[0].Day.Format(time.DateOnly))); err != nil {
		t.Errorf("the first day's manifest: %v", err)
	}
}

func TestExportFlags(t *testing.T) {
	isolate(t)
	db := filepath.Join(t.TempDir(), "i.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--date", "2026-13-01"}, `--date "2026-13-01": want a date as YYYY-MM-DD`},
		{[]string{"--date", "2026-01-01", "--since", "2026-01-01"}, "--date goes alone"},
		{[]string{"--since", "2026-02-01", "--until", "2026-01-01"}, "--until 2026-01-01 is before --since 2026-02-01"},
		{[]string{"extra"}, "export takes no arguments"},
	} {
		_, err := run(t, append([]string{"--db", db, "export"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("export %v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
