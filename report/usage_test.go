package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

func daySum(day, model string, out int64, cost float64) store.UsageSum {
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		panic(err)
	}
	return store.UsageSum{Day: d, LastAt: d.Add(time.Hour), Model: model, Tokens: store.Tokens{Output: out, Input: 1}, Cost: cost, Replies: 1}
}

func sessionSum(session, last, model string, out int64, cost float64) store.UsageSum {
	t, err := time.Parse(time.RFC3339, last)
	if err != nil {
		panic(err)
	}
	return store.UsageSum{SessionID: session, Project: "/src/" + session, LastAt: t, Model: model,
		Tokens: store.Tokens{Output: out, Input: 1}, Cost: cost, Replies: 1}
}

func keys(r *Report) string {
	var ks []string
	for _, row := range r.Rows {
		ks = append(ks, row.Key)
	}
	return strings.Join(ks, " ")
}

func TestZoneShifts(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, berlin)
	to := time.Date(2027, 1, 1, 0, 0, 0, 0, berlin)
	got := ZoneShifts(berlin, from, to)
	want := []store.ZoneShift{
		{Offset: time.Hour},
		{From: time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), Offset: 2 * time.Hour},
		{From: time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), Offset: time.Hour},
	}
	if len(got) != len(want) {
		t.Fatalf("shifts = %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].From.Equal(want[i].From) || got[i].Offset != want[i].Offset {
			t.Errorf("shift %d = %v, want %v", i, got[i], want[i])
		}
	}
	if got := ZoneShifts(time.UTC, time.Time{}, time.Time{}); len(got) != 1 || got[0].Offset != 0 {
		t.Errorf("UTC shifts = %v", got)
	}
}

func TestBuildPeriods(t *testing.T) {
	sums := []store.UsageSum{
		daySum("2026-02-15", "claude-opus-4-6", 1, 1),    // Sunday
		daySum("2026-02-16", "claude-haiku-4-5", 2, 0.5), // Monday
		daySum("2026-03-01", "claude-mystery-9", 4, 0),   // unpriced
	}
	sums[2].Unpriced = 1
	for _, tc := range []struct {
		p    Period
		want string
	}{
		{Daily, "2026-02-15 2026-02-16 2026-03-01"},
		{Weekly, "2026-02-09 2026-02-16 2026-02-23"},
		{Monthly, "2026-02 2026-03"},
	} {
		r := Build(sums, tc.p)
		if got := keys(r); got != tc.want {
			t.Errorf("%s: keys %q, want %q", tc.p, got, tc.want)
		}
		if r.Totals.Output != 7 || r.Totals.Cost != 1.5 {
			t.Errorf("%s: totals %+v cost %v", tc.p, r.Totals.Tokens, r.Totals.Cost)
		}
		if len(r.Unpriced) != 1 || r.Unpriced[0] != "claude-mystery-9" {
			t.Errorf("%s: unpriced %v", tc.p, r.Unpriced)
		}
	}
}

func TestBuildSessions(t *testing.T) {
	r := Build([]store.UsageSum{
		sessionSum("s1", "2026-02-16T12:00:00Z", "claude-haiku-4-5", 2, 0.5),
		sessionSum("s2", "2026-02-15T12:00:00Z", "claude-opus-4-6", 1, 1),
		sessionSum("s1", "2026-02-16T13:00:00Z", "claude-opus-4-6", 4, 2),
	}, Session)
	if got := keys(r); got != "s2 s1" {
		t.Errorf("sessions %q, want by last activity", got)
	}
	s1 := r.Rows[1]
	if s1.Project != "/src/s1" || len(s1.Models) != 2 || s1.Models[0].Model != "claude-opus-4-6" || s1.Output != 6 ||
		!s1.LastAt.Equal(time.Date(2026, 2, 16, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("session row = %+v", s1)
	}
}

func TestWriteJSONShape(t *testing.T) {
	sums := []store.UsageSum{
		daySum("2026-02-10", "claude-opus-4-6", 5, 1.25),
		daySum("2026-02-10", "claude-haiku-4-5", 3, 0.25),
	}
	sums[0].CacheWrite5m, sums[0].CacheWrite1h, sums[0].CacheRead = 10, 20, 40
	for _, tc := range []struct {
		p       Period
		oldName string
	}{{Daily, "date"}, {Weekly, "week"}, {Monthly, "month"}, {Session, "sessionId"}} {
		in := sums
		if tc.p == Session {
			in = []store.UsageSum{sums[0], sums[1]}
			in[0].SessionID, in[1].SessionID = "s1", "s1"
		}
		var buf bytes.Buffer
		if err := Build(in, tc.p).WriteJSON(&buf, time.UTC); err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		rows, ok := out[string(tc.p)].([]any)
		if !ok || len(rows) != 1 {
			t.Fatalf("%s: rows = %v", tc.p, out[string(tc.p)])
		}
		row := rows[0].(map[string]any)
		if row["period"] != row[tc.oldName] || row["period"] == nil || row["period"] == "" {
			t.Errorf("%s: period %v, %s %v", tc.p, row["period"], tc.oldName, row[tc.oldName])
		}
		for k, want := range map[string]float64{"inputTokens": 2, "outputTokens": 8, "cacheCreationTokens": 30,
			"cacheReadTokens": 40, "totalTokens": 80, "totalCost": 1.5} {
			if row[k] != want {
				t.Errorf("%s: %s = %v, want %v", tc.p, k, row[k], want)
			}
		}
		bd := row["modelBreakdowns"].([]any)
		if first := bd[0].(map[string]any); len(bd) != 2 || first["modelName"] != "claude-opus-4-6" || first["cost"] != 1.25 {
			t.Errorf("%s: breakdowns = %v", tc.p, bd)
		}
		if used := row["modelsUsed"].([]any); len(used) != 2 {
			t.Errorf("%s: modelsUsed = %v", tc.p, used)
		}
		if tot := out["totals"].(map[string]any); tot["totalTokens"] != 80.0 {
			t.Errorf("%s: totals = %v", tc.p, tot)
		}
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := Build(nil, Daily).WriteTable(&buf, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "No usage found") {
		t.Errorf("empty table = %q", buf.String())
	}
	buf.Reset()
	sums := []store.UsageSum{daySum("2026-02-10", "claude-mystery-9", 1234567, 0)}
	sums[0].Unpriced = 1
	if err := Build(sums, Daily).WriteTable(&buf, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2026-02-10", "1,234,567", "$0.00*", "  mystery-9", "no price known for claude-mystery-9"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, s := range []string{"2026-02-10", "20260210"} {
		d, err := ParseDate(s, time.UTC)
		if err != nil || !d.Equal(time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("ParseDate(%q) = %v, %v", s, d, err)
		}
	}
	for _, s := range []string{"2026-2-10", "10/02/2026", "2026-02-30", ""} {
		if _, err := ParseDate(s, time.UTC); err == nil {
			t.Errorf("ParseDate(%q) succeeded", s)
		}
	}
}
