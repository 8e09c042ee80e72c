// Package report builds token and cost reports from stored usage: per day,
// week, month or session, in a time zone, with a per-model breakdown.
package report

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/claude-insights/insights/store"
)

// Period is how usage rows are grouped.
type Period string

// The periods a usage report can group by.
const (
	Daily   Period = "daily"
	Weekly  Period = "weekly"
	Monthly Period = "monthly"
	Session Period = "session"
)

// ParsePeriod checks a period name.
func ParsePeriod(s string) (Period, error) {
	switch p := Period(s); p {
	case Daily, Weekly, Monthly, Session:
		return p, nil
	}
	return "", fmt.Errorf("unknown report %q: want daily, weekly, monthly or session", s)
}

// Options select and group the usage of a report.
type Options struct {
	Period Period
	// Since and Until are calendar days in Location, both inclusive; zero
	// means unbounded.
	Since, Until time.Time
	Location     *time.Location
	Project      string
	// UserID selects one team member's sessions (0: every session).
	UserID int64
	// SpentBy attributes each session's usage to the main thread,
	// subagents, skills and MCP servers (session reports only; see SpentBy).
	SpentBy bool
}

// ParseDate reads YYYY-MM-DD or YYYYMMDD as a day in loc.
func ParseDate(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", "20060102"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD or YYYYMMDD", s)
}

// ModelUsage is the usage of one model within a row.
type ModelUsage struct {
	Model string
	store.Tokens
	Cost   float64
	Priced bool // false when any reply of the model had no price
}

// Row is the usage of one period or session.
type Row struct {
	Key string // the period ("2026-02-10", "2026-02-09" for the week starting that Monday, "2026-02") or session id
	// Project and LastAt are set on session rows.
	Project string
	LastAt  time.Time
	store.Tokens
	Cost   float64
	Models []ModelUsage // by cost, highest first
	// SpentBy is who spent the row's usage, when asked for (session rows).
	SpentBy []Share
}

// Report is a usage report.
type Report struct {
	Period Period
	Rows   []Row
	Totals Row
	// Unpriced lists the models that had no price; their cost is not included.
	Unpriced []string
}

// Usage reads usage sums from db and groups them into a report.
func Usage(ctx context.Context, db store.Driver, opt Options) (*Report, error) {
	q := query(opt)
	sums, err := db.UsageSums(ctx, q)
	if err != nil {
		return nil, err
	}
	r := Build(sums, opt.Period)
	if opt.SpentBy && opt.Period == Session {
		for i := range r.Rows {
			if r.Rows[i].SpentBy, err = SpentBy(ctx, db, r.Rows[i].Key, q.Since, q.Until); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func dayStart(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// historyStart is where zone shifts start when a report has no lower bound:
// no transcript is older.
var historyStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// ZoneShifts lists the offsets of loc between from and to (zero: from the
// start of history, to two days from now).
func ZoneShifts(loc *time.Location, from, to time.Time) []store.ZoneShift {
	if from.IsZero() {
		from = historyStart
	}
	if to.IsZero() {
		to = time.Now().Add(48 * time.Hour)
	}
	t := from.In(loc)
	_, off := t.Zone()
	shifts := []store.ZoneShift{{Offset: time.Duration(off) * time.Second}}
	for {
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			return shifts
		}
		t = end.In(loc)
		_, off = t.Zone()
		shifts = append(shifts, store.ZoneShift{From: end.UTC(), Offset: time.Duration(off) * time.Second})
	}
}

// Build groups usage sums into the rows of a report.
func Build(sums []store.UsageSum, p Period) *Report {
	type acc struct {
		row    Row
		models map[string]*ModelUsage
	}
	rows := map[string]*acc{}
	unpriced := map[string]bool{}
	for _, u := range sums {
		key := periodKey(p, u)
		a, ok := rows[key]
		if !ok {
			a = &acc{row: Row{Key: key, Project: u.Project}, models: map[string]*ModelUsage{}}
			rows[key] = a
		}
		a.row.Tokens.Add(u.Tokens)
		a.row.Cost += u.Cost
		if u.LastAt.After(a.row.LastAt) {
			a.row.LastAt = u.LastAt
		}
		m, ok := a.models[u.Model]
		if !ok {
			m = &ModelUsage{Model: u.Model, Priced: true}
			a.models[u.Model] = m
		}
		m.Tokens.Add(u.Tokens)
		m.Cost += u.Cost
		if u.Unpriced > 0 {
			m.Priced = false
			unpriced[u.Model] = true
		}
	}
	r := &Report{Period: p}
	for _, a := range rows {
		a.row.Cost = store.RoundCost(a.row.Cost)
		for _, m := range a.models {
			m.Cost = store.RoundCost(m.Cost)
			a.row.Models = append(a.row.Models, *m)
		}
		sort.Slice(a.row.Models, func(i, j int) bool {
			mi, mj := a.row.Models[i], a.row.Models[j]
			if mi.Cost != mj.Cost {
				return mi.Cost > mj.Cost
			}
			return mi.Model < mj.Model
		})
		r.Rows = append(r.Rows, a.row)
	}
	sort.Slice(r.Rows, func(i, j int) bool {
		if p == Session && !r.Rows[i].LastAt.Equal(r.Rows[j].LastAt) {
			return r.Rows[i].LastAt.Before(r.Rows[j].LastAt)
		}
		return r.Rows[i].Key < r.Rows[j].Key
	})
	// Summed in row order, so that the same sums give the same total.
	for _, row := range r.Rows {
		r.Totals.Tokens.Add(row.Tokens)
		r.Totals.Cost += row.Cost
	}
	r.Totals.Cost = store.RoundCost(r.Totals.Cost)
	for m := range unpriced {
		r.Unpriced = append(r.Unpriced, m)
	}
	sort.Strings(r.Unpriced)
	r.Totals.Key = "Total"
	return r
}

func periodKey(p Period, u store.UsageSum) string {
	switch p {
	case Session:
		return u.SessionID
	case Monthly:
		return u.Day.Format("2006-01")
	case Weekly:
		// Weeks start on Monday.
		offset := (int(u.Day.Weekday()) + 6) % 7
		return u.Day.AddDate(0, 0, -offset).Format("2006-01-02")
	default:
		return u.Day.Format("2006-01-02")
	}
}

// ModelNames lists the models of a row, sorted.
func (r Row) ModelNames() []string {
	names := make([]string, len(r.Models))
	for i, m := range r.Models {
		names[i] = m.Model
	}
	sort.Strings(names)
	return names
}

// ShortModel shortens a model id for tables: "claude-opus-4-6" becomes "opus-4-6".
func ShortModel(m string) string {
	return strings.TrimPrefix(m, "claude-")
}
