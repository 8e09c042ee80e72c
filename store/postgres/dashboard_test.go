package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
	"github.com/claude-insights/insights/store/postgres/pgtest"
)

// The dashboard's aggregates: usage by user, project, model, subagent and
// day, and replies by weekday and hour, kept by uploads and rebuilt by a
// repair.
func TestDashboardAggregates(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	db := openDSN(t, dsn)
	ann, err := db.AddUser(ctx, store.User{Name: "ann", Share: store.ShareFull, KeyPrefix: "ann"}, []byte("ann"))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := db.AddUser(ctx, store.User{Name: "bob", Share: store.ShareFull, KeyPrefix: "bob"}, []byte("bob"))
	if err != nil {
		t.Fatal(err)
	}
	// Sunday 2026-03-01 22:00 and Monday 09:00 UTC.
	sun, mon := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	a := uploadBatch("a", "x", 100, sun)
	a.Sessions[0].Project = "/src/app"
	// A subagent of type Explore, started by a Task call, replies on Monday.
	a.Sessions[0].LastAt = mon
	a.ToolUses = append(a.ToolUses, store.ToolUse{ID: "task-1", SessionID: "x", Name: "Task", At: sun,
		Input: json.RawMessage(`{"subagent_type":"Explore"}`)})
	a.Subagents = []store.Subagent{{SessionID: "x", AgentID: "ag1", ToolUseID: "task-1"}}
	a.Usage = append(a.Usage, store.Usage{Key: "sub-r", SessionID: "x", AgentID: "ag1", Model: "claude-haiku-4-5",
		Timestamp: mon, Tokens: store.Tokens{Input: 100, Output: 1000}, Cost: 0.25, Priced: true})
	b := uploadBatch("b", "y", 70, mon)
	b.Sessions[0].Project = "/src/api"
	if errs, err := db.ApplyUploads(ctx, []store.UploadBatch{{UserID: ann.ID, Batch: a}, {UserID: bob.ID, Batch: b}}); err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatalf("ApplyUploads: %v %v", errs, err)
	}

	check := func(when string) {
		t.Helper()
		type row struct {
			key      string
			subagent bool
			tokens   int64
			cost     float64
			replies  int64
		}
		for _, c := range []struct {
			group string
			q     store.StatsQuery
			want  []row
		}{
			{store.GroupUser, store.StatsQuery{}, []row{{"ann", false, 1111, 0.75, 2}, {"bob", false, 11, 0.5, 1}}},
			{store.GroupProject, store.StatsQuery{}, []row{{"/src/app", false, 1111, 0.75, 2}, {"/src/api", false, 11, 0.5, 1}}},
			{store.GroupModel, store.StatsQuery{}, []row{{"claude-opus-4-6", false, 22, 1, 2}, {"claude-haiku-4-5", false, 1100, 0.25, 1}}},
			{store.GroupSubagent, store.StatsQuery{}, []row{{"", false, 22, 1, 2}, {"Explore", true, 1100, 0.25, 1}}},
			{store.GroupDay, store.StatsQuery{}, []row{{"2026-03-01", false, 11, 0.5, 1}, {"2026-03-02", false, 1111, 0.75, 2}}},
			{store.GroupUser, store.StatsQuery{Since: mon.Truncate(24 * time.Hour)}, []row{{"bob", false, 11, 0.5, 1}, {"ann", false, 1100, 0.25, 1}}},
			{store.GroupModel, store.StatsQuery{UserID: bob.ID}, []row{{"claude-opus-4-6", false, 11, 0.5, 1}}},
		} {
			gs, err := db.UsageBy(ctx, c.q, c.group)
			if err != nil {
				t.Fatalf("%s: UsageBy(%s): %v", when, c.group, err)
			}
			var got []row
			for _, g := range gs {
				got = append(got, row{g.Key, g.Subagent, g.Total(), g.Cost, g.Replies})
			}
			if len(got) != len(c.want) {
				t.Errorf("%s: by %s %+v = %v, want %v", when, c.group, c.q, got, c.want)
				continue
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("%s: by %s %+v [%d] = %v, want %v", when, c.group, c.q, i, got[i], c.want[i])
				}
			}
		}
		hours, err := db.HourStats(ctx, store.StatsQuery{})
		if err != nil {
			t.Fatal(err)
		}
		want := []store.HourStat{{Weekday: time.Sunday, Hour: 22, Replies: 1, Tokens: 11},
			{Weekday: time.Monday, Hour: 9, Replies: 2, Tokens: 1111}}
		if len(hours) != len(want) || hours[0] != want[0] || hours[1] != want[1] {
			t.Errorf("%s: hours = %+v, want %+v", when, hours, want)
		}
	}
	check("after the upload")
	if _, err := db.UsageBy(ctx, store.StatsQuery{}, "colour"); err == nil {
		t.Error("UsageBy of an unknown group succeeded")
	}

	// The repair rebuilds lost rows of the days from since on, and only those.
	rawExec(t, dsn, `DELETE FROM usage_stats`, `DELETE FROM hour_stats`, `DELETE FROM daily_stats`)
	n, err := db.RefreshAggregates(ctx, mon)
	if err != nil || n != 2 {
		t.Fatalf("RefreshAggregates = %d, %v; want 2 user-days", n, err)
	}
	if gs, _ := db.UsageBy(ctx, store.StatsQuery{}, store.GroupDay); len(gs) != 1 || gs[0].Key != "2026-03-02" {
		t.Errorf("after repairing from Monday: %+v", gs)
	}
	if n, err = db.RefreshAggregates(ctx, time.Time{}); err != nil || n != 3 {
		t.Fatalf("RefreshAggregates = %d, %v; want 3 user-days", n, err)
	}
	check("after the repair")
	if ds, _ := db.DailyStats(ctx, store.StatsQuery{}); len(ds) != 3 {
		t.Errorf("daily_stats after the repair: %+v", ds)
	}
}

// A lock is held by one server at a time, whatever the database handle.
func TestTryLock(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	one, other := openDSN(t, dsn), openDSN(t, dsn)
	unlock, ok, err := one.TryLock(ctx, "export")
	if err != nil || !ok {
		t.Fatalf("first TryLock = %v, %v", ok, err)
	}
	if _, ok, err := other.TryLock(ctx, "export"); err != nil || ok {
		t.Fatalf("a second server took a held lock: %v, %v", ok, err)
	}
	if u, ok, err := other.TryLock(ctx, "repair"); err != nil || !ok {
		t.Fatalf("another lock: %v, %v", ok, err)
	} else {
		u()
	}
	unlock()
	u, ok, err := other.TryLock(ctx, "export")
	if err != nil || !ok {
		t.Fatalf("TryLock after unlock = %v, %v", ok, err)
	}
	u()
}

// Passwords and browser sessions: an expired session finds nothing, a new
// password ends the user's sessions.
func TestWebSessions(t *testing.T) {
	ctx := context.Background()
	db := open(t).(*postgres.DB)
	ann, err := db.AddUser(ctx, store.User{Name: "ann", Share: store.ShareFull, KeyPrefix: "ann"}, []byte("ann"))
	if err != nil {
		t.Fatal(err)
	}
	if u, hash, err := db.PasswordHash(ctx, "ann"); err != nil || hash != "" || u.HasPassword || !u.Leaderboard {
		t.Fatalf("PasswordHash of a new user = %+v, %q, %v", u, hash, err)
	}
	if _, _, err := db.PasswordHash(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PasswordHash of nobody: %v", err)
	}
	now := time.Now()
	live := store.WebSession{TokenHash: []byte("live"), UserID: ann.ID, CSRF: "c1", ExpiresAt: now.Add(time.Hour)}
	old := store.WebSession{TokenHash: []byte("old"), UserID: ann.ID, CSRF: "c2", ExpiresAt: now.Add(-time.Second)}
	for _, s := range []store.WebSession{old, live} {
		if err := db.AddWebSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	ws, u, err := db.WebSession(ctx, []byte("live"))
	if err != nil || u.Name != "ann" || ws.CSRF != "c1" || ws.ExpiresAt.Sub(live.ExpiresAt).Abs() > time.Millisecond {
		t.Fatalf("WebSession = %+v, %+v, %v", ws, u, err)
	}
	if _, _, err := db.WebSession(ctx, []byte("old")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired session: %v", err)
	}
	u, err = db.SetPassword(ctx, "ann", "$2a$hash")
	if err != nil || !u.HasPassword {
		t.Fatalf("SetPassword = %+v, %v", u, err)
	}
	if _, hash, _ := db.PasswordHash(ctx, "ann"); hash != "$2a$hash" {
		t.Errorf("hash = %q", hash)
	}
	if _, _, err := db.WebSession(ctx, []byte("live")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session after a new password: %v", err)
	}
	if err := db.AddWebSession(ctx, live); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteWebSession(ctx, []byte("live")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.WebSession(ctx, []byte("live")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session after sign-out: %v", err)
	}
	if u, err := db.SetLeaderboard(ctx, "ann", false); err != nil || u.Leaderboard {
		t.Errorf("SetLeaderboard = %+v, %v", u, err)
	}
	if _, err := db.SetPassword(ctx, "nobody", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPassword of nobody: %v", err)
	}
}

func openDSN(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
