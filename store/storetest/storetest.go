// Package storetest is the contract every store.Driver passes, run by each
// driver's tests against a real database.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

// Open returns a new, empty database for one test; the driver's test closes it.
type Open func(t testing.TB) store.Driver

// Run runs the whole contract against databases made by open.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db store.Driver)
	}{
		{"Empty", testEmpty},
		{"FileState", testFileState},
		{"UsageKeepsFullestLine", testUsageKeepsFullestLine},
		{"UsageDatedByFirstFullestLine", testUsageDatedByFirstFullestLine},
		{"UsageCopiesInSessionsAnyOrder", testUsageCopiesInSessionsAnyOrder},
		{"MessagesDeduplicated", testMessagesDeduplicated},
		{"SessionMerge", testSessionMerge},
		{"UsageFilter", testUsageFilter},
		{"Unpriced", testUnpriced},
		{"Reprice", testReprice},
		{"UnicodeAndLargeText", testUnicodeAndLargeText},
		{"FileIdentity", testFileIdentity},
		{"MessageCopiesAnyOrder", testMessageCopiesAnyOrder},
		{"SkippedLines", testSkippedLines},
		{"GoneFilesAndStatus", testGoneFilesAndStatus},
		{"DuplicatesInOneBatch", testDuplicatesInOneBatch},
		{"ApplyTwiceChangesNothing", testApplyTwiceChangesNothing},
		{"EmptyValues", testEmptyValues},
		{"LargeBatch", testLargeBatch},
		{"FailedApplyLeavesNothing", testFailedApplyLeavesNothing},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ByteOrder", testByteOrder},
		{"ManyBatchesInOneApply", testManyBatchesInOneApply},
		{"SessionList", testSessionList},
		{"Facets", testFacets},
		{"SpentSums", testSpentSums},
		{"Totals", testTotals},
		{"UserFilter", testUserFilter},
	}
	tests = append(tests, recordTests...)
	tests = append(tests, historyTests...)
	tests = append(tests, exportTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

var day = time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)

func at(h, m int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func apply(t *testing.T, db store.Driver, b *store.Batch) {
	t.Helper()
	if b.File.Path == "" {
		b.File.Path = "/claude/projects/p/s.jsonl"
	}
	if err := db.Apply(context.Background(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func sums(t *testing.T, db store.Driver, q store.UsageQuery) []store.UsageSum {
	t.Helper()
	us, err := db.UsageSums(context.Background(), q)
	if err != nil {
		t.Fatalf("UsageSums: %v", err)
	}
	return us
}

func sum(bs []store.UsageSum) (tok store.Tokens, cost float64, replies int64) {
	for _, b := range bs {
		tok.Add(b.Tokens)
		cost += b.Cost
		replies += b.Replies
	}
	return tok, cost, replies
}

func session(id string, first, last time.Time) store.Session {
	return store.Session{ID: id, Project: "/src/app", GitBranch: "main", Version: "2.1.38", FirstAt: first, LastAt: last}
}

func reply(key, sid string, ts time.Time, out int64) store.Usage {
	return store.Usage{
		Key: key, MessageID: "msg_" + key, RequestID: "req_" + key, SessionID: sid, Model: "claude-opus-4-6",
		Timestamp: ts, Tokens: store.Tokens{Input: 3, Output: out, CacheWrite1h: 100, CacheRead: 1000},
		Cost: float64(out) / 1000, Priced: true,
	}
}

func testEmpty(t *testing.T, db store.Driver) {
	ctx := context.Background()
	if _, ok, err := db.FileState(ctx, "/nowhere.jsonl"); err != nil || ok {
		t.Errorf("FileState on empty db = ok %v, err %v", ok, err)
	}
	if bs := sums(t, db, store.UsageQuery{}); len(bs) != 0 {
		t.Errorf("UsageBuckets on empty db = %d buckets", len(bs))
	}
	if _, err := db.Session(ctx, "none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session(none) error = %v, want ErrNotFound", err)
	}
}

func testFileState(t *testing.T, db store.Driver) {
	want := store.FileState{Path: "/c/projects/p/a.jsonl", Size: 300, Offset: 250, Lines: 7, Broken: 1,
		ModTime: time.Date(2026, 2, 10, 1, 2, 3, 4e6, time.UTC), Dev: 64769, Inode: 1 << 40, HeadLen: 250,
		HeadHash: strings.Repeat("ab", 32), ImportedAt: time.Date(2026, 2, 10, 1, 2, 4, 5e6, time.UTC)}
	apply(t, db, &store.Batch{File: want})
	got, ok, err := db.FileState(context.Background(), want.Path)
	if err != nil || !ok {
		t.Fatalf("FileState = ok %v, err %v", ok, err)
	}
	if got != want {
		t.Errorf("FileState = %+v, want %+v", got, want)
	}
	want.Offset, want.Size, want.Lines = 300, 300, 8
	apply(t, db, &store.Batch{File: want})
	if got, _, _ := db.FileState(context.Background(), want.Path); got != want {
		t.Errorf("after update FileState = %+v, want %+v", got, want)
	}
}

func testUsageKeepsFullestLine(t *testing.T, db store.Driver) {
	s := session("s1", at(10, 0), at(10, 5))
	// A streamed reply: partial output first, full output last, then a copy of
	// the partial line arriving later (from another file) must not win.
	for _, out := range []int64{1, 5, 120, 1} {
		apply(t, db, &store.Batch{Sessions: []store.Session{s}, Usage: []store.Usage{reply("a", "s1", at(10, 1), out)}})
	}
	apply(t, db, &store.Batch{Sessions: []store.Session{s}, Usage: []store.Usage{reply("b", "s1", at(10, 2), 7)}})
	tok, cost, replies := sum(sums(t, db, store.UsageQuery{}))
	if replies != 2 || tok.Output != 127 || tok.Input != 6 || tok.CacheWrite1h != 200 || tok.CacheRead != 2000 {
		t.Errorf("usage = %+v over %d replies, want output 127, input 6 over 2", tok, replies)
	}
	if cost < 0.1269 || cost > 0.1271 {
		t.Errorf("cost = %v, want 0.127", cost)
	}
	got, err := db.Session(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Output != 127 || got.CacheRead != 2000 || got.Cost < 0.1269 || got.Cost > 0.1271 {
		t.Errorf("session totals = %+v cost %v", got.Tokens, got.Cost)
	}
}

func testUsageDatedByFirstFullestLine(t *testing.T, db store.Driver) {
	s := session("s1", day.Add(-time.Minute), day.Add(time.Minute))
	late := reply("a", "s1", day.Add(30*time.Second), 50)
	early := reply("a", "s1", day.Add(-10*time.Second), 50)
	partial := reply("a", "s1", day.Add(-20*time.Second), 2)
	// Whatever the order the lines arrive in, the reply is dated by the
	// earliest line carrying the fullest usage.
	apply(t, db, &store.Batch{Sessions: []store.Session{s}, Usage: []store.Usage{late, partial}})
	apply(t, db, &store.Batch{Sessions: []store.Session{s}, Usage: []store.Usage{early}})
	apply(t, db, &store.Batch{Sessions: []store.Session{s}, Usage: []store.Usage{late}})
	us := sums(t, db, store.UsageQuery{})
	if len(us) != 1 || !us[0].Day.Equal(day.AddDate(0, 0, -1)) || us[0].Output != 50 || !us[0].LastAt.Equal(early.Timestamp) {
		t.Fatalf("sums = %+v, want one of output 50 on %v at %v", us, day.AddDate(0, 0, -1), early.Timestamp)
	}
}

func testUsageCopiesInSessionsAnyOrder(t *testing.T, db store.Driver) {
	ss := []store.Session{session("s-b", at(8, 0), at(9, 0)), session("s-a", at(8, 0), at(9, 0))}
	apply(t, db, &store.Batch{Sessions: ss, Usage: []store.Usage{reply("x", "s-b", at(8, 30), 40)}})
	apply(t, db, &store.Batch{Sessions: ss, Usage: []store.Usage{reply("x", "s-a", at(8, 30), 40)}})
	apply(t, db, &store.Batch{Sessions: ss, Usage: []store.Usage{reply("x", "s-b", at(8, 30), 40)}})
	us := sums(t, db, store.UsageQuery{BySession: true})
	if len(us) != 1 || us[0].SessionID != "s-a" || us[0].Output != 40 {
		t.Errorf("sums = %+v, want the reply once, in s-a", us)
	}
	a, _ := db.Session(context.Background(), "s-a")
	b, _ := db.Session(context.Background(), "s-b")
	if a.Output != 40 || b.Output != 0 {
		t.Errorf("session outputs = %d, %d; want 40, 0", a.Output, b.Output)
	}
}

func testMessagesDeduplicated(t *testing.T, db store.Driver) {
	s := session("s1", at(9, 0), at(9, 1))
	msgs := []store.Message{
		{UUID: "u1", SessionID: "s1", Seq: 1, Type: "user", Role: "user", Timestamp: at(9, 0), Text: "hello"},
		{UUID: "a1", SessionID: "s1", Seq: 2, ParentUUID: "u1", Type: "assistant", Role: "assistant", Timestamp: at(9, 1), Model: "claude-opus-4-6"},
	}
	apply(t, db, &store.Batch{Sessions: []store.Session{s}, Messages: msgs})
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/other.jsonl"}, Sessions: []store.Session{s}, Messages: msgs})
	got, err := db.Session(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Messages != 2 {
		t.Errorf("messages = %d, want 2", got.Messages)
	}
}

func testSessionMerge(t *testing.T, db store.Driver) {
	apply(t, db, &store.Batch{Sessions: []store.Session{{ID: "s1", Project: "/src/app", GitBranch: "main", Version: "2.0.1", FirstAt: at(10, 0), LastAt: at(11, 0)}}})
	apply(t, db, &store.Batch{Sessions: []store.Session{{ID: "s1", GitBranch: "feature", Version: "2.1.0", FirstAt: at(9, 0), LastAt: at(12, 0)}}})
	apply(t, db, &store.Batch{Sessions: []store.Session{{ID: "s1", Project: "/elsewhere", GitBranch: "old", FirstAt: at(9, 30), LastAt: at(9, 45)}}})
	got, err := db.Session(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Project != "/src/app" || got.GitBranch != "feature" || got.Version != "2.1.0" {
		t.Errorf("session = %q %q %q, want the latest non-empty values", got.Project, got.GitBranch, got.Version)
	}
	if !got.FirstAt.Equal(at(9, 0)) || !got.LastAt.Equal(at(12, 0)) {
		t.Errorf("span = %v..%v, want 09:00..12:00", got.FirstAt, got.LastAt)
	}
}

func testUsageFilter(t *testing.T, db store.Driver) {
	apply(t, db, &store.Batch{
		Sessions: []store.Session{
			{ID: "s1", Project: "/src/app", FirstAt: at(1, 0), LastAt: at(1, 0)},
			{ID: "s2", Project: "/src/a_p", FirstAt: at(1, 0), LastAt: at(1, 0)},
			{ID: "s3", Project: "/src/myapp", FirstAt: at(1, 0), LastAt: at(1, 0)},
		},
		Usage: []store.Usage{
			reply("a", "s1", at(1, 0), 1),
			reply("b", "s1", at(23, 59), 2),
			reply("c", "s2", at(5, 0), 4),
			reply("d", "s3", at(5, 0), 8),
			reply("e", "s1", at(24, 0), 16),
		},
	})
	for _, tc := range []struct {
		name string
		q    store.UsageQuery
		want int64 // sum of output: one bit per reply
	}{
		{"all", store.UsageQuery{}, 31},
		{"since inclusive", store.UsageQuery{Since: at(23, 45)}, 18},
		{"until exclusive", store.UsageQuery{Until: at(24, 0)}, 15},
		{"exact project", store.UsageQuery{Project: "/src/app"}, 19},
		{"project suffix", store.UsageQuery{Project: "app"}, 19},
		{"underscore is literal", store.UsageQuery{Project: "a_p"}, 4},
		{"unknown project", store.UsageQuery{Project: "nope"}, 0},
		{"by session", store.UsageQuery{BySession: true, Project: "app"}, 19},
	} {
		tok, _, _ := sum(sums(t, db, tc.q))
		if tok.Output != tc.want {
			t.Errorf("%s: output = %d, want %d", tc.name, tok.Output, tc.want)
		}
	}
	days := func(q store.UsageQuery) map[string]int64 {
		m := map[string]int64{}
		for _, u := range sums(t, db, q) {
			m[u.Day.Format("2006-01-02")] += u.Output
		}
		return m
	}
	for _, tc := range []struct {
		name string
		zone []store.ZoneShift
		want map[string]int64
	}{
		{"utc", nil, map[string]int64{"2026-02-10": 15, "2026-02-11": 16}},
		{"minus two hours", []store.ZoneShift{{Offset: -2 * time.Hour}}, map[string]int64{"2026-02-09": 1, "2026-02-10": 30}},
		{"shift at noon", []store.ZoneShift{{Offset: 0}, {From: at(12, 0), Offset: time.Hour}},
			map[string]int64{"2026-02-10": 13, "2026-02-11": 18}},
		{"plus 5:45", []store.ZoneShift{{Offset: 5*time.Hour + 45*time.Minute}}, map[string]int64{"2026-02-10": 13, "2026-02-11": 18}},
	} {
		got := days(store.UsageQuery{Zone: tc.zone})
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: days = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, u := range sums(t, db, store.UsageQuery{BySession: true}) {
		want := map[string]string{"s1": "/src/app", "s2": "/src/a_p", "s3": "/src/myapp"}[u.SessionID]
		if u.Project != want || u.Model != "claude-opus-4-6" || !u.Day.IsZero() {
			t.Errorf("session sum = %+v", u)
		}
		if u.SessionID == "s1" && (u.Replies != 3 || !u.LastAt.Equal(at(24, 0))) {
			t.Errorf("s1: %d replies, last %v", u.Replies, u.LastAt)
		}
	}
}

func testUnpriced(t *testing.T, db store.Driver) {
	u := reply("a", "s1", at(3, 0), 10)
	u.Model, u.Priced, u.Cost = "claude-mystery-9", false, 0
	apply(t, db, &store.Batch{Sessions: []store.Session{session("s1", at(3, 0), at(3, 0))},
		Usage: []store.Usage{u, reply("b", "s1", at(3, 1), 20)}})
	var unpriced, replies int64
	for _, b := range sums(t, db, store.UsageQuery{BySession: true}) {
		unpriced += b.Unpriced
		replies += b.Replies
		if b.Model == "claude-mystery-9" && (b.Unpriced != 1 || b.Cost != 0) {
			t.Errorf("unpriced bucket = %+v", b)
		}
	}
	if unpriced != 1 || replies != 2 {
		t.Errorf("unpriced = %d of %d replies, want 1 of 2", unpriced, replies)
	}
}

func testUnicodeAndLargeText(t *testing.T, db store.Driver) {
	project := "/home/zoë/プロジェクト/🚀"
	big := strings.Repeat("日本語 text ✓ ", 200_000)
	apply(t, db, &store.Batch{
		Sessions: []store.Session{{ID: "s-ü", Project: project, FirstAt: at(1, 0), LastAt: at(1, 0)}},
		Messages: []store.Message{{UUID: "u1", SessionID: "s-ü", Seq: 1, Type: "user", Role: "user", Timestamp: at(1, 0), Text: big}},
	})
	got, err := db.Session(context.Background(), "s-ü")
	if err != nil {
		t.Fatal(err)
	}
	if got.Project != project || got.Messages != 1 {
		t.Errorf("session = %+v", got)
	}
}

func testReprice(t *testing.T, db store.Driver) {
	ctx := context.Background()
	apply(t, db, &store.Batch{Sessions: []store.Session{session("s1", at(3, 0), at(3, 0))},
		Usage: []store.Usage{reply("a", "s1", at(3, 0), 10), reply("b", "s1", at(3, 1), 20)}})
	perOutput := func(model string, tok store.Tokens) (float64, bool) { return float64(tok.Output), true }
	changed, err := db.Reprice(ctx, "v1", perOutput)
	if err != nil || !changed {
		t.Fatalf("Reprice v1 = %v, %v; want a recomputation", changed, err)
	}
	if _, cost, _ := sum(sums(t, db, store.UsageQuery{})); cost != 30 {
		t.Errorf("cost after reprice = %v, want 30", cost)
	}
	if s, _ := db.Session(ctx, "s1"); s.Cost != 30 {
		t.Errorf("session cost after reprice = %v, want 30", s.Cost)
	}
	free := func(string, store.Tokens) (float64, bool) { return 0, false }
	if changed, err := db.Reprice(ctx, "v1", free); err != nil || changed {
		t.Errorf("Reprice with the same fingerprint = %v, %v; want no change", changed, err)
	}
	if changed, err := db.Reprice(ctx, "v2", free); err != nil || !changed {
		t.Fatalf("Reprice v2 = %v, %v", changed, err)
	}
	var unpriced int64
	for _, u := range sums(t, db, store.UsageQuery{}) {
		unpriced += u.Unpriced
	}
	if _, cost, _ := sum(sums(t, db, store.UsageQuery{})); cost != 0 || unpriced != 2 {
		t.Errorf("after pricing nothing: cost %v, unpriced %d; want 0, 2", cost, unpriced)
	}
}

func testFileIdentity(t *testing.T, db store.Driver) {
	ctx := context.Background()
	a := store.FileState{Path: "/c/a.jsonl", Size: 10, Offset: 10, Lines: 1, Inode: 5, HeadLen: 10, HeadHash: "h1"}
	b := store.FileState{Path: "/c/b.jsonl", Size: 20, Offset: 20, Lines: 2, Inode: 6, HeadLen: 20, HeadHash: "h2"}
	apply(t, db, &store.Batch{File: b})
	apply(t, db, &store.Batch{File: a})
	files, err := db.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path != a.Path || files[1].Path != b.Path || files[1].HeadHash != "h2" || files[1].Inode != 6 {
		t.Errorf("Files = %+v, want a then b with their identity", files)
	}
	if _, ok, err := db.FileState(ctx, "/c/never.jsonl"); ok || err != nil {
		t.Errorf("FileState of an unknown file: ok %v, err %v", ok, err)
	}
}

// testMessageCopiesAnyOrder: a message copied into another session (a resumed
// session repeats earlier lines) ends in the same session whatever the order.
func testMessageCopiesAnyOrder(t *testing.T, db store.Driver) {
	ctx := context.Background()
	msg := func(sid string) store.Message {
		return store.Message{UUID: "u1", SessionID: sid, Seq: 1, Type: "user", Role: "user", Timestamp: at(9, 0), Text: "hi from " + sid}
	}
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/s9.jsonl"}, Sessions: []store.Session{session("s9", at(9, 0), at(9, 0))}, Messages: []store.Message{msg("s9")}})
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/s2.jsonl"}, Sessions: []store.Session{session("s2", at(9, 0), at(9, 0))}, Messages: []store.Message{msg("s2")}})
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/s5.jsonl"}, Sessions: []store.Session{session("s5", at(9, 0), at(9, 0))}, Messages: []store.Message{msg("s5")}})
	for id, want := range map[string]int64{"s2": 1, "s5": 0, "s9": 0} {
		got, err := db.Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Messages != want {
			t.Errorf("session %s has %d messages, want %d (copies go to the smallest session id)", id, got.Messages, want)
		}
	}
}

func testSkippedLines(t *testing.T, db store.Driver) {
	ctx := context.Background()
	path := "/c/projects/p/s.jsonl"
	skip := func(line int64, reason string) store.Skipped {
		return store.Skipped{Path: path, Line: line, Reason: reason, Detail: reason + ": détail ✓", At: at(10, int(line))}
	}
	if err := db.SkipFile(ctx, store.Skipped{Path: path, Reason: "unreadable", Detail: "permission denied", At: at(9, 0)}); err != nil {
		t.Fatal(err)
	}
	st := status(t, db)
	if st.Skipped != 1 || st.Recent[0].Line != 0 || st.Recent[0].Reason != "unreadable" {
		t.Fatalf("after SkipFile: %+v", st.Recent)
	}
	// A successful read clears the file's error and records its own lines.
	apply(t, db, &store.Batch{File: store.FileState{Path: path, Lines: 3}, Skipped: []store.Skipped{skip(2, "not JSON"), skip(3, "no type")}})
	st = status(t, db)
	if st.Skipped != 2 || len(st.Recent) != 2 || st.Recent[0].Line != 3 || st.Recent[1].Line != 2 || st.Recent[1].Detail != "not JSON: détail ✓" {
		t.Fatalf("after Apply: %d %+v; want lines 3 then 2, newest first", st.Skipped, st.Recent)
	}
	// The same lines again (a re-read) are not counted twice.
	apply(t, db, &store.Batch{File: store.FileState{Path: path, Lines: 3}, Skipped: []store.Skipped{skip(2, "not JSON")}})
	if st = status(t, db); st.Skipped != 2 {
		t.Errorf("after a re-read: %d skipped, want 2", st.Skipped)
	}
	// A file read again from its start forgets what was skipped in it before.
	apply(t, db, &store.Batch{File: store.FileState{Path: path, Lines: 1}, Reset: true})
	if st = status(t, db); st.Skipped != 0 {
		t.Errorf("after a reset: %d skipped, want 0", st.Skipped)
	}
	if st, err := db.Status(ctx, 0); err != nil || len(st.Recent) != 0 {
		t.Errorf("Status(0) = %v, %v; want no recent lines", st.Recent, err)
	}
}

func testGoneFilesAndStatus(t *testing.T, db store.Driver) {
	ctx := context.Background()
	st := status(t, db)
	if st.Files != 0 || st.Sessions != 0 || !st.LastImport.IsZero() || !st.FirstAt.IsZero() {
		t.Errorf("status of an empty database = %+v", st)
	}
	// s1 lives in two files, s2 in one.
	imported := at(12, 0)
	for _, f := range []struct{ path, session string }{{"/c/a.jsonl", "s1"}, {"/c/b.jsonl", "s1"}, {"/c/c.jsonl", "s2"}} {
		apply(t, db, &store.Batch{File: store.FileState{Path: f.path, ImportedAt: imported},
			Sessions: []store.Session{session(f.session, at(9, 0), at(9, 5))}})
	}
	if err := db.MarkGone(ctx, []string{"/c/a.jsonl", "/c/c.jsonl", "/c/unknown.jsonl"}, at(13, 0)); err != nil {
		t.Fatal(err)
	}
	st = status(t, db)
	if st.Files != 3 || st.FilesGone != 2 || st.Sessions != 2 || st.SessionsOnlyHere != 1 {
		t.Errorf("status = %+v; want 3 files, 2 gone, 2 sessions, 1 (s2) only in the database", st)
	}
	if !st.LastImport.Equal(imported) || !st.FirstAt.Equal(at(9, 0)) || st.Size <= 0 {
		t.Errorf("status times/size = %v %v %d", st.LastImport, st.FirstAt, st.Size)
	}
	if f, _, _ := db.FileState(ctx, "/c/a.jsonl"); !f.GoneAt.Equal(at(13, 0)) {
		t.Errorf("gone at %v, want 13:00", f.GoneAt)
	}
	// A gone file read again (restored) is no longer gone.
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/c.jsonl", ImportedAt: imported}})
	if st = status(t, db); st.FilesGone != 1 || st.SessionsOnlyHere != 0 {
		t.Errorf("after restoring c: %+v", st)
	}
}

func status(t *testing.T, db store.Driver) store.Status {
	t.Helper()
	st, err := db.Status(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// testDuplicatesInOneBatch: one batch holding several records of a session,
// copies of a message in two sessions and lines of one streamed reply gives
// what applying them one by one gives.
func testDuplicatesInOneBatch(t *testing.T, db store.Driver) {
	ctx := context.Background()
	msg := func(sid string, seq int64) store.Message {
		return store.Message{UUID: "u1", SessionID: sid, Seq: seq, Type: "user", Role: "user", Timestamp: at(9, 0)}
	}
	apply(t, db, &store.Batch{
		Sessions: []store.Session{
			{ID: "s2", Project: "/src/old", FirstAt: at(9, 0), LastAt: at(9, 30)},
			{ID: "s2", Project: "/src/app", GitBranch: "main", FirstAt: at(8, 0), LastAt: at(10, 0)},
			{ID: "s2", GitBranch: "feature", FirstAt: at(9, 0), LastAt: at(9, 10)},
			{ID: "s1", Project: "/src/app", FirstAt: at(9, 0), LastAt: at(9, 0)},
		},
		Messages: []store.Message{msg("s2", 1), msg("s1", 4), msg("s2", 2)},
		Usage: []store.Usage{
			reply("r", "s2", at(9, 1), 3), reply("r", "s2", at(9, 2), 90), reply("r", "s2", at(9, 3), 90),
			reply("r", "s2", at(9, 4), 10),
		},
	})
	s2, err := db.Session(ctx, "s2")
	if err != nil {
		t.Fatal(err)
	}
	if s2.Project != "/src/app" || s2.GitBranch != "main" || !s2.FirstAt.Equal(at(8, 0)) || !s2.LastAt.Equal(at(10, 0)) {
		t.Errorf("s2 = %q %q %v..%v; want /src/app main 08:00..10:00", s2.Project, s2.GitBranch, s2.FirstAt, s2.LastAt)
	}
	if s1, _ := db.Session(ctx, "s1"); s1.Messages != 1 || s2.Messages != 0 {
		t.Errorf("messages s1 %d, s2 %d; want the copy in s1 only", s1.Messages, s2.Messages)
	}
	us := sums(t, db, store.UsageQuery{BySession: true})
	if len(us) != 1 || us[0].Replies != 1 || us[0].Output != 90 || !us[0].LastAt.Equal(at(9, 2)) {
		t.Errorf("usage = %+v; want one reply of output 90 at 09:02", us)
	}
}

// snapshot is everything a driver tells about its contents.
func snapshot(t *testing.T, db store.Driver, sessions ...string) string {
	t.Helper()
	st := status(t, db)
	st.Size, st.Recent = 0, nil
	files, err := db.Files(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n%+v\n", st, files)
	for _, q := range []store.UsageQuery{{}, {BySession: true}} {
		fmt.Fprintf(&b, "%+v\n", sums(t, db, q))
	}
	for _, id := range sessions {
		s, err := db.Session(context.Background(), id)
		fmt.Fprintf(&b, "%+v %v\n", s, err)
	}
	return b.String()
}

func testApplyTwiceChangesNothing(t *testing.T, db store.Driver) {
	b := &store.Batch{
		File:     store.FileState{Path: "/c/a.jsonl", Size: 900, Offset: 900, Lines: 4, ImportedAt: at(12, 0)},
		Sessions: []store.Session{session("s1", at(9, 0), at(9, 5))},
		Messages: []store.Message{
			{UUID: "u1", SessionID: "s1", Seq: 1, Type: "user", Role: "user", Timestamp: at(9, 0), Text: "hi"},
			{UUID: "a1", SessionID: "s1", Seq: 2, ParentUUID: "u1", Type: "assistant", Role: "assistant", Timestamp: at(9, 1)},
		},
		Usage:   []store.Usage{reply("a", "s1", at(9, 1), 12), reply("b", "s1", at(9, 5), 30)},
		Skipped: []store.Skipped{{Path: "/c/a.jsonl", Line: 3, Reason: "not JSON", At: at(12, 0)}},
	}
	apply(t, db, b)
	once := snapshot(t, db, "s1")
	apply(t, db, b)
	if twice := snapshot(t, db, "s1"); twice != once {
		t.Errorf("applying a batch again changed the database:\n once: %s\ntwice: %s", once, twice)
	}
}

// testEmptyValues: absent strings and times are stored as such and come
// back as the zero value.
func testEmptyValues(t *testing.T, db store.Driver) {
	ctx := context.Background()
	f := store.FileState{Path: "/c/empty.jsonl"}
	apply(t, db, &store.Batch{
		File:     f,
		Sessions: []store.Session{{ID: "bare"}},
		Messages: []store.Message{{UUID: "m", SessionID: "bare", Type: "system"}},
		Usage:    []store.Usage{{Key: "line:1", SessionID: "bare", Timestamp: at(2, 0), Priced: true}},
	})
	got, ok, err := db.FileState(ctx, f.Path)
	if err != nil || !ok || got != f {
		t.Errorf("FileState = %+v, %v, %v; want %+v", got, ok, err, f)
	}
	s, err := db.Session(ctx, "bare")
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Session{ID: "bare", Messages: 1}); s != want {
		t.Errorf("Session = %+v, want %+v", s, want)
	}
	us := sums(t, db, store.UsageQuery{})
	if len(us) != 1 || us[0].Model != "" || us[0].Replies != 1 || us[0].Total() != 0 {
		t.Errorf("sums = %+v; want one empty reply", us)
	}
}

// testLargeBatch writes one batch of many rows, as a first import of a long
// session does.
func testLargeBatch(t *testing.T, db store.Driver) {
	const n = 20_000
	b := LargeBatch("big", n)
	apply(t, db, b)
	s, err := db.Session(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	var out int64
	for _, u := range b.Usage {
		out += u.Output
	}
	if s.Messages != n || s.Output != out || math.Abs(s.Cost-float64(out)/1000) > 1e-6 {
		t.Errorf("session = %d messages, output %d, cost %v; want %d, %d, %v", s.Messages, s.Output, s.Cost, n, out, float64(out)/1000)
	}
	if _, _, replies := sum(sums(t, db, store.UsageQuery{})); replies != n {
		t.Errorf("replies = %d, want %d", replies, n)
	}
}

// LargeBatch is a batch of one session with n messages, each with the
// usage of a reply, spread over a day; ids are unique to the session id.
func LargeBatch(sid string, n int) *store.Batch {
	b := &store.Batch{
		File:     store.FileState{Path: "/c/projects/p/" + sid + ".jsonl", Size: int64(n) * 1000, Offset: int64(n) * 1000, Lines: int64(n)},
		Sessions: []store.Session{session(sid, day, day.Add(24*time.Hour))},
	}
	for i := range n {
		ts := day.Add(time.Duration(i) * 24 * time.Hour / time.Duration(n))
		id := fmt.Sprintf("%s-%07d", sid, i)
		b.Messages = append(b.Messages, store.Message{UUID: id, SessionID: sid, Seq: int64(i + 1), Type: "assistant",
			Role: "assistant", Timestamp: ts, Text: strings.Repeat("word ", 40), Model: "claude-opus-4-6"})
		b.Usage = append(b.Usage, reply(id, sid, ts, int64(i%500)))
	}
	return b
}

// BenchmarkApply measures the write of one batch of n messages and as many
// replies, each into a database already holding the earlier ones.
func BenchmarkApply(b *testing.B, open Open, n int) {
	db := open(b)
	batches := make([]*store.Batch, b.N)
	for i := range batches {
		batches[i] = LargeBatch(fmt.Sprintf("s%04d", i), n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := db.Apply(context.Background(), batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "messages/s")
}

// testFailedApplyLeavesNothing: a batch cut off by its context leaves no
// trace, not even the file's state.
func testFailedApplyLeavesNothing(t *testing.T, db store.Driver) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := LargeBatch("big", 100)
	if err := db.Apply(ctx, b); err == nil {
		t.Fatal("Apply with a cancelled context succeeded")
	}
	if err := db.Apply(context.Background(), &store.Batch{}); err == nil {
		t.Error("Apply of a batch naming no file succeeded")
	}
	if _, ok, err := db.FileState(context.Background(), b.File.Path); ok || err != nil {
		t.Errorf("file state after a failed Apply: ok %v, err %v", ok, err)
	}
	if st := status(t, db); st.Sessions != 0 || st.Files != 0 {
		t.Errorf("status after a failed Apply = %+v", st)
	}
}

// testConcurrentWriters: batches applied at once, carrying copies of the
// same messages and replies in several sessions (as resumed sessions do),
// end as if applied one by one: each once, in the smallest session id.
func testConcurrentWriters(t *testing.T, db store.Driver) {
	const writers, batches = 4, 12
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sid := fmt.Sprintf("s%d", w)
			for i := range batches {
				key := fmt.Sprintf("k%02d", i)
				errs <- db.Apply(context.Background(), &store.Batch{
					File:     store.FileState{Path: fmt.Sprintf("/c/%s.jsonl", sid), Lines: int64(i + 1)},
					Sessions: []store.Session{session(sid, at(9, 0), at(9, 30))},
					Messages: []store.Message{{UUID: key, SessionID: sid, Seq: int64(i + 1), Type: "user", Timestamp: at(9, i)}},
					Usage:    []store.Usage{reply(key, sid, at(9, i), 1)},
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	tok, _, replies := sum(sums(t, db, store.UsageQuery{}))
	if replies != batches || tok.Output != batches {
		t.Errorf("sums: %d replies, output %d; want %d each", replies, tok.Output, batches)
	}
	for w := range writers {
		s, err := db.Session(context.Background(), fmt.Sprintf("s%d", w))
		if err != nil {
			t.Fatal(err)
		}
		want := int64(0)
		if w == 0 {
			want = batches
		}
		if s.Messages != want || s.Output != want {
			t.Errorf("session %s: %d messages, output %d; want %d each", s.ID, s.Messages, s.Output, want)
		}
	}
}

// testByteOrder: ids and paths compare byte by byte whatever the database's
// locale ("Sb" before "sa"), so that "the smallest session id" is one
// session on every driver.
func testByteOrder(t *testing.T, db store.Driver) {
	ctx := context.Background()
	for _, sid := range []string{"sa", "Sb"} {
		apply(t, db, &store.Batch{
			File:     store.FileState{Path: "/c/" + sid + ".jsonl"},
			Sessions: []store.Session{session(sid, at(9, 0), at(9, 0))},
			Messages: []store.Message{{UUID: "u1", SessionID: sid, Seq: 1, Type: "user", Timestamp: at(9, 0)}},
			Usage:    []store.Usage{reply("r1", sid, at(9, 0), 5)},
		})
	}
	for sid, want := range map[string]int64{"Sb": 1, "sa": 0} {
		s, err := db.Session(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		if s.Messages != want || s.Output != 5*want {
			t.Errorf("session %s: %d messages, output %d; want %d, %d", sid, s.Messages, s.Output, want, 5*want)
		}
	}
	files, err := db.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path != "/c/Sb.jsonl" {
		t.Errorf("Files = %+v, want /c/Sb.jsonl first", files)
	}
}

// testManyBatchesInOneApply applies batches of several files in one call:
// the merge rules hold between batches of one transaction as between
// transactions, and every file's state is kept.
func testManyBatchesInOneApply(t *testing.T, db store.Driver) {
	ctx := context.Background()
	msg := func(sid string) store.Message {
		return store.Message{UUID: "u1", SessionID: sid, Seq: 1, Type: "user", Role: "user", Timestamp: at(9, 0), Text: "hi from " + sid}
	}
	batch := func(path, sid string, out int64, ts time.Time) *store.Batch {
		return &store.Batch{File: store.FileState{Path: path, Size: 10, Offset: 10, Lines: 1},
			Sessions: []store.Session{session(sid, at(9, 0), at(9, 30))},
			Messages: []store.Message{msg(sid)}, Usage: []store.Usage{reply("r1", sid, ts, out)}}
	}
	err := db.Apply(ctx,
		batch("/c/s9.jsonl", "s9", 5, at(9, 10)), // a partial line
		batch("/c/s2.jsonl", "s2", 40, at(9, 20)),
		batch("/c/s5.jsonl", "s5", 40, at(9, 20)),
		batch("/c/s9.jsonl", "s9", 40, at(9, 20)), // the same file, read further
	)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]struct{ msgs, out int64 }{"s2": {1, 40}, "s5": {0, 0}, "s9": {0, 0}} {
		got, err := db.Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Messages != want.msgs || got.Output != want.out {
			t.Errorf("session %s: %d messages, %d output tokens; want %d, %d", id, got.Messages, got.Output, want.msgs, want.out)
		}
	}
	us := sums(t, db, store.UsageQuery{})
	if tok, _, replies := sum(us); replies != 1 || tok.Output != 40 {
		t.Errorf("usage = %+v in %d replies, want 40 output tokens once", tok, replies)
	}
	files, err := db.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Errorf("%d files tracked, want 3", len(files))
	}
	if err := db.Apply(ctx); err != nil {
		t.Errorf("Apply of no batch: %v", err)
	}
	bad := db.Apply(ctx, batch("/c/a.jsonl", "s1", 1, at(9, 0)), &store.Batch{})
	if bad == nil {
		t.Fatal("a batch naming no file was accepted")
	}
	if _, err := db.Session(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed Apply left the first batch's session: %v", err)
	}
}
