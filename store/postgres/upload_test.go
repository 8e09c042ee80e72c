package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
)

// uploadBatch is a batch of one uploaded file holding one message and one
// reply of a session, the file ending at end.
func uploadBatch(path, session string, end int64, at time.Time) *store.Batch {
	id := fmt.Sprintf("%s-%d", path, end)
	return &store.Batch{
		File:     store.FileState{Path: path, Offset: end, Size: end, Lines: 2},
		Sessions: []store.Session{{ID: session, FirstAt: at, LastAt: at}},
		Messages: []store.Message{{UUID: id + "-m", SessionID: session, Seq: 1, Type: "assistant", Role: "assistant", Timestamp: at}},
		Usage: []store.Usage{{Key: id + "-r", SessionID: session, Model: "claude-opus-4-6", Timestamp: at,
			Tokens: store.Tokens{Input: 1, Output: 10}, Cost: 0.5, Priced: true}},
		ToolUses: []store.ToolUse{{ID: id + "-t", SessionID: session, Name: "Bash", At: at}},
	}
}

// One transaction of several users' batches: each is checked against the
// stored offsets and owners and against the batches before it; the good
// ones land with their owners and aggregates, the others get their error.
func TestApplyUploadsChecksEachBatch(t *testing.T) {
	ctx := context.Background()
	db := open(t).(*postgres.DB)
	var ids [2]int64
	for i, name := range []string{"ann", "bob"} {
		u, err := db.AddUser(ctx, store.User{Name: name, Share: store.ShareFull, KeyPrefix: name}, []byte(name))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	ann, bob := ids[0], ids[1]
	day1 := time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
	day2 := day1.Add(2 * time.Hour)
	errs, err := db.ApplyUploads(ctx, []store.UploadBatch{
		{UserID: ann, Start: 0, Batch: uploadBatch("a", "x", 100, day1)},
		{UserID: bob, Start: 0, Batch: uploadBatch("b", "x", 50, day1)},    // x is ann's, from the batch before
		{UserID: ann, Start: 0, Batch: uploadBatch("a", "x", 100, day1)},   // a ends at 100 now
		{UserID: bob, Start: 0, Batch: uploadBatch("c", "y", 70, day2)},    // fine
		{UserID: ann, Start: 100, Batch: uploadBatch("a", "x", 180, day2)}, // continues a
	})
	if err != nil {
		t.Fatal(err)
	}
	var conflict *store.UploadConflict
	if errs[0] != nil || !errors.Is(errs[1], store.ErrForbidden) || !errors.As(errs[2], &conflict) || conflict.Offset != 100 ||
		errs[3] != nil || errs[4] != nil {
		t.Fatalf("errs = %v", errs)
	}
	for id, want := range map[string]int64{"x": ann, "y": bob} {
		s, err := db.Session(ctx, id)
		if err != nil || s.UserID != want {
			t.Errorf("session %s: user %d, %v; want %d", id, s.UserID, err, want)
		}
	}
	if f, ok, err := db.FileState(ctx, "b"); ok || err != nil {
		t.Errorf("the refused batch's file is stored: %+v, %v", f, err)
	}
	if f, _, _ := db.FileState(ctx, "a"); f.Offset != 180 {
		t.Errorf("file a ends at %d, want 180", f.Offset)
	}
	stats, err := db.DailyStats(ctx, store.StatsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		user string
		day  string
	}
	got := map[key][3]int64{}
	for _, s := range stats {
		got[key{s.User, s.Day.Format(time.DateOnly)}] = [3]int64{s.Messages, s.Output, s.ToolCalls}
	}
	want := map[key][3]int64{
		{"ann", "2026-03-01"}: {1, 10, 1},
		{"ann", "2026-03-02"}: {1, 10, 1},
		{"bob", "2026-03-02"}: {1, 10, 1},
	}
	if len(got) != len(want) {
		t.Errorf("daily_stats = %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("daily_stats %v = %v, want %v", k, got[k], w)
		}
	}
	tools, err := db.ToolStats(ctx, store.StatsQuery{UserID: ann})
	if err != nil || len(tools) != 1 || tools[0] != (store.ToolStat{Tool: "Bash", Calls: 2}) {
		t.Errorf("ann's tools = %+v, %v", tools, err)
	}
}
