package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

func bucket(ts, session, model string, out int64, cost float64) store.UsageBucket {
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		panic(err)
	}
	return store.UsageBucket{Start: t, LastAt: t.Add(time.Minute), SessionID: session, Project: "/src/" + session, Model: model,
		Tokens: store.Tokens{Output: out, Input: 1}, Cost: cost, Replies: 1}
}

func keys(r *Report) string {
	var ks []string
	for _, row := range r.Rows {
		ks = append(ks, row.Key)
	}
	return strings.Join(ks, " ")
}

func TestBuildGroupsInTimeZone(t *testing.T) {
	bs := []store.UsageBucket{
		bucket("2026-02-10T23:30:00Z", "s1", "claude-opus-4-6", 1, 1),
		bucket("2026-02-11T00:15:00Z", "s1", "claude-opus-4-6", 2, 2),
	}
	for _, tc := range []struct {
		zone, want string
	}{
		{"UTC", "2026-02-10 2026-02-11"},
		{"Asia/Kolkata", "2026-02-11"},        // +05:30
		{"America/Los_Angeles", "2026-02-10"}, // -08:00
		{"Pacific/Chatham", "2026-02-11"},     // +13:45
	} {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(Build(bs, Options{Period: Daily, Location: loc})); got != tc.want {
			t.Errorf("%s: days %q, want %q", tc.zone, got, tc.want)
		}
	}
}

func TestBuildPeriods(t *testing.T) {
	bs := []store.UsageBucket{
		bucket("2026-02-15T12:00:00Z", "s2", "claude-opus-4-6", 1, 1),    // Sunday
		bucket("2026-02-16T12:00:00Z", "s1", "claude-haiku-4-5", 2, 0.5), // Monday
		bucket("2026-03-01T12:00:00Z", "s1", "claude-mystery-9", 4, 0),   // unpriced
	}
	bs[2].Unpriced = 1
	for _, tc := range []struct {
		p    Period
		want string
	}{
		{Weekly, "2026-02-09 2026-02-16 2026-02-23"},
		{Monthly, "2026-02 2026-03"},
		{Session, "s2 s1"}, // by last activity
	} {
		r := Build(bs, Options{Period: tc.p, Location: time.UTC})
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
	r := Build(bs, Options{Period: Session, Location: time.UTC})
	s1 := r.Rows[1]
	if s1.Project != "/src/s1" || len(s1.Models) != 2 || s1.Models[0].Model != "claude-haiku-4-5" || s1.Models[1].Priced {
		t.Errorf("session row = %+v", s1)
	}
}

func TestWriteJSONShape(t *testing.T) {
	bs := []store.UsageBucket{
		bucket("2026-02-10T10:00:00Z", "s1", "claude-opus-4-6", 5, 1.25),
		bucket("2026-02-10T11:00:00Z", "s1", "claude-haiku-4-5", 3, 0.25),
	}
	bs[0].CacheWrite5m, bs[0].CacheWrite1h, bs[0].CacheRead = 10, 20, 40
	for _, tc := range []struct {
		p       Period
		oldName string
	}{{Daily, "date"}, {Weekly, "week"}, {Monthly, "month"}, {Session, "sessionId"}} {
		var buf bytes.Buffer
		if err := Build(bs, Options{Period: tc.p, Location: time.UTC}).WriteJSON(&buf, time.UTC); err != nil {
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
		if row["period"] != row[tc.oldName] || row["period"] == nil {
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
	if err := Build(nil, Options{Period: Daily}).WriteTable(&buf, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "No usage found") {
		t.Errorf("empty table = %q", buf.String())
	}
	buf.Reset()
	bs := []store.UsageBucket{bucket("2026-02-10T10:00:00Z", "s1", "claude-mystery-9", 1234567, 0)}
	bs[0].Unpriced = 1
	if err := Build(bs, Options{Period: Daily, Location: time.UTC}).WriteTable(&buf, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2026-02-10", "1,234,567", "$0.00*", "└ mystery-9", "no price known for claude-mystery-9"} {
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
