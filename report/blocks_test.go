package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

var blockDay = time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)

// hm is a time on blockDay; hours past 24 fall on the next days.
func hm(h, m int) time.Time {
	return blockDay.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func billed(ts time.Time, tokens int64, cost float64) store.Usage {
	return store.Usage{Key: ts.Format(time.RFC3339Nano), Model: "claude-opus-4-6", Timestamp: ts,
		Tokens: store.Tokens{Input: tokens / 10, Output: tokens - tokens/10}, Cost: cost, Priced: true}
}

// blockLine sums up a block for comparisons: start-end, replies (or "gap"),
// active.
func blockLine(b Block) string {
	s := b.Start.Format("02T15:04") + "-" + b.End.Format("02T15:04")
	if b.Gap {
		return s + " gap"
	}
	s += fmt.Sprintf(" %d", b.Replies)
	if b.Active {
		s += " active"
	}
	return s
}

func blockLines(bs []Block) string {
	ls := make([]string, len(bs))
	for i, b := range bs {
		ls[i] = blockLine(b)
	}
	return strings.Join(ls, ", ")
}

func TestBlocksSplit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies []time.Time
		now     time.Time
		want    string
	}{
		{"none", nil, hm(12, 0), ""},
		{"floored to the hour", []time.Time{hm(9, 37), hm(10, 5)}, hm(23, 0), "10T09:00-10T14:00 2"},
		{"five hours from start is still in", []time.Time{hm(9, 37), hm(14, 0)}, hm(23, 0), "10T09:00-10T14:00 2"},
		{"new block after five hours from start", []time.Time{hm(9, 37), hm(11, 0), hm(13, 59), hm(14, 1)}, hm(23, 0),
			"10T09:00-10T14:00 3, 10T14:00-10T19:00 1"},
		{"a pause of five hours is no gap", []time.Time{hm(9, 10), hm(14, 10)}, hm(23, 0),
			"10T09:00-10T14:00 1, 10T14:00-10T19:00 1"},
		{"a longer pause is a gap", []time.Time{hm(9, 10), hm(9, 40), hm(15, 0), hm(15, 30)}, hm(23, 0),
			"10T09:00-10T14:00 2, 10T14:40-10T15:00 gap, 10T15:00-10T20:00 2"},
		{"gap across midnight", []time.Time{hm(20, 0), hm(31, 30)}, hm(40, 0),
			"10T20:00-11T01:00 1, 11T01:00-11T07:30 gap, 11T07:00-11T12:00 1"},
		{"active until its end", []time.Time{hm(9, 10), hm(15, 0), hm(15, 30)}, hm(19, 59),
			"10T09:00-10T14:00 1, 10T14:10-10T15:00 gap, 10T15:00-10T20:00 2 active"},
		{"not active at its end", []time.Time{hm(15, 0)}, hm(20, 0), "10T15:00-10T20:00 1"},
		{"unsorted input", []time.Time{hm(15, 30), hm(9, 10), hm(15, 0)}, hm(16, 0),
			"10T09:00-10T14:00 1, 10T14:10-10T15:00 gap, 10T15:00-10T20:00 2 active"},
	} {
		var rs []store.Usage
		for _, ts := range tc.replies {
			rs = append(rs, billed(ts, 100, 0.01))
		}
		if got := blockLines(Blocks(rs, tc.now)); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestBlockSums(t *testing.T) {
	a := billed(hm(10, 0), 1000, 0.5)
	b := billed(hm(10, 20), 2000, 1.0)
	b.Model = "claude-sonnet-4-5"
	c := billed(hm(10, 10), 50, 0)
	c.Model, c.Priced = "claude-mystery-9", false
	bs := Blocks([]store.Usage{a, c, b}, hm(10, 30))
	if len(bs) != 1 {
		t.Fatalf("blocks = %s", blockLines(bs))
	}
	bl := bs[0]
	if bl.Replies != 3 || bl.Total() != 3050 || bl.Input != 100+200+5 || bl.Cost != 1.5 || !bl.Active {
		t.Errorf("block = %+v", bl)
	}
	if !bl.FirstAt.Equal(hm(10, 0)) || !bl.LastAt.Equal(hm(10, 20)) {
		t.Errorf("first %v, last %v", bl.FirstAt, bl.LastAt)
	}
	if want := []string{"claude-opus-4-6", "claude-mystery-9", "claude-sonnet-4-5"}; !reflect.DeepEqual(bl.Models, want) {
		t.Errorf("models = %v, want %v", bl.Models, want)
	}
	if want := []string{"claude-mystery-9"}; !reflect.DeepEqual(bl.Unpriced, want) {
		t.Errorf("unpriced = %v, want %v", bl.Unpriced, want)
	}
	// 3050 tokens and $1.50 in 20 minutes.
	if br := bl.BurnRate; br == nil || br.TokensPerMinute != 152.5 || math.Abs(br.CostPerHour-4.5) > 1e-9 {
		t.Errorf("burn rate = %+v", br)
	}
	// 270 minutes left, until 15:00.
	if p := bl.Projection; p == nil || p.Remaining != 270*time.Minute || p.Tokens != 3050+41175 || math.Abs(p.Cost-21.75) > 1e-9 {
		t.Errorf("projection = %+v", p)
	}

	// An ended block has a burn rate and no projection; a single reply, neither.
	bs = Blocks([]store.Usage{a, b, billed(hm(20, 0), 10, 0.1)}, hm(23, 0))
	if len(bs) != 3 || bs[0].BurnRate == nil || bs[0].Projection != nil || bs[1].Gap != true {
		t.Fatalf("blocks = %s", blockLines(bs))
	}
	if bs[2].BurnRate != nil || bs[2].Projection != nil || !bs[2].Active {
		t.Errorf("single reply block = %+v", bs[2])
	}
}

// fakeReplies serves RepliesBetween from a slice and counts the calls.
type fakeReplies struct {
	store.Driver
	rs    []store.Usage
	calls int
}

func (f *fakeReplies) RepliesBetween(_ context.Context, since, until time.Time, project string) ([]store.Usage, error) {
	f.calls++
	var out []store.Usage
	for _, r := range f.rs {
		if (since.IsZero() || !r.Timestamp.Before(since)) && (until.IsZero() || r.Timestamp.Before(until)) {
			out = append(out, r)
		}
	}
	return out, nil
}

// The blocks built from the replies read back from a point are those built
// from every reply, whatever the pattern of pauses.
func TestBlockRepliesFindBlockStart(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 50; round++ {
		var rs []store.Usage
		ts := hm(0, 0)
		for i := 0; i < 300; i++ {
			pause := time.Duration(rng.Intn(90)) * time.Minute
			if rng.Intn(40) == 0 {
				pause = time.Duration(4+rng.Intn(6)) * time.Hour
			}
			ts = ts.Add(pause)
			rs = append(rs, billed(ts, 10, 0.01))
		}
		all := Blocks(rs, ts)
		for _, from := range []time.Time{hm(0, 0), hm(30, 0), hm(100, 17), ts.Add(-BlockLength), ts.Add(time.Hour)} {
			db := &fakeReplies{rs: rs}
			got, err := blockReplies(context.Background(), db, from, time.Time{}, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			// A gap opening the list follows a block before from.
			var want, have []Block
			for _, b := range all {
				if !b.Start.Before(from) && (len(want) > 0 || !b.Gap) {
					want = append(want, b)
				}
			}
			for _, b := range Blocks(got, ts) {
				if !b.Start.Before(from) && (len(have) > 0 || !b.Gap) {
					have = append(have, b)
				}
			}
			if blockLines(have) != blockLines(want) {
				t.Fatalf("round %d from %v: read %d replies in %d calls\n got %s\nwant %s", round, from, len(got), db.calls,
					blockLines(have), blockLines(want))
			}
		}
	}
}

func TestActiveBlock(t *testing.T) {
	// Replies every 2 hours for two days: the active block started long
	// before the last 10 hours; then one every hour for 10 days, which is
	// longer than ActiveBlock looks back.
	var rs []store.Usage
	for h := 0; h <= 48; h += 2 {
		rs = append(rs, billed(hm(h, 30), 10, 0.01))
	}
	db := &fakeReplies{rs: rs}
	b, ok, err := ActiveBlock(context.Background(), db, hm(50, 0))
	if err != nil || !ok {
		t.Fatalf("active block: %v, %v", ok, err)
	}
	if want := Blocks(rs, hm(50, 0)); blockLine(b) != blockLine(want[len(want)-1]) || db.calls < 2 {
		t.Errorf("active block %s in %d calls, want %s", blockLine(b), db.calls, blockLine(want[len(want)-1]))
	}
	if _, ok, _ := ActiveBlock(context.Background(), db, hm(60, 0)); ok {
		t.Error("active block 11 hours after the last reply")
	}
	rs = nil
	for h := 0; h <= 240; h++ {
		rs = append(rs, billed(hm(h, 30), 10, 0.01))
	}
	db = &fakeReplies{rs: rs}
	if _, ok, err := ActiveBlock(context.Background(), db, hm(241, 0)); err != nil || !ok || db.calls > 6 {
		t.Errorf("continuous replies: active %v, %v, %d calls", ok, err, db.calls)
	}
}

func TestUsageBlocksFilters(t *testing.T) {
	rs := []store.Usage{
		billed(hm(1, 0), 10, 0.01),  // block 01:00, day 10
		billed(hm(9, 0), 10, 0.01),  // gap, block 09:00
		billed(hm(23, 0), 10, 0.01), // gap, block 23:00 (day 11 in Berlin)
		billed(hm(26, 0), 10, 0.01), // same block
		billed(hm(40, 0), 10, 0.01), // gap, block 16:00 day 11
		billed(hm(41, 0), 10, 0.01),
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.ParseInLocation("2006-01-02", s, berlin); return d }
	for _, tc := range []struct {
		name string
		opt  BlockOptions
		want string
	}{
		{"all", BlockOptions{}, "10T01:00-10T06:00 1, 10T06:00-10T09:00 gap, 10T09:00-10T14:00 1, 10T14:00-10T23:00 gap, " +
			"10T23:00-11T04:00 2, 11T07:00-11T16:00 gap, 11T16:00-11T21:00 2 active"},
		{"since, in Berlin", BlockOptions{Since: day("2026-02-11")}, "10T23:00-11T04:00 2, 11T07:00-11T16:00 gap, 11T16:00-11T21:00 2 active"},
		{"until, in Berlin", BlockOptions{Until: day("2026-02-10")}, "10T01:00-10T06:00 1, 10T06:00-10T09:00 gap, 10T09:00-10T14:00 1"},
		{"active", BlockOptions{Active: true}, "11T16:00-11T21:00 2 active"},
		{"recent", BlockOptions{Recent: true, Now: hm(41, 30).Add(RecentBlocks - 10*time.Hour)}, "11T16:00-11T21:00 2"},
	} {
		opt := tc.opt
		opt.Location = berlin
		if opt.Now.IsZero() {
			opt.Now = hm(41, 30)
		}
		r, err := UsageBlocks(context.Background(), &fakeReplies{rs: rs}, opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := blockLines(r.Blocks); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestBlocksJSON(t *testing.T) {
	rs := []store.Usage{billed(hm(9, 10), 100, 0.5), billed(hm(15, 0), 1000, 1), billed(hm(15, 30), 2000, 2)}
	r := &BlockReport{Blocks: Blocks(rs, hm(16, 0)), Location: time.UTC, Now: hm(16, 0)}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Blocks) != 3 {
		t.Fatalf("blocks:\n%s", buf.String())
	}
	gap, active := out.Blocks[1], out.Blocks[2]
	if gap["id"] != "gap-2026-02-10T14:10:00.000Z" || gap["isGap"] != true || gap["actualEndTime"] != nil || gap["burnRate"] != nil {
		t.Errorf("gap = %v", gap)
	}
	if active["id"] != "2026-02-10T15:00:00.000Z" || active["endTime"] != "2026-02-10T20:00:00.000Z" ||
		active["actualEndTime"] != "2026-02-10T15:30:00.000Z" || active["isActive"] != true || active["entries"] != 2.0 ||
		active["totalTokens"] != 3000.0 || active["costUSD"] != 3.0 {
		t.Errorf("active = %v", active)
	}
	if br := active["burnRate"].(map[string]any); br["tokensPerMinute"] != 100.0 || br["costPerHour"] != 6.0 {
		t.Errorf("burn rate = %v", br)
	}
	// 240 minutes left at 100 tokens and $0.10 a minute.
	if p := active["projection"].(map[string]any); p["totalTokens"] != 27000.0 || p["totalCost"] != 27.0 || p["remainingMinutes"] != 240.0 {
		t.Errorf("projection = %v", p)
	}
}
