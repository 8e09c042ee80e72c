package server

import (
	"fmt"
	"time"

	"github.com/claude-insights/insights/store"
)

// replayPageSize is how many main-thread messages a page of a replay holds;
// the subagents started on a page come with it.
const replayPageSize = 250

// node is a message placed in a replay.
type node struct {
	m    store.Message
	refs []blockRef
	// anchor is the id of its element: m-<seq> on the main thread,
	// m-<agent>-<seq> in a subagent (whose file numbers lines anew).
	anchor string
	// results lists the tool calls a user record answers; resultOnly says
	// it holds nothing else, so that it shows inside its calls.
	results    []string
	resultOnly bool
	calls      []string // the tool_use ids it makes
	page       int
}

// layout places every message of a session: threads, pages and anchors.
// It reads only the kinds of blocks, so that it stays cheap for sessions
// of thousands of messages; only the page shown is rendered.
type layout struct {
	// nodes holds every message in the order the store gives them: the
	// main thread's, then each subagent's.
	nodes  []*node
	main   []*node
	agents map[string][]*node // by agent id
	// agentOrder lists agent ids by their first message.
	agentOrder []string
	callNode   map[string]*node  // tool_use id → the message making the call
	resultNode map[string]*node  // tool_use id → the message carrying its result
	agentOf    map[string]string // Task tool_use id → agent id
	taskOf     map[string]string // agent id → the Task tool_use id that started it
	pages      int
	// first and span are the time of the first message and the time to the
	// last, which the timeline spreads over its width.
	first time.Time
	span  time.Duration
}

func newLayout(ms []store.Message, subagents []store.SubagentInfo) *layout {
	l := &layout{agents: map[string][]*node{}, callNode: map[string]*node{}, resultNode: map[string]*node{},
		agentOf: map[string]string{}, taskOf: map[string]string{}}
	for i := range ms {
		n := &node{m: ms[i], refs: parseRefs(ms[i].Content)}
		l.nodes = append(l.nodes, n)
		for _, r := range n.refs {
			switch r.Type {
			case "tool_use":
				if r.ID != "" {
					n.calls = append(n.calls, r.ID)
					l.callNode[r.ID] = n
				}
			case "tool_result":
				n.results = append(n.results, r.ToolUseID)
				if _, ok := l.resultNode[r.ToolUseID]; !ok {
					l.resultNode[r.ToolUseID] = n
				}
			}
		}
		if n.m.AgentID == "" {
			n.anchor = fmt.Sprintf("m-%d", n.m.Seq)
			l.main = append(l.main, n)
			continue
		}
		n.anchor = fmt.Sprintf("m-%s-%d", n.m.AgentID, n.m.Seq)
		if _, ok := l.agents[n.m.AgentID]; !ok {
			l.agentOrder = append(l.agentOrder, n.m.AgentID)
		}
		l.agents[n.m.AgentID] = append(l.agents[n.m.AgentID], n)
	}
	for _, a := range subagents {
		if a.ToolUseID != "" {
			l.agentOf[a.ToolUseID] = a.AgentID
			l.taskOf[a.AgentID] = a.ToolUseID
		}
	}
	for _, n := range l.nodes {
		n.resultOnly = n.m.Type == "user" && len(n.results) > 0 && len(n.results) == len(n.refs)
		for _, id := range n.results {
			n.resultOnly = n.resultOnly && l.callNode[id] != nil
		}
	}
	var last time.Time
	for _, n := range l.nodes {
		t := n.m.Timestamp
		if t.IsZero() {
			continue
		}
		if l.first.IsZero() || t.Before(l.first) {
			l.first = t
		}
		if t.After(last) {
			last = t
		}
	}
	l.span = last.Sub(l.first)
	l.pages = max(1, (len(l.main)+replayPageSize-1)/replayPageSize)
	for i, n := range l.main {
		n.page = i/replayPageSize + 1
	}
	for _, id := range l.agentOrder {
		p := l.pages // a subagent no call started is shown at the end
		if call := l.callNode[l.taskOf[id]]; call != nil && call.m.AgentID == "" {
			p = call.page
		}
		for _, n := range l.agents[id] {
			n.page = p
		}
	}
	// A result shows with its call, so its anchor is on the call's page.
	for _, n := range l.nodes {
		if n.resultOnly {
			n.page = l.callNode[n.results[0]].page
		}
	}
	return l
}

// timelineWidth is the timeline's width in its own units; messages closer
// in time than one unit share a mark.
const timelineWidth = 1000

// mark is one mark of the timeline: the messages of one slice of time,
// linking to the first of them.
type mark struct {
	X        int
	Kind     string // the most telling kind among its messages
	Href     string
	Anchor   string
	Count    int
	At       time.Time
	Label    string
	Messages []string // anchors of every message it covers
}

// x is where a time falls on the timeline; -1 for no time.
func (l *layout) x(t time.Time) int {
	if t.IsZero() {
		return -1
	}
	if l.span <= 0 {
		return 0
	}
	return int(float64(t.Sub(l.first)) / float64(l.span) * (timelineWidth - 3))
}

// kindRank orders the kinds of marks: a mark shows the highest.
var kindRank = map[string]int{"user": 1, "assistant": 2, "prompt": 3, "tool": 4, "compact": 5, "error": 6}

// timeline marks every message with a time, by its time.
func (l *layout) timeline(calls map[string]*store.ToolCall) []mark {
	byX := map[int]*mark{}
	var marks []*mark
	for _, n := range l.nodes {
		if n.m.Timestamp.IsZero() {
			continue
		}
		x := l.x(n.m.Timestamp)
		kind, label := markKind(n, calls)
		m := byX[x]
		if m == nil {
			m = &mark{X: x, Kind: kind, Href: fmt.Sprintf("?page=%d#%s", n.page, n.anchor), Anchor: n.anchor,
				At: n.m.Timestamp, Label: label}
			byX[x] = m
			marks = append(marks, m)
		} else if kindRank[kind] > kindRank[m.Kind] {
			m.Kind = kind
		}
		m.Count++
		m.Messages = append(m.Messages, n.anchor)
	}
	out := make([]mark, len(marks))
	for i, m := range marks {
		out[i] = *m
	}
	return out
}

// markKind names what a message is on the timeline, and how to label it.
func markKind(n *node, calls map[string]*store.ToolCall) (kind, label string) {
	m := n.m
	switch {
	case m.IsAPIError || m.Subtype == "api_error":
		return "error", "API error"
	case m.Subtype == "compact_boundary":
		return "compact", "conversation compacted"
	}
	for _, id := range n.results {
		if c := calls[id]; c != nil && c.Result != nil && c.Result.IsError {
			return "error", "failed " + c.Name
		}
	}
	if len(n.calls) > 0 {
		if c := calls[n.calls[0]]; c != nil {
			return "tool", c.Name
		}
		return "tool", "tool call"
	}
	if len(n.results) > 0 {
		if c := calls[n.results[0]]; c != nil {
			return "tool", c.Name + " result"
		}
	}
	switch {
	case m.IsPrompt:
		return "prompt", "prompt"
	case m.Type == "assistant":
		return "assistant", "assistant"
	}
	return "user", m.Type
}
