// Package synth writes synthetic Claude Code directories for benchmarks and
// conformance tests: deterministic for a seed, in the real transcript format
// with the shapes that break naive importers, and with the exact token totals
// a correct reader must report.
package synth

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// ExpectedFile is the name of the file, at the root of a generated
// directory, that holds its Expected totals.
const ExpectedFile = "expected.json"

// Options shape a generated directory.
type Options struct {
	// Size is roughly how many bytes of transcripts to write: generation
	// stops after the session that reaches it.
	Size int64
	Seed uint64
	// Broken adds lines a reader must skip and count: records cut short,
	// text that is not JSON, and a byte-order mark at the start of some files.
	Broken bool
	// Start is the first day sessions may start on (UTC); Days how many
	// days they spread over.
	Start time.Time
	Days  int
	// LongTurns, when set, gives the first session this many turns (about
	// eight messages each): one long session among the ordinary ones.
	LongTurns int
}

func (o *Options) defaults() {
	if o.Size <= 0 {
		o.Size = 10 << 20
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	if o.Days <= 0 {
		o.Days = 60
	}
}

// Tokens are the billed tokens of replies, named as in the API's usage.
type Tokens struct {
	Input         int64 `json:"input"`
	Output        int64 `json:"output"`
	CacheCreation int64 `json:"cacheCreation"`
	CacheRead     int64 `json:"cacheRead"`
	Replies       int64 `json:"replies"`
}

func (t *Tokens) add(u usage) {
	t.Input += u.Input
	t.Output += u.Output
	t.CacheCreation += u.CacheCreation
	t.CacheRead += u.CacheRead
	t.Replies++
}

// Total is the sum of every kind of token.
func (t Tokens) Total() int64 { return t.Input + t.Output + t.CacheCreation + t.CacheRead }

// Day is the usage of one UTC day, per model.
type Day struct {
	Date   string            `json:"date"`
	Models map[string]Tokens `json:"models"`
}

// Expected is what a generated directory holds: counts of what was written,
// and each distinct billed reply counted once, with its final usage, on the
// UTC day of the line that carries it.
type Expected struct {
	Seed  uint64 `json:"seed"`
	Bytes int64  `json:"bytes"`
	Files int    `json:"files"` // transcript files, subagents' included
	Lines int    `json:"lines"` // transcript lines, broken ones included
	// Broken is the number of lines a reader must skip: not JSON, or cut short.
	Broken   int `json:"broken"`
	Sessions int `json:"sessions"`
	// Features counts the shapes written, by name (see the feature constants).
	Features map[string]int `json:"features"`
	Days     []Day          `json:"days"`
	Totals   Tokens         `json:"totals"`
}

// Names of the counted features.
const (
	FeatureStreamedReply   = "streamed_replies"      // replies written as several lines
	FeatureSubagent        = "subagents"             // Task calls that ran a subagent
	FeatureProgressOnly    = "progress_only_agents"  // subagents with no file of their own
	FeatureToolError       = "tool_errors"           // tool results with is_error
	FeatureEdit            = "edits"                 // Edit calls with a structuredPatch
	FeatureWrite           = "writes"                // Write calls creating a file
	FeatureImage           = "images"                // base64 images in prompts
	FeatureCompaction      = "compactions"           // compact_boundary records
	FeatureResumed         = "resumed_sessions"      // files that begin with copies of another session
	FeatureAPIError        = "api_errors"            // synthetic API error messages
	FeatureLongContext     = "long_context_replies"  // replies over 200k input tokens
	FeatureAcrossMidnight  = "replies_over_midnight" // replies streamed across midnight UTC
	FeatureSummary         = "summaries"             // summary (title) records
	FeatureHistoryPrompts  = "history_prompts"       // lines of history.jsonl
	FeatureTodoLists       = "todo_lists"            // todos/*.json files
	FeaturePlans           = "plans"                 // plans/*.md files
	FeatureDistinctReplies = "distinct_replies"      // billed replies, each counted once
)

// Generate writes a Claude Code directory under dir (projects/, history.jsonl,
// todos/, plans/) and ExpectedFile beside them, and returns what it holds.
// The same options always write the same bytes.
func Generate(dir string, opt Options) (*Expected, error) {
	opt.defaults()
	g := &generator{
		opt:  opt,
		dir:  dir,
		rng:  rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15)),
		days: map[string]map[string]Tokens{},
		exp:  &Expected{Seed: opt.Seed, Features: map[string]int{}},
	}
	if err := g.run(); err != nil {
		return nil, fmt.Errorf("generate %s: %w", dir, err)
	}
	for date, models := range g.days {
		g.exp.Days = append(g.exp.Days, Day{Date: date, Models: models})
	}
	sort.Slice(g.exp.Days, func(i, j int) bool { return g.exp.Days[i].Date < g.exp.Days[j].Date })
	b, err := json.MarshalIndent(g.exp, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ExpectedFile), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("generate %s: %w", dir, err)
	}
	return g.exp, nil
}

// ReadExpected reads the Expected totals of a generated directory.
func ReadExpected(dir string) (*Expected, error) {
	b, err := os.ReadFile(filepath.Join(dir, ExpectedFile))
	if err != nil {
		return nil, err
	}
	var e Expected
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, ExpectedFile), err)
	}
	return &e, nil
}
