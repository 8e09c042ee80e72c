package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/claude-insights/insights/store"
)

// BlockLength is the length of a billing window, and the pause after which
// the next reply opens a new one.
const BlockLength = 5 * time.Hour

// RecentBlocks is how far back --recent looks, as ccusage's blocks --recent.
const RecentBlocks = 3 * 24 * time.Hour

// Block is a 5-hour billing window, or a gap: a stretch of more than 5 hours
// without replies between two windows.
type Block struct {
	// Start is the first reply's time floored to the UTC hour; End is Start
	// plus 5 hours. A gap starts 5 hours after the last reply before it and
	// ends at the next reply.
	Start, End time.Time
	// FirstAt and LastAt are the times of the first and last reply (zero
	// for a gap).
	FirstAt, LastAt time.Time
	Gap             bool
	// Active is true for the window still open at the report's now: before
	// its end, and less than 5 hours after its last reply.
	Active  bool
	Replies int64
	store.Tokens
	// Cost sums the priced replies; Unpriced lists the models that had no
	// price.
	Cost     float64
	Unpriced []string
	Models   []string // in the order they were first used
	// BurnRate is set when the replies span some time (at least two of
	// them); Projection, for the active block with a burn rate.
	BurnRate   *BurnRate
	Projection *Projection
}

// BurnRate is how fast a block spent, between its first and last reply.
type BurnRate struct {
	TokensPerMinute float64
	CostPerHour     float64
}

// Projection is what the active block will have spent at its end if it goes
// on at its burn rate.
type Projection struct {
	Tokens    int64
	Cost      float64
	Remaining time.Duration // from now to the block's end
}

// Blocks splits replies into 5-hour billing windows the way ccusage does: a
// window starts at a reply's time floored to the UTC hour, and a reply
// opens the next one when it comes more than 5 hours after the window's
// start or after the previous reply. A pause of more than 5 hours also
// yields a gap entry. now decides which block is active.
func Blocks(replies []store.Usage, now time.Time) []Block {
	if !slices.IsSortedFunc(replies, func(a, b store.Usage) int { return a.Timestamp.Compare(b.Timestamp) }) {
		replies = slices.Clone(replies)
		sort.SliceStable(replies, func(i, j int) bool { return replies[i].Timestamp.Before(replies[j].Timestamp) })
	}
	var blocks []Block
	first := 0
	for i := 1; i <= len(replies); i++ {
		if i < len(replies) {
			t, start := replies[i].Timestamp, replies[first].Timestamp.UTC().Truncate(time.Hour)
			last := replies[i-1].Timestamp
			if t.Sub(start) <= BlockLength && t.Sub(last) <= BlockLength {
				continue
			}
		}
		blocks = append(blocks, newBlock(replies[first:i], now))
		if i < len(replies) && replies[i].Timestamp.Sub(replies[i-1].Timestamp) > BlockLength {
			blocks = append(blocks, Block{Gap: true, Start: replies[i-1].Timestamp.Add(BlockLength), End: replies[i].Timestamp})
		}
		first = i
	}
	return blocks
}

// newBlock sums the replies of one window.
func newBlock(rs []store.Usage, now time.Time) Block {
	b := Block{
		Start:   rs[0].Timestamp.UTC().Truncate(time.Hour),
		FirstAt: rs[0].Timestamp,
		LastAt:  rs[len(rs)-1].Timestamp,
		Replies: int64(len(rs)),
	}
	b.End = b.Start.Add(BlockLength)
	b.Active = now.Before(b.End) && now.Sub(b.LastAt) < BlockLength
	for _, r := range rs {
		b.Tokens.Add(r.Tokens)
		if r.Priced {
			b.Cost += r.Cost
		} else if !slices.Contains(b.Unpriced, r.Model) {
			b.Unpriced = append(b.Unpriced, r.Model)
		}
		if !slices.Contains(b.Models, r.Model) {
			b.Models = append(b.Models, r.Model)
		}
	}
	b.Cost = store.RoundCost(b.Cost)
	sort.Strings(b.Unpriced)
	if minutes := b.LastAt.Sub(b.FirstAt).Minutes(); minutes > 0 {
		b.BurnRate = &BurnRate{TokensPerMinute: float64(b.Total()) / minutes, CostPerHour: b.Cost / minutes * 60}
		if b.Active {
			left := b.End.Sub(now)
			b.Projection = &Projection{
				Tokens:    b.Total() + int64(b.BurnRate.TokensPerMinute*left.Minutes()+0.5),
				Cost:      store.RoundCost(b.Cost + b.BurnRate.CostPerHour*left.Hours()),
				Remaining: left,
			}
		}
	}
	return b
}

// BlockOptions select the blocks of a report.
type BlockOptions struct {
	// Since and Until are calendar days in Location, both inclusive; zero
	// means unbounded. A block is kept when it starts in them.
	Since, Until time.Time
	// Location is the time zone of Since, Until and of times shown.
	Location *time.Location
	Project  string
	// Now decides which block is active (zero: the current time).
	Now time.Time
	// Active keeps only the active block; Recent, the blocks started in the
	// last three days.
	Active, Recent bool
}

// BlockReport is a list of billing windows and the gaps between them, oldest
// first.
type BlockReport struct {
	Blocks   []Block
	Location *time.Location
	Now      time.Time
	// Unpriced lists the models that had no price; their cost is not included.
	Unpriced []string
}

// UsageBlocks reads the replies that the options select and splits them
// into billing windows.
func UsageBlocks(ctx context.Context, db store.Driver, opt BlockOptions) (*BlockReport, error) {
	if opt.Location == nil {
		opt.Location = time.Local
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	var since, until time.Time // block starts kept: [since, until)
	if !opt.Since.IsZero() {
		since = dayStart(opt.Since, opt.Location)
	}
	if !opt.Until.IsZero() {
		until = dayStart(opt.Until, opt.Location).AddDate(0, 0, 1)
	}
	if opt.Recent && since.Before(opt.Now.Add(-RecentBlocks)) {
		since = opt.Now.Add(-RecentBlocks)
	}
	if opt.Active && since.Before(opt.Now.Add(-BlockLength)) {
		since = opt.Now.Add(-BlockLength)
	}
	to := until
	if !to.IsZero() {
		to = to.Add(BlockLength) // the replies of a block starting just before until
	}
	replies, err := blockReplies(ctx, db, since, to, opt.Project, 0)
	if err != nil {
		return nil, err
	}
	r := &BlockReport{Location: opt.Location, Now: opt.Now}
	unpriced := map[string]bool{}
	for _, b := range Blocks(replies, opt.Now) {
		if b.Start.Before(since) || (!until.IsZero() && !b.Start.Before(until)) || (opt.Active && !b.Active) {
			continue
		}
		if b.Gap && len(r.Blocks) == 0 {
			continue
		}
		r.Blocks = append(r.Blocks, b)
		for _, m := range b.Unpriced {
			unpriced[m] = true
		}
	}
	if n := len(r.Blocks); n > 0 && r.Blocks[n-1].Gap {
		r.Blocks = r.Blocks[:n-1]
	}
	for m := range unpriced {
		r.Unpriced = append(r.Unpriced, m)
	}
	sort.Strings(r.Unpriced)
	return r, nil
}

// ActiveBlock returns the billing window open at now, over every project;
// ok is false when there is none. It reads the replies of the last hours
// only, going back at most a week to find where the window started.
func ActiveBlock(ctx context.Context, db store.Driver, now time.Time) (b Block, ok bool, err error) {
	replies, err := blockReplies(ctx, db, now.Add(-BlockLength), time.Time{}, "", 7*24*time.Hour)
	if err != nil {
		return b, false, err
	}
	blocks := Blocks(replies, now)
	for i := len(blocks) - 1; i >= 0; i-- {
		if blocks[i].Active {
			return blocks[i], true, nil
		}
	}
	return b, false, nil
}

// blockReplies reads the replies of [from, to), preceded by those of the
// block holding from: back to the first reply that is known to open a block
// because more than 5 hours passed before it. It looks back twice as far at
// each try, reading only the stretch not read yet, up to maxBack (0: as far
// as history goes; at maxBack, what was read is taken as it is).
func blockReplies(ctx context.Context, db store.Driver, from, to time.Time, project string, maxBack time.Duration) ([]store.Usage, error) {
	if from.IsZero() {
		return db.RepliesBetween(ctx, time.Time{}, to, project)
	}
	var rs []store.Usage
	end := to // of the stretch to read
	for back := 2 * BlockLength; ; back *= 2 {
		start, last := from.Add(-back), false
		if maxBack > 0 && back >= maxBack {
			start, last = from.Add(-maxBack), true
		} else if maxBack == 0 && back > 64*24*time.Hour {
			start, last = time.Time{}, true
		}
		older, err := db.RepliesBetween(ctx, start, end, project)
		if err != nil {
			return nil, err
		}
		rs, end = append(older, rs...), start
		if i, ok := blockOpening(rs, start, from); ok {
			return rs[i:], nil
		} else if last {
			return rs, nil
		}
	}
}

// blockOpening finds the last reply, at or before the first one at from or
// later, that opens a block whatever came before the window read (which
// starts at start; zero: at the beginning of history).
func blockOpening(rs []store.Usage, start, from time.Time) (int, bool) {
	j := sort.Search(len(rs), func(i int) bool { return !rs[i].Timestamp.Before(from) })
	if j == len(rs) {
		return j, true // nothing at from or later
	}
	for i := j; i > 0; i-- {
		if rs[i].Timestamp.Sub(rs[i-1].Timestamp) > BlockLength {
			return i, true
		}
	}
	return 0, start.IsZero() || rs[0].Timestamp.Sub(start) > BlockLength
}

// jsonBlock is a block in the shape of ccusage's blocks --json.
type jsonBlock struct {
	ID             string          `json:"id"`
	StartTime      string          `json:"startTime"`
	EndTime        string          `json:"endTime"`
	ActualEndTime  *string         `json:"actualEndTime"`
	IsActive       bool            `json:"isActive"`
	IsGap          bool            `json:"isGap"`
	Entries        int64           `json:"entries"`
	TokenCounts    jsonBlockTokens `json:"tokenCounts"`
	TotalTokens    int64           `json:"totalTokens"`
	CostUSD        float64         `json:"costUSD"`
	Models         []string        `json:"models"`
	UnpricedModels []string        `json:"unpricedModels,omitempty"`
	BurnRate       *jsonBurnRate   `json:"burnRate"`
	Projection     *jsonProjection `json:"projection"`
}

type jsonBlockTokens struct {
	InputTokens              int64 `json:"inputTokens"`
	OutputTokens             int64 `json:"outputTokens"`
	CacheCreationInputTokens int64 `json:"cacheCreationInputTokens"`
	CacheReadInputTokens     int64 `json:"cacheReadInputTokens"`
}

type jsonBurnRate struct {
	TokensPerMinute float64 `json:"tokensPerMinute"`
	CostPerHour     float64 `json:"costPerHour"`
}

type jsonProjection struct {
	TotalTokens      int64   `json:"totalTokens"`
	TotalCost        float64 `json:"totalCost"`
	RemainingMinutes int64   `json:"remainingMinutes"`
}

// isoTime is t as JavaScript's toISOString writes it, as ccusage does.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// WriteJSON writes the blocks as JSON: {"blocks": [...]}, times in UTC.
func (r *BlockReport) WriteJSON(w io.Writer) error {
	out := make([]jsonBlock, 0, len(r.Blocks))
	for _, b := range r.Blocks {
		jb := jsonBlock{
			ID:        isoTime(b.Start),
			StartTime: isoTime(b.Start),
			EndTime:   isoTime(b.End),
			IsActive:  b.Active,
			IsGap:     b.Gap,
			Entries:   b.Replies,
			TokenCounts: jsonBlockTokens{InputTokens: b.Input, OutputTokens: b.Output,
				CacheCreationInputTokens: b.CacheWrite(), CacheReadInputTokens: b.CacheRead},
			TotalTokens:    b.Total(),
			CostUSD:        b.Cost,
			Models:         b.Models,
			UnpricedModels: b.Unpriced,
		}
		if b.Gap {
			jb.ID = "gap-" + jb.ID
		} else {
			end := isoTime(b.LastAt)
			jb.ActualEndTime = &end
		}
		if jb.Models == nil {
			jb.Models = []string{}
		}
		if br := b.BurnRate; br != nil {
			jb.BurnRate = &jsonBurnRate{TokensPerMinute: round(br.TokensPerMinute, 2), CostPerHour: round(br.CostPerHour, 6)}
		}
		if p := b.Projection; p != nil {
			jb.Projection = &jsonProjection{TotalTokens: p.Tokens, TotalCost: round(p.Cost, 6),
				RemainingMinutes: int64(math.Round(p.Remaining.Minutes()))}
		}
		out = append(out, jb)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"blocks": out})
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// WriteTable writes the blocks as an aligned text table, then what the
// active block is burning and where it is heading.
func (r *BlockReport) WriteTable(w io.Writer) error {
	if len(r.Blocks) == 0 {
		_, err := fmt.Fprintln(w, "No usage blocks found. Run `insights import` first, or widen --since/--until.")
		return err
	}
	const stamp = "2006-01-02 15:04"
	t := table{{"Block start", "Status", "Models", "Input", "Output", "Cache write", "Cache read", "Total tokens", "Cost (USD)"}}
	var total store.Tokens
	var cost float64
	var active *Block
	for i, b := range r.Blocks {
		start := b.Start.In(r.Location).Format(stamp)
		if b.Gap {
			t = append(t, []string{start, "(gap) " + FormatDuration(b.End.Sub(b.Start)), "", "", "", "", "", "", ""})
			continue
		}
		status := FormatDuration(b.LastAt.Sub(b.Start))
		if b.Active {
			status = "ACTIVE, " + FormatDuration(b.End.Sub(r.Now)) + " left"
			active = &r.Blocks[i]
		}
		models := make([]string, len(b.Models))
		for i, m := range b.Models {
			models[i] = ShortModel(m)
		}
		t = append(t, append([]string{start}, line(status, strings.Join(models, ", "), b.Tokens, money(b.Cost, len(b.Unpriced) == 0))...))
		total.Add(b.Tokens)
		cost += b.Cost
	}
	t = append(t, append([]string{"Total"}, line("", "", total, money(store.RoundCost(cost), len(r.Unpriced) == 0))...))
	if err := t.write(w, 3); err != nil {
		return err
	}
	if active != nil {
		if _, err := fmt.Fprintf(w, "Active block ends %s (%s left).\n", active.End.In(r.Location).Format(stamp),
			FormatDuration(active.End.Sub(r.Now))); err != nil {
			return err
		}
		if br, p := active.BurnRate, active.Projection; br != nil && p != nil {
			if _, err := fmt.Fprintf(w, "Burn rate: %s tokens/min, $%.2f/hour. Projected at its end: %s tokens, $%.2f.\n",
				Count(int64(math.Round(br.TokensPerMinute))), br.CostPerHour, Count(p.Tokens), p.Cost); err != nil {
				return err
			}
		}
	}
	if len(r.Unpriced) > 0 {
		_, err := fmt.Fprintf(w, "* no price known for %s: their cost is not included (set it under [pricing] in the config)\n", strings.Join(r.Unpriced, ", "))
		return err
	}
	return nil
}

// FormatDuration writes d in hours and minutes, rounded down: "2h 15m", "45m".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
	if h == 0 {
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh %dm", h, m)
}
