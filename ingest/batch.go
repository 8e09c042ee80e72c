package ingest

import (
	"cmp"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/store"
)

// batch turns parsed records of one file into the rows of a store.Batch.
type batch struct {
	prices   *pricing.Table
	fallback string // session id for records that carry none: the file's name
	// removing holds, by call id, the files that Bash calls of the file
	// being read delete, until their results say whether they did.
	removing map[string][]string
	sessions map[string]*store.Session
	order    []string
	messages []store.Message
	usage    []store.Usage
	skipped  []store.Skipped
	uses     []store.ToolUse
	results  []store.ToolResult
	changes  []store.FileChange
	agents   map[[2]string]store.Subagent
	summary  []store.Summary
	commits  []store.Commit
	tags     map[store.Tag]bool
	prompts  []store.Prompt
	todos    []store.TodoList
	plans    []store.Plan
}

func newBatch(prices *pricing.Table, fallbackSession string, removing map[string][]string) *batch {
	return &batch{prices: prices, fallback: fallbackSession, removing: removing, sessions: map[string]*store.Session{},
		agents: map[[2]string]store.Subagent{}, tags: map[store.Tag]bool{}}
}

func (b *batch) add(r *Record, path string, lineNo int64) {
	sid := r.SessionID
	if sid == "" {
		sid = b.fallback
	}
	switch r.Type {
	case TypeUser, TypeAssistant, TypeSystem:
		b.session(sid, r)
		if r.UUID != "" {
			b.messages = append(b.messages, store.Message{
				UUID:              r.UUID,
				SessionID:         sid,
				Seq:               lineNo,
				ParentUUID:        r.ParentUUID,
				Type:              r.Type,
				Role:              r.Role,
				Timestamp:         r.Timestamp,
				Text:              r.Text,
				Model:             r.Model,
				AgentID:           r.AgentID,
				IsSidechain:       r.IsSidechain,
				IsMeta:            r.IsMeta,
				IsCompactSummary:  r.IsCompactSummary,
				IsAPIError:        r.IsAPIError,
				IsPrompt:          r.IsPrompt,
				MessageID:         r.MessageID,
				Subtype:           r.Subtype,
				LogicalParentUUID: r.LogicalParentUUID,
				CompactTrigger:    r.CompactTrigger,
				CompactPreTokens:  r.CompactPreTokens,
				Content:           r.Content,
				Search:            searchText(r),
			})
		}
		b.addTools(r, sid, lineNo)
		b.addUsage(r, sid, path, lineNo)
		for _, t := range Tags(r) {
			b.tags[store.Tag{SessionID: sid, Tag: t}] = true
		}
		if r.AgentID != "" && filepath.Base(path) == "agent-"+r.AgentID+".jsonl" {
			b.agent(store.Subagent{SessionID: sid, AgentID: r.AgentID, Path: path})
		}
	case TypeProgress:
		if r.Nested != nil {
			b.session(sid, r)
			b.addUsage(r.Nested, sid, path, lineNo)
			if r.Nested.AgentID != "" && r.ParentToolUseID != "" {
				b.agent(store.Subagent{SessionID: sid, AgentID: r.Nested.AgentID, ToolUseID: r.ParentToolUseID})
			}
		}
	case TypeSummary:
		if r.LeafUUID != "" && r.Summary != "" {
			b.summary = append(b.summary, store.Summary{LeafUUID: r.LeafUUID, Text: r.Summary})
		}
	}
}

// addTools records the tool calls and results of a record, the files its
// result says were changed, and the subagent a Task/Agent result names.
func (b *batch) addTools(r *Record, sid string, lineNo int64) {
	for _, u := range r.ToolUses {
		if u.Name == "Bash" {
			if paths := removals(u.Command, r.CWD); len(paths) > 0 {
				b.removing[u.ID] = paths
			}
		}
		b.uses = append(b.uses, store.ToolUse{ID: u.ID, SessionID: sid, MessageUUID: r.UUID, MessageID: r.MessageID,
			AgentID: r.AgentID, Seq: lineNo, Name: u.Name, Input: u.Input, At: r.Timestamp})
	}
	// The structured result belongs to the record; Claude Code writes one
	// tool result per record, and a record with several keeps it for none.
	var structured json.RawMessage
	var facts *toolUseResult
	if len(r.ToolResults) == 1 {
		structured = r.ToolUseResult
		facts = parseToolUseResult(structured)
	}
	for _, t := range r.ToolResults {
		res := store.ToolResult{ToolUseID: t.ToolUseID, SessionID: sid, MessageUUID: r.UUID, Text: t.Text,
			Structured: structured, IsError: t.IsError, At: r.Timestamp,
			Interrupted: strings.HasPrefix(t.Text, interruptedPrefix) || (facts != nil && facts.Interrupted)}
		b.results = append(b.results, res)
		if paths, ok := b.removing[t.ToolUseID]; ok {
			delete(b.removing, t.ToolUseID)
			for _, p := range paths {
				if t.IsError || res.Interrupted {
					break
				}
				b.changes = append(b.changes, store.FileChange{ToolUseID: t.ToolUseID, SessionID: sid, Path: p,
					Operation: store.OpDelete, At: r.Timestamp})
			}
		}
		if facts == nil {
			continue
		}
		if fc := facts.fileChange(); fc != nil && !t.IsError {
			fc.ToolUseID, fc.SessionID, fc.At = t.ToolUseID, sid, r.Timestamp
			b.changes = append(b.changes, *fc)
		}
		if facts.AgentID != "" {
			b.agent(store.Subagent{SessionID: sid, AgentID: facts.AgentID, ToolUseID: t.ToolUseID})
		}
		for _, c := range commits(facts.Stdout) {
			c.ToolUseID, c.SessionID, c.At = t.ToolUseID, sid, r.Timestamp
			b.commits = append(b.commits, c)
		}
	}
}

// agent merges what a record says about a subagent into the batch.
func (b *batch) agent(a store.Subagent) {
	k := [2]string{a.SessionID, a.AgentID}
	prev := b.agents[k]
	if a.ToolUseID == "" {
		a.ToolUseID = prev.ToolUseID
	}
	if a.Path == "" {
		a.Path = prev.Path
	}
	b.agents[k] = a
}

// searchText is what full-text search indexes for a record: its text, the
// names and input values of its tool calls, and its tool results.
func searchText(r *Record) string {
	if len(r.ToolUses) == 0 && len(r.ToolResults) == 0 {
		return r.Text
	}
	var sb strings.Builder
	sb.WriteString(r.Text)
	for _, u := range r.ToolUses {
		appendLine(&sb, u.Name)
		appendLine(&sb, u.InputText)
	}
	for _, t := range r.ToolResults {
		appendLine(&sb, t.Text)
	}
	return sb.String()
}

// session records what r says about its session: place, branch, version and
// time span.
func (b *batch) session(id string, r *Record) {
	s, ok := b.sessions[id]
	if !ok {
		s = &store.Session{ID: id}
		b.sessions[id] = s
		b.order = append(b.order, id)
	}
	if r.CWD != "" {
		s.Project = r.CWD
	}
	if r.GitBranch != "" {
		s.GitBranch = r.GitBranch
	}
	if r.Version != "" {
		s.Version = r.Version
	}
	if r.Slug != "" {
		s.Slug = r.Slug
	}
	if ts := r.Timestamp; !ts.IsZero() {
		if s.FirstAt.IsZero() || ts.Before(s.FirstAt) {
			s.FirstAt = ts
		}
		if ts.After(s.LastAt) {
			s.LastAt = ts
		}
	}
}

// addUsage adds the billed usage of an assistant line. A reply is keyed by
// (message id, request id); a line lacking either counts on its own. A line
// without a timestamp cannot be dated and is left out.
func (b *batch) addUsage(r *Record, sid, path string, lineNo int64) {
	if !r.Billable() || r.Timestamp.IsZero() {
		return
	}
	var key string
	switch {
	case r.MessageID != "" && r.RequestID != "":
		key = r.MessageID + ":" + r.RequestID
	case r.UUID != "":
		key = "uuid:" + r.UUID
	default:
		key = "line:" + path + ":" + strconv.FormatInt(lineNo, 10)
	}
	model := r.Model
	if r.Usage.Speed == "fast" {
		model += "-fast"
	}
	tok := r.Usage.Tokens
	cost, priced := b.prices.Cost(model, tok)
	b.usage = append(b.usage, store.Usage{
		Key:       key,
		MessageID: r.MessageID,
		RequestID: r.RequestID,
		SessionID: sid,
		AgentID:   r.AgentID,
		Model:     model,
		Timestamp: r.Timestamp,
		Tokens:    tok,
		Cost:      cost,
		Priced:    priced,
	})
}

func (b *batch) build() *store.Batch {
	sb := &store.Batch{Messages: b.messages, Usage: b.usage, Skipped: b.skipped, ToolUses: b.uses,
		ToolResults: b.results, FileChanges: b.changes, Summaries: b.summary, Commits: b.commits,
		Prompts: b.prompts, TodoLists: b.todos, Plans: b.plans}
	for _, id := range b.order {
		sb.Sessions = append(sb.Sessions, *b.sessions[id])
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.agents), func(x, y [2]string) int {
		return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1]))
	}) {
		sb.Subagents = append(sb.Subagents, b.agents[k])
	}
	sb.Tags = slices.SortedFunc(maps.Keys(b.tags), func(x, y store.Tag) int {
		return cmp.Or(cmp.Compare(x.SessionID, y.SessionID), cmp.Compare(x.Tag, y.Tag))
	})
	return sb
}
