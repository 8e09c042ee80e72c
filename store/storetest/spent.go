package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

// spentFixture holds two sessions whose replies go to the main thread,
// subagents (one of unknown type), skills (one ended by a prompt, one hidden
// by a call at the same instant) and MCP servers (the first server a reply
// calls, from the main thread and from a subagent).
func spentFixture(t *testing.T, db store.Driver) {
	sec := func(ts time.Time, s int) time.Time { return ts.Add(time.Duration(s) * time.Second) }
	prompt := func(uuid, sid, agent string, ts time.Time) store.Message {
		return store.Message{UUID: uuid, SessionID: sid, Seq: 1, Type: "user", Role: "user", AgentID: agent,
			IsPrompt: true, Timestamp: ts}
	}
	call := func(id, sid, agent, msg string, seq int64, ts time.Time, name, input string) store.ToolUse {
		u := use(id, sid, ts, name, input)
		u.AgentID, u.Seq = agent, seq
		if msg != "" {
			u.MessageID = msg
		}
		return u
	}
	sub := func(key, agent string, ts time.Time, out int64) store.Usage {
		u := reply(key, "s1", ts, out)
		u.AgentID = agent
		return u
	}
	unpriced := sub("f", "ag2", at(9, 8), 32)
	unpriced.Model, unpriced.Cost, unpriced.Priced = "mystery", 0, false
	s2 := session("s2", at(9, 0), at(10, 0))
	s2.Project = "/src/other"
	apply(t, db, &store.Batch{
		Sessions: []store.Session{session("s1", at(9, 0), at(9, 31)), s2},
		Messages: []store.Message{
			prompt("p1", "s1", "", at(9, 0)),
			prompt("p2", "s1", "", at(9, 30)),
			prompt("p3", "s1", "ag1", at(9, 11)), // a subagent's prompt ends no skill
		},
		ToolUses: []store.ToolUse{
			call("task1", "s1", "", "", 1, at(9, 2), "Task", `{"description":"look","prompt":"…","subagent_type":"Explore"}`),
			call("sk1", "s1", "", "", 1, at(9, 5), "Skill", `{"skill":"review"}`),
			call("sk2", "s1", "", "", 1, at(9, 10), "Skill", `{"command":"lint"}`),
			call("sk3", "s1", "", "", 2, at(9, 10), "Skill", `{"skill":"hidden"}`),
			call("sk4", "s1", "ag1", "", 1, at(9, 11), "Skill", `{"skill":"in-subagent"}`),
			call("sk5", "s2", "", "", 1, at(9, 0), "Skill", `{"skill":"review"}`),
			call("mc1", "s1", "", "msg_b", 1, sec(at(9, 6), 1), "mcp__github__get_issue", `{}`),
			call("mc2", "s1", "", "msg_b", 2, sec(at(9, 6), 1), "mcp__slack__post", `{}`),
			call("mc3", "s1", "", "msg_c", 1, sec(at(9, 12), 1), "mcp__broken", `{}`),
			call("mc4", "s1", "ag1", "msg_e", 1, sec(at(9, 7), 1), "mcp__github__search", `{}`),
		},
		Subagents: []store.Subagent{{SessionID: "s1", AgentID: "ag1", ToolUseID: "task1"}},
		Usage: []store.Usage{
			reply("a", "s1", at(9, 1), 1),   // main, before any skill
			reply("b", "s1", at(9, 6), 2),   // main, skill review, mcp github
			reply("c", "s1", at(9, 12), 4),  // main, skill lint
			reply("d", "s1", at(9, 31), 8),  // main, after a prompt: no skill
			sub("e", "ag1", at(9, 7), 16),   // subagent Explore, mcp github
			unpriced,                        // subagent of unknown type, no price
			reply("g", "s2", at(10, 0), 64), // main, skill review
		},
	})
}

func spentString(ss []store.SpentSum) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "%s %q: in=%d out=%d cost=%.3f unpriced=%d replies=%d sessions=%d\n",
			s.By, s.Name, s.Input, s.Output, s.Cost, s.Unpriced, s.Replies, s.Sessions)
	}
	return b.String()
}

func testSpentSums(t *testing.T, db store.Driver) {
	ctx := context.Background()
	got, err := db.SpentSums(ctx, store.UsageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("SpentSums of an empty database = %v", got)
	}
	spentFixture(t, db)
	for _, tc := range []struct {
		name string
		q    store.UsageQuery
		want string
	}{
		{"all", store.UsageQuery{}, `main "": in=15 out=79 cost=0.079 unpriced=0 replies=5 sessions=2
subagent "Explore": in=3 out=16 cost=0.016 unpriced=0 replies=1 sessions=1
subagent "": in=3 out=32 cost=0.000 unpriced=1 replies=1 sessions=1
skill "review": in=6 out=66 cost=0.066 unpriced=0 replies=2 sessions=2
skill "lint": in=3 out=4 cost=0.004 unpriced=0 replies=1 sessions=1
mcp "github": in=6 out=18 cost=0.018 unpriced=0 replies=2 sessions=1
`},
		{"range and project", store.UsageQuery{Since: at(9, 6), Until: at(9, 31), Project: "app"},
			`main "": in=6 out=6 cost=0.006 unpriced=0 replies=2 sessions=1
subagent "Explore": in=3 out=16 cost=0.016 unpriced=0 replies=1 sessions=1
subagent "": in=3 out=32 cost=0.000 unpriced=1 replies=1 sessions=1
skill "lint": in=3 out=4 cost=0.004 unpriced=0 replies=1 sessions=1
skill "review": in=3 out=2 cost=0.002 unpriced=0 replies=1 sessions=1
mcp "github": in=6 out=18 cost=0.018 unpriced=0 replies=2 sessions=1
`},
		{"other project", store.UsageQuery{Project: "/src/other"}, `main "": in=3 out=64 cost=0.064 unpriced=0 replies=1 sessions=1
skill "review": in=3 out=64 cost=0.064 unpriced=0 replies=1 sessions=1
`},
	} {
		got, err := db.SpentSums(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s := spentString(got); s != tc.want {
			t.Errorf("%s: SpentSums =\n%s\nwant\n%s", tc.name, s, tc.want)
		}
	}
}
