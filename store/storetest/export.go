package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

var exportTests = []struct {
	name string
	fn   func(t *testing.T, db store.Driver)
}{
	{"ExportDays", testExportDays},
	{"ExportDayRows", testExportDayRows},
}

// collected is what ExportDay passed to its sink, one line per row.
type collected struct {
	rows   []string
	owners map[store.Owner]int
}

func (c *collected) add(o store.Owner, kind, row string) error {
	c.rows = append(c.rows, kind+" "+row)
	if c.owners == nil {
		c.owners = map[store.Owner]int{}
	}
	c.owners[o]++
	return nil
}

func (c *collected) Session(o store.Owner, s store.Session) error {
	return c.add(o, "session", fmt.Sprintf("%s msgs=%d out=%d calls=%d", s.ID, s.Messages, s.Output, s.ToolCalls))
}
func (c *collected) Message(o store.Owner, m store.Message) error {
	return c.add(o, "message", fmt.Sprintf("%s %s %s %q", m.UUID, m.SessionID, m.Timestamp.Format(time.RFC3339), m.Text))
}
func (c *collected) ToolCall(o store.Owner, tc store.ToolCall) error {
	res := "pending"
	if tc.Result != nil {
		res = fmt.Sprintf("%q error=%v at %s", tc.Result.Text, tc.Result.IsError, tc.Result.At.Format(time.RFC3339))
	}
	var input bytes.Buffer
	if err := json.Compact(&input, tc.Input); err != nil {
		return err
	}
	return c.add(o, "call", fmt.Sprintf("%s %s %s %s", tc.ID, tc.Name, input.String(), res))
}
func (c *collected) FileChange(o store.Owner, f store.FileChange) error {
	return c.add(o, "change", fmt.Sprintf("%s %s +%d -%d", f.ToolUseID, f.Path, f.Added, f.Removed))
}
func (c *collected) Usage(o store.Owner, u store.Usage) error {
	return c.add(o, "reply", fmt.Sprintf("%s %s out=%d cost=%g priced=%v", u.Key, u.SessionID, u.Output, u.Cost, u.Priced))
}

func exportDay(t *testing.T, db store.Driver, d time.Time) (int64, *collected) {
	t.Helper()
	var c collected
	v, err := db.ExportDay(context.Background(), d, &c)
	if err != nil {
		t.Fatalf("ExportDay %s: %v", d.Format(time.DateOnly), err)
	}
	return v, &c
}

func exportDays(t *testing.T, db store.Driver, since, until time.Time) map[string]int64 {
	t.Helper()
	ds, err := db.ExportDays(context.Background(), since, until)
	if err != nil {
		t.Fatalf("ExportDays: %v", err)
	}
	m := map[string]int64{}
	var prev time.Time
	for _, d := range ds {
		if d.Day != store.UTCDay(d.Day) || d.Day.Location() != time.UTC {
			t.Errorf("day %v is not the start of a UTC day", d.Day)
		}
		if !prev.IsZero() && !d.Day.After(prev) {
			t.Errorf("days out of order: %v after %v", d.Day, prev)
		}
		prev = d.Day
		m[d.Day.Format(time.DateOnly)] = d.Version
	}
	return m
}

func keys(m map[string]int64) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

// Days are listed with versions that grow with every write that changes
// them, and only those.
func testExportDays(t *testing.T, db store.Driver) {
	ctx := context.Background()
	if got := exportDays(t, db, time.Time{}, time.Time{}); len(got) != 0 {
		t.Fatalf("days of an empty database: %v", got)
	}
	if v, c := exportDay(t, db, day); v != 0 || len(c.rows) != 0 {
		t.Fatalf("empty day: version %d, rows %v", v, c.rows)
	}
	// s1 runs from 23:00 on the 10th to 01:00 on the 12th; s2 only on the 13th.
	late, next := at(23, 0), day.AddDate(0, 0, 2).Add(time.Hour)
	apply(t, db, &store.Batch{
		Sessions: []store.Session{session("s1", late, next)},
		Messages: []store.Message{{UUID: "a", SessionID: "s1", Seq: 1, Type: "user", Role: "user", Timestamp: late, Text: "hi"}},
		Usage:    []store.Usage{reply("r1", "s1", late, 10)},
	})
	got := exportDays(t, db, time.Time{}, time.Time{})
	if keys(got) != "2026-02-10 2026-02-11 2026-02-12" {
		t.Fatalf("days after the first write: %v", got)
	}
	v10 := got["2026-02-10"]
	if v10 <= 0 || got["2026-02-11"] != v10 || got["2026-02-12"] != v10 {
		t.Errorf("one write gave versions %v", got)
	}
	d13 := day.AddDate(0, 0, 3).Add(5 * time.Hour)
	apply(t, db, &store.Batch{File: store.FileState{Path: "/claude/projects/p/s2.jsonl"},
		Sessions: []store.Session{session("s2", d13, d13)},
		Usage:    []store.Usage{reply("r2", "s2", d13, 5)},
	})
	after := exportDays(t, db, time.Time{}, time.Time{})
	if after["2026-02-10"] != v10 || after["2026-02-12"] != v10 {
		t.Errorf("a write to the 13th changed other days: %v, before %v", after, got)
	}
	if after["2026-02-13"] <= v10 {
		t.Errorf("the 13th's version %d is not above %d", after["2026-02-13"], v10)
	}
	// A reply of s1 on the 11th changes s1's totals: every day s1 spans.
	apply(t, db, &store.Batch{Usage: []store.Usage{reply("r3", "s1", day.AddDate(0, 0, 1), 7)}})
	third := exportDays(t, db, time.Time{}, time.Time{})
	for _, d := range []string{"2026-02-10", "2026-02-11", "2026-02-12"} {
		if third[d] <= after["2026-02-13"] {
			t.Errorf("%s: version %d after a write to s1, want above %d", d, third[d], after["2026-02-13"])
		}
	}
	if third["2026-02-13"] != after["2026-02-13"] {
		t.Errorf("the 13th changed with s1: %d, was %d", third["2026-02-13"], after["2026-02-13"])
	}
	if r := exportDays(t, db, day.AddDate(0, 0, 1).Add(13*time.Hour), day.AddDate(0, 0, 2)); keys(r) != "2026-02-11 2026-02-12" {
		t.Errorf("days from the 11th (at 13:00) to the 12th: %v", r)
	}
	if r := exportDays(t, db, day.AddDate(0, 0, 3), time.Time{}); keys(r) != "2026-02-13" {
		t.Errorf("days from the 13th: %v", r)
	}
	// New prices change every cost: every day.
	if _, err := db.Reprice(ctx, "export-test", func(string, store.Tokens) (float64, bool) { return 1, true }); err != nil {
		t.Fatal(err)
	}
	for d, v := range exportDays(t, db, time.Time{}, time.Time{}) {
		if v <= third["2026-02-10"] {
			t.Errorf("%s: version %d after repricing, want above %d", d, v, third["2026-02-10"])
		}
	}
	// Writing the same again changes nothing, but may mark the days: never lowers them.
	before := exportDays(t, db, time.Time{}, time.Time{})
	apply(t, db, &store.Batch{Usage: []store.Usage{reply("r3", "s1", day.AddDate(0, 0, 1), 7)}})
	for d, v := range exportDays(t, db, time.Time{}, time.Time{}) {
		if v < before[d] {
			t.Errorf("%s: version went down from %d to %d", d, before[d], v)
		}
	}
}

// A day's rows are those of that UTC day, each table by its own time, and
// sessions by when they started; the version is the listed one.
func testExportDayRows(t *testing.T, db store.Driver) {
	late, next := at(23, 30), day.AddDate(0, 0, 1).Add(20*time.Minute)
	apply(t, db, &store.Batch{
		Sessions: []store.Session{session("s1", late, next)},
		Messages: []store.Message{
			{UUID: "a", SessionID: "s1", Seq: 1, Type: "user", Role: "user", Timestamp: late, Text: "before midnight"},
			{UUID: "b", SessionID: "s1", Seq: 2, Type: "assistant", Role: "assistant", Timestamp: late.Add(time.Minute), Text: "ok"},
			{UUID: "c", SessionID: "s1", Seq: 3, Type: "user", Role: "user", Timestamp: next, Text: "after midnight"},
		},
		Usage:       []store.Usage{reply("r1", "s1", late.Add(time.Minute), 10), reply("r2", "s1", next, 20)},
		ToolUses:    []store.ToolUse{use("t1", "s1", late.Add(time.Minute), "Edit", `{"file_path":"/x.go"}`)},
		ToolResults: []store.ToolResult{result("t1", "s1", next, "done")},
		FileChanges: []store.FileChange{{ToolUseID: "t1", SessionID: "s1", Path: "/x.go", Operation: store.OpEdit, Added: 3, Removed: 1, At: late.Add(time.Minute)}},
	})
	days := exportDays(t, db, time.Time{}, time.Time{})
	v, c := exportDay(t, db, day.Add(15*time.Hour)) // any time of the day
	if v != days["2026-02-10"] || v == 0 {
		t.Errorf("version %d, listed %d", v, days["2026-02-10"])
	}
	want := []string{
		"session s1 msgs=3 out=30 calls=1",
		`message a s1 2026-02-10T23:30:00Z "before midnight"`,
		`message b s1 2026-02-10T23:31:00Z "ok"`,
		`call t1 Edit {"file_path":"/x.go"} "done" error=false at 2026-02-11T00:20:00Z`,
		"change t1 /x.go +3 -1",
		"reply r1 s1 out=10 cost=0.01 priced=true",
	}
	if strings.Join(c.rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("the 10th:\n%s\nwant\n%s", strings.Join(c.rows, "\n"), strings.Join(want, "\n"))
	}
	if len(c.owners) != 1 || c.owners[store.Owner{Share: store.ShareFull}] != len(want) {
		t.Errorf("owners %v, want every row no one's, shared in full", c.owners)
	}
	_, c = exportDay(t, db, day.AddDate(0, 0, 1))
	want = []string{
		`message c s1 2026-02-11T00:20:00Z "after midnight"`,
		"reply r2 s1 out=20 cost=0.02 priced=true",
	}
	if strings.Join(c.rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("the 11th:\n%s\nwant\n%s", strings.Join(c.rows, "\n"), strings.Join(want, "\n"))
	}
	// A sink's error stops the reading and comes back.
	if _, err := db.ExportDay(context.Background(), day, &failing{}); err == nil || !strings.Contains(err.Error(), "sink full") {
		t.Errorf("ExportDay with a failing sink: %v", err)
	}
}

type failing struct{ collected }

func (*failing) Message(store.Owner, store.Message) error { return fmt.Errorf("sink full") }
