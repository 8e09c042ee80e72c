package ingest

import (
	"strconv"

	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/store"
)

// batch turns parsed records of one file into the rows of a store.Batch.
type batch struct {
	prices   *pricing.Table
	fallback string // session id for records that carry none: the file's name
	sessions map[string]*store.Session
	order    []string
	messages []store.Message
	usage    []store.Usage
	skipped  []store.Skipped
}

func newBatch(prices *pricing.Table, fallbackSession string) *batch {
	return &batch{prices: prices, fallback: fallbackSession, sessions: map[string]*store.Session{}}
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
				UUID:             r.UUID,
				SessionID:        sid,
				Seq:              lineNo,
				ParentUUID:       r.ParentUUID,
				Type:             r.Type,
				Role:             r.Role,
				Timestamp:        r.Timestamp,
				Text:             r.Text,
				Model:            r.Model,
				AgentID:          r.AgentID,
				IsSidechain:      r.IsSidechain,
				IsMeta:           r.IsMeta,
				IsCompactSummary: r.IsCompactSummary,
				IsAPIError:       r.IsAPIError,
			})
		}
		b.addUsage(r, sid, path, lineNo)
	case TypeProgress:
		if r.Nested != nil {
			b.session(sid, r)
			b.addUsage(r.Nested, sid, path, lineNo)
		}
	}
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
		Model:     model,
		Timestamp: r.Timestamp,
		Tokens:    tok,
		Cost:      cost,
		Priced:    priced,
	})
}

func (b *batch) build() *store.Batch {
	sb := &store.Batch{Messages: b.messages, Usage: b.usage, Skipped: b.skipped}
	for _, id := range b.order {
		sb.Sessions = append(sb.Sessions, *b.sessions[id])
	}
	return sb
}
