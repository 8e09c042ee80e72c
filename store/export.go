package store

import (
	"context"
	"sort"
	"time"
)

// Exports is what a snapshot of the database reads: the UTC days that hold
// rows, how far each has changed, and a day's rows table by table. Both
// drivers implement it.
type Exports interface {
	// ExportDays lists the UTC days holding rows from since to until, both
	// inclusive (zero: unbounded), oldest first.
	ExportDays(ctx context.Context, since, until time.Time) ([]ExportDay, error)
	// ExportDay reads the rows of one UTC day, all from one consistent view
	// of the database, passing them to sink table by table: sessions that
	// started that day, then the day's messages, tool calls (by the time
	// they were made), file changes and replies. It returns the day's
	// version in that view (0 when the day holds nothing).
	ExportDay(ctx context.Context, day time.Time, sink ExportSink) (version int64, err error)
}

// ExportDay is a UTC day holding rows. Version grows with every write that
// changes any of them (or the sessions they belong to): a snapshot of the
// day taken at a smaller version is out of date.
type ExportDay struct {
	Day     time.Time
	Version int64
}

// Owner is whom an exported row belongs to: a team member, or no one (User
// empty) for a solo database or sessions imported on the server itself, which
// count as shared in full.
type Owner struct {
	User  string
	Share ShareLevel
}

// ExportSink receives the rows of a day; an error stops the reading.
type ExportSink interface {
	Session(Owner, Session) error
	Message(Owner, Message) error
	ToolCall(Owner, ToolCall) error
	FileChange(Owner, FileChange) error
	Usage(Owner, Usage) error
}

// UTCDay is the start of the UTC day holding t.
func UTCDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// DayNumber is the UTC day holding t, counted from the Unix epoch.
func DayNumber(t time.Time) int64 {
	ms := t.UnixMilli()
	if ms < 0 {
		return (ms+1)/86400000 - 1
	}
	return ms / 86400000
}

// DayOf is the start of a UTC day counted from the Unix epoch.
func DayOf(n int64) time.Time { return time.UnixMilli(n * 86400000).UTC() }

// BatchDays lists the UTC days (as DayNumber) of the rows batches carry:
// messages, replies, tool calls and results, file changes. Drivers add the
// days of the sessions the batches touch, and mark them all changed.
func BatchDays(batches []*Batch) []int64 {
	set := map[int64]bool{}
	add := func(t time.Time) {
		if !t.IsZero() {
			set[DayNumber(t)] = true
		}
	}
	for _, b := range batches {
		for _, m := range b.Messages {
			add(m.Timestamp)
		}
		for _, u := range b.Usage {
			add(u.Timestamp)
		}
		for _, u := range b.ToolUses {
			add(u.At)
		}
		for _, r := range b.ToolResults {
			add(r.At)
		}
		for _, f := range b.FileChanges {
			add(f.At)
		}
	}
	return SpanDays(set, nil)
}

// SpanDays adds to set every day from the first to the last of each span
// (a pair of times; a zero time makes no span), and returns the set sorted.
func SpanDays(set map[int64]bool, spans [][2]time.Time) []int64 {
	for _, s := range spans {
		if s[0].IsZero() || s[1].IsZero() {
			continue
		}
		for d, last := DayNumber(s[0]), DayNumber(s[1]); d <= last; d++ {
			set[d] = true
		}
	}
	days := make([]int64, 0, len(set))
	for d := range set {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	return days
}
