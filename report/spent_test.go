package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

func TestAttribute(t *testing.T) {
	t0 := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	reply := func(msg, agent string, min int, out int64) store.Usage {
		return store.Usage{Key: msg, MessageID: msg, AgentID: agent, Timestamp: at(min), Tokens: store.Tokens{Output: out},
			Cost: float64(out) / 100, Priced: true}
	}
	replies := []store.Usage{
		reply("m1", "", 1, 1),     // main, before any skill
		reply("m2", "", 3, 2),     // calls Skill: from here on the skill's
		reply("m3", "", 4, 4),     // still the skill's, and calls an MCP tool
		reply("m4", "", 6, 8),     // after a new prompt: main only
		reply("m5", "ag1", 7, 16), // a subagent
		reply("m6", "ag1", 8, 32), // a subagent calling an MCP tool
		{Key: "m7", MessageID: "m7", Timestamp: at(9), Tokens: store.Tokens{Output: 64}}, // unpriced
	}
	calls := []store.ToolCall{
		{ToolUse: store.ToolUse{ID: "t1", MessageID: "m2", Name: "Skill", At: at(3), Input: json.RawMessage(`{"skill":"code-review"}`)}},
		{ToolUse: store.ToolUse{ID: "t2", MessageID: "m3", Name: "mcp__github__create_issue", At: at(4)}},
		{ToolUse: store.ToolUse{ID: "t3", MessageID: "m3", Name: "mcp__slack__post", At: at(4)}},
		{ToolUse: store.ToolUse{ID: "t4", MessageID: "m6", AgentID: "ag1", Name: "mcp__slack__post", At: at(8)}},
		{ToolUse: store.ToolUse{ID: "t5", MessageID: "m6", AgentID: "ag1", Name: "Skill", At: at(8), Input: json.RawMessage(`{"skill":"sub-skill"}`)}},
	}
	prompts := []time.Time{at(5), at(0)}
	agents := []store.SubagentInfo{{Subagent: store.Subagent{AgentID: "ag1"}, Type: "Explore"}}
	var got []string
	for _, s := range attribute(replies, calls, prompts, agents) {
		got = append(got, fmt.Sprintf("%s out=%d replies=%d cost=%.2f unpriced=%d", s.Label(), s.Output, s.Replies, s.Cost, s.Unpriced))
	}
	want := []string{
		"main out=79 replies=5 cost=0.15 unpriced=1",
		"subagent ag1 (Explore) out=48 replies=2 cost=0.48 unpriced=0",
		"skill code-review out=6 replies=2 cost=0.06 unpriced=0",
		"mcp slack out=32 replies=1 cost=0.32 unpriced=0",
		"mcp github out=4 replies=1 cost=0.04 unpriced=0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("shares:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
