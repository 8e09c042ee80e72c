package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/claude-insights/insights/store"
)

func testTotals(t *testing.T, db store.Driver) {
	ctx := context.Background()
	got, err := db.Totals(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, store.Totals{}) {
		t.Errorf("Totals of an empty database = %+v", got)
	}
	failed := func(id, sid string) store.ToolResult {
		r := result(id, sid, at(9, 9), "boom")
		r.IsError = true
		return r
	}
	apply(t, db, &store.Batch{
		Sessions: []store.Session{session("s1", at(9, 0), at(9, 30)), session("s2", at(8, 0), at(11, 0))},
		Messages: []store.Message{
			{UUID: "u1", SessionID: "s1", Seq: 1, Type: "user", Role: "user", Timestamp: at(9, 0)},
			{UUID: "u2", SessionID: "s1", Seq: 2, Type: "assistant", Role: "assistant", Timestamp: at(9, 30)},
			{UUID: "u3", SessionID: "s2", Seq: 1, Type: "user", Role: "user", Timestamp: at(8, 0)},
		},
		ToolUses: []store.ToolUse{
			use("b1", "s1", at(9, 1), "Bash", `{}`), use("b2", "s1", at(9, 2), "Bash", `{}`),
			use("b3", "s2", at(9, 3), "Bash", `{}`), use("r1", "s1", at(9, 4), "Read", `{}`),
			use("r2", "s2", at(9, 5), "Read", `{}`), use("e1", "s2", at(9, 6), "Edit", `{}`),
			use("t1", "s1", at(9, 7), "Task", `{}`),
		},
		ToolResults: []store.ToolResult{failed("b2", "s1"), failed("e1", "s2"), result("b1", "s1", at(9, 8), "ok")},
		Subagents:   []store.Subagent{{SessionID: "s1", AgentID: "ag1", ToolUseID: "t1"}},
	})
	got, err = db.Totals(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Totals{Sessions: 2, Messages: 3, ToolCalls: 7, ToolErrors: 2, Subagents: 1,
		FirstAt: at(8, 0), LastAt: at(11, 0), Tools: []store.ToolCount{
			{Name: "Bash", Calls: 3, Errors: 1}, {Name: "Read", Calls: 2}, {Name: "Edit", Calls: 1, Errors: 1}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Totals =\n%+v\nwant\n%+v", got, want)
	}
}

// testUserFilter: a session imported locally belongs to no team member, so
// every query filtered by a user finds nothing of it, and the same queries
// unfiltered find it.
func testUserFilter(t *testing.T, db store.Driver) {
	ctx := context.Background()
	m := store.Message{UUID: "u1", SessionID: "s1", Seq: 1, Type: "user", Role: "user", Timestamp: at(9, 0),
		Text: "walrus", Search: "walrus"}
	apply(t, db, &store.Batch{
		Sessions: []store.Session{session("s1", at(9, 0), at(9, 30))},
		Messages: []store.Message{m},
		Usage:    []store.Usage{reply("k1", "s1", at(9, 1), 10)},
	})
	s, err := db.Session(ctx, "s1")
	if err != nil || s.UserID != 0 {
		t.Fatalf("Session = %+v, %v; want user 0", s, err)
	}
	for _, user := range []int64{0, 42} {
		want := 1
		if user != 0 {
			want = 0
		}
		list, err := db.Sessions(ctx, store.SessionQuery{UserID: user})
		if err != nil || int(list.Total) != want || len(list.Sessions) != want {
			t.Errorf("Sessions of user %d: %d (%d listed), %v; want %d", user, list.Total, len(list.Sessions), err, want)
		}
		res, err := db.Search(ctx, store.SearchQuery{Text: "walrus", UserID: user})
		if err != nil || int(res.Total) != want || len(res.Hits) != want {
			t.Errorf("Search of user %d: %d (%d hits), %v; want %d", user, res.Total, len(res.Hits), err, want)
		}
		for _, bySession := range []bool{false, true} {
			sums, err := db.UsageSums(ctx, store.UsageQuery{UserID: user, BySession: bySession})
			if err != nil || len(sums) != want {
				t.Errorf("UsageSums of user %d (by session %t): %d rows, %v; want %d", user, bySession, len(sums), err, want)
			}
		}
		spent, err := db.SpentSums(ctx, store.UsageQuery{UserID: user})
		if err != nil || len(spent) != want {
			t.Errorf("SpentSums of user %d: %d rows, %v; want %d", user, len(spent), err, want)
		}
		f, err := db.Facets(ctx, user)
		if err != nil || len(f.Projects) != want || len(f.Models) != want {
			t.Errorf("Facets of user %d: %+v, %v; want %d project and model", user, f, err, want)
		}
	}
}
