package store

import (
	"fmt"
	"time"
)

// Orders a session list can be sorted in.
const (
	SortStart    = "start" // the first message's time
	SortDuration = "duration"
	SortMessages = "messages"
	SortTools    = "tools"
	SortTokens   = "tokens"
	SortCost     = "cost"
	SortProject  = "project"
)

// SessionSorts lists every order a session list can be sorted in.
var SessionSorts = []string{SortStart, SortDuration, SortMessages, SortTools, SortTokens, SortCost, SortProject}

// SessionQuery selects a page of sessions and says how to order them.
type SessionQuery struct {
	// Project matches a session's working directory exactly or by its last
	// path elements, as in UsageQuery.
	Project string
	// UserID selects the sessions of one team member (0: every session).
	UserID int64
	// Since (inclusive) and Until (exclusive) select sessions active in the
	// span: their last message is at or after Since and their first before
	// Until. Zero means unbounded.
	Since, Until time.Time
	// Model selects sessions with at least one reply of this model.
	Model string
	// Tag selects sessions carrying this tag.
	Tag string
	// HasErrors selects sessions with a failed tool call or an API error.
	HasErrors bool
	// Text selects sessions whose title, project or branch contain it, or
	// whose id starts with it, ignoring ASCII case.
	Text string
	// Sort is one of SessionSorts; empty is SortStart. Desc reverses it.
	Sort string
	Desc bool
	// Limit (default 50, at most 500) and Offset page through the list.
	Limit, Offset int
}

// Page returns the limit and offset with defaults applied.
func (q SessionQuery) Page() (limit, offset int) {
	limit = q.Limit
	if limit <= 0 {
		limit = 50
	}
	return min(limit, 500), max(q.Offset, 0)
}

// Validate reports a sort order that does not exist.
func (q SessionQuery) Validate() error {
	if q.Sort == "" {
		return nil
	}
	for _, s := range SessionSorts {
		if q.Sort == s {
			return nil
		}
	}
	return fmt.Errorf("sort %q: want one of %v", q.Sort, SessionSorts)
}

// SessionList is a page of sessions with the number of all that match.
type SessionList struct {
	Sessions []ListedSession
	Total    int64
}

// ListedSession is a session as a list shows it: with its tags and the
// models that replied in it.
type ListedSession struct {
	Session
	Tags   []string
	Models []string
}

// Facets are the values a session list can be filtered by, each with the
// number of sessions having it, most sessions first.
type Facets struct {
	Projects []Facet
	Models   []Facet
	Tags     []Facet
}

// Facet is one value of a filter and the number of sessions having it.
type Facet struct {
	Value    string
	Sessions int64
}

// Totals are the counts of every session summed, with the tools called most.
type Totals struct {
	Sessions, Messages, ToolCalls, ToolErrors, Subagents int64
	// FirstAt is the start of the oldest session, LastAt the end of the
	// newest; zero without sessions.
	FirstAt, LastAt time.Time
	Tools           []ToolCount
}

// ToolCount is how often a tool was called and how many of its calls failed.
type ToolCount struct {
	Name          string
	Calls, Errors int64
}
