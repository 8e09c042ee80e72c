package report

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/claude-insights/insights/store"
)

// Who a share of a session's usage went to.
const (
	ByMain     = "main"     // the main thread
	BySubagent = "subagent" // a subagent (Task/Agent tool), by agent id
	BySkill    = "skill"    // a skill (Skill tool), part of the main thread's usage
	ByMCP      = "mcp"      // an MCP server, part of its caller's usage
)

// Share is the part of a session's usage that one party spent. Main and
// subagent shares add up to the session; skill and MCP shares are parts of
// them.
type Share struct {
	By   string
	Name string // agent id, skill or server; empty for the main thread
	Type string // the subagent's type (Explore, general-purpose, …)
	store.Tokens
	Cost     float64
	Unpriced int64 // replies without a price
	Replies  int64
}

// Label names the share for people: "main", "subagent a1b2c3 (Explore)",
// "skill code-review", "mcp github".
func (s Share) Label() string {
	l := s.By
	if s.Name != "" {
		l += " " + s.Name
	}
	if s.Type != "" {
		l += " (" + s.Type + ")"
	}
	return l
}

// SpentBy attributes the replies of a session between since (inclusive) and
// until (exclusive; zero bounds are open):
//   - each reply to the main thread or to the subagent whose reply it is;
//   - a main-thread reply also to the skill most recently loaded with the
//     Skill tool, until the user types the next prompt;
//   - a reply that calls an MCP tool (mcp__<server>__<tool>) also to that
//     server (to the first server it calls).
func SpentBy(ctx context.Context, db store.Driver, sessionID string, since, until time.Time) ([]Share, error) {
	replies, err := db.Replies(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	calls, err := db.ToolCalls(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	msgs, err := db.Messages(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	agents, err := db.Subagents(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	var prompts []time.Time
	for _, m := range msgs {
		if m.IsPrompt && m.AgentID == "" {
			prompts = append(prompts, m.Timestamp)
		}
	}
	var kept []store.Usage
	for _, u := range replies {
		if (since.IsZero() || !u.Timestamp.Before(since)) && (until.IsZero() || u.Timestamp.Before(until)) {
			kept = append(kept, u)
		}
	}
	return attribute(kept, calls, prompts, agents), nil
}

// attribute applies SpentBy's rules to a session's rows.
func attribute(replies []store.Usage, calls []store.ToolCall, prompts []time.Time, agents []store.SubagentInfo) []Share {
	types := map[string]string{}
	for _, a := range agents {
		types[a.AgentID] = a.Type
	}
	mcp := map[string]string{} // API message id → the first MCP server it calls
	var skills []store.ToolCall
	for _, c := range calls {
		if server, ok := store.MCPServer(c.Name); ok && c.MessageID != "" {
			if _, seen := mcp[c.MessageID]; !seen {
				mcp[c.MessageID] = server
			}
		}
		if c.Name == "Skill" && c.AgentID == "" && !c.At.IsZero() {
			skills = append(skills, c)
		}
	}
	slices.SortFunc(prompts, func(a, b time.Time) int { return a.Compare(b) })
	shares := map[[2]string]*Share{}
	add := func(by, name string, u store.Usage) {
		k := [2]string{by, name}
		s, ok := shares[k]
		if !ok {
			s = &Share{By: by, Name: name}
			if by == BySubagent {
				s.Type = types[name]
			}
			shares[k] = s
		}
		s.Tokens.Add(u.Tokens)
		s.Replies++
		if u.Priced {
			s.Cost += u.Cost
		} else {
			s.Unpriced++
		}
	}
	for _, u := range replies {
		if u.AgentID == "" {
			add(ByMain, "", u)
			if skill := activeSkill(skills, prompts, u.Timestamp); skill != "" {
				add(BySkill, skill, u)
			}
		} else {
			add(BySubagent, u.AgentID, u)
		}
		if server, ok := mcp[u.MessageID]; ok {
			add(ByMCP, server, u)
		}
	}
	order := map[string]int{ByMain: 0, BySubagent: 1, BySkill: 2, ByMCP: 3}
	var out []Share
	for _, s := range shares {
		s.Cost = store.RoundCost(s.Cost)
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Share) int {
		return cmp.Or(cmp.Compare(order[a.By], order[b.By]), cmp.Compare(b.Cost, a.Cost), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// activeSkill is the skill loaded last at or before t with no prompt typed
// since, or "".
func activeSkill(skills []store.ToolCall, prompts []time.Time, t time.Time) string {
	var last *store.ToolCall
	for i := range skills {
		if skills[i].At.After(t) {
			continue
		}
		if last == nil || skills[i].At.After(last.At) {
			last = &skills[i]
		}
	}
	if last == nil {
		return ""
	}
	for _, p := range prompts {
		if p.After(last.At) && !p.After(t) {
			return ""
		}
	}
	var in struct {
		Skill   string `json:"skill"`
		Command string `json:"command"`
	}
	_ = json.Unmarshal(last.Input, &in)
	return cmp.Or(in.Skill, in.Command, "(unnamed)")
}
