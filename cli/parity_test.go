package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/internal/corpus"
	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/report"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
	"github.com/claude-insights/insights/synth"
)

// ccusageVersion is the release of ccusage the parity test compares with.
const ccusageVersion = "20.0.24"

// parityRules are the known, deliberate differences between ccusage 20 and
// insights. Each is applied explicitly: the line rules build the tree as
// ccusage reads it (ccusageView), the price rule adjusts the expected cost
// (ccusageCostDelta); everything else must agree exactly. README.md, "Parity
// with ccusage", says which figure is right and why.
var parityRules = []struct{ name, rule string }{
	{"compact-json", "ccusage skips a line carrying usage unless it holds the literal \"usage\":{ (JSON written with spaces, as in hand-made files)"},
	{"bom", "ccusage skips the first line of a file that starts with a UTF-8 byte-order mark"},
	{"synthetic", "ccusage adds the tokens of model \"<synthetic>\" lines (made up by Claude Code, never billed) to its rows and totals, at no cost, and leaves them out of modelBreakdowns"},
	{"session-agent-progress", "ccusage's session and blocks reports leave out the subagent replies carried by agent_progress records (its daily and monthly reports count them)"},
	{"session-key", "ccusage names a session by its file (the file name, or for subagent files the folder above subagents/ or the workflow folder), insights by the records' sessionId"},
	{"long-context", "ccusage prices only the part of each token field above 200k at the long-context rate (and has no such rate for Sonnet 4.6); insights prices the whole request at it once the prompt exceeds 200k"},
	{"empty-rows", "ccusage shows no row for a period or session whose tokens are all zero"},
	{"copies-without-request-id", "ccusage's blocks report counts every copy of a reply line that has no requestId (a resumed session repeats it in its own file) as an entry; insights keeps one per uuid"},
}

func ruleText(t *testing.T, name string) string {
	for _, r := range parityRules {
		if r.name == name {
			return r.rule
		}
	}
	t.Fatalf("rule %q is not in parityRules", name)
	return ""
}

// Differences known but absent from the trees compared (README.md lists them):
// ccusage uses a line's costUSD when present, prices other models' fast mode at
// the base model's rates, and merges lines that share message.id when they have
// no requestId; insights prices tokens, leaves those fast modes unpriced, and
// counts such lines on their own.

// paritySynthetic is what the synthetic rule renames "<synthetic>" to in
// the tree insights imports, so that its tokens are counted as ccusage counts
// them.
const paritySynthetic = "parity-synthetic"

// TestParityCcusage runs ccusage and insights on the same trees and compares
// every period and session, and every model within them: tokens exactly, cost
// to the cent, after the named rules.
func TestParityCcusage(t *testing.T) {
	bin := ccusageBinary(t)
	isolate(t)
	trees := []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"testdata", func(t *testing.T) string { return testdataDir }},
		{"spotter", func(t *testing.T) string { return filepath.Join(corpus.Dir(t), "spotter") }},
		{"claude-code-log", func(t *testing.T) string { return filepath.Join(corpus.Dir(t), "claude-code-log") }},
		{"synth-clean", func(t *testing.T) string { return generated(t, false) }},
		{"synth-broken", func(t *testing.T) string { return generated(t, true) }},
	}
	for _, tree := range trees {
		t.Run(tree.name, func(t *testing.T) {
			dir := tree.dir(t)
			for _, p := range []report.Period{report.Daily, report.Monthly, report.Session} {
				t.Run(string(p), func(t *testing.T) { parityCheck(t, bin, dir, p) })
			}
			t.Run("blocks", func(t *testing.T) { parityBlocks(t, bin, dir) })
		})
	}
}

// generated writes a synthetic tree of about 8 MB with a fixed seed.
func generated(t *testing.T, broken bool) string {
	dir := t.TempDir()
	if _, err := synth.Generate(dir, synth.Options{Size: 8 << 20, Seed: 7, Broken: broken}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func parityCheck(t *testing.T, bin, dir string, p report.Period) {
	view, effects := ccusageView(t, dir, p == report.Session)
	for _, name := range sortedKeys(effects) {
		t.Logf("rule %s: %d lines: %s", name, effects[name], ruleText(t, name))
	}
	theirs := decodeParity(t, p, runCcusage(t, bin, dir, p))

	db := filepath.Join(t.TempDir(), "insights.db")
	if _, err := run(t, "--db", db, "import", view); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "--db", db, "usage", string(p), "--json", "--timezone", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	ours := decodeParity(t, p, out)
	delta := ccusageCostDelta(t, db, p, ours)

	const cent = 0.005
	byKey := map[string]parityRow{}
	for _, r := range theirs.Rows {
		byKey[r.Period] = r
	}
	var sumDelta float64
	for _, r := range ours.Rows {
		if r.tokens() == [5]int64{} {
			continue // empty-rows
		}
		c, ok := byKey[r.Period]
		if !ok {
			t.Errorf("%s: in insights (%d tokens), not in ccusage", r.Period, r.TotalTokens)
			continue
		}
		delete(byKey, r.Period)
		if r.tokens() != c.tokens() {
			t.Errorf("%s: insights in/out/write/read/total %v, ccusage %v", r.Period, r.tokens(), c.tokens())
		}
		var rowDelta float64
		theirModels := map[string]parityModel{}
		for _, m := range c.ModelBreakdowns {
			theirModels[m.ModelName] = m
		}
		for _, m := range r.ModelBreakdowns {
			if m.ModelName == paritySynthetic {
				continue // synthetic
			}
			d := delta[[2]string{r.Period, m.ModelName}]
			rowDelta += d
			cm, ok := theirModels[m.ModelName]
			if !ok {
				t.Errorf("%s %s: in insights, not in ccusage", r.Period, m.ModelName)
				continue
			}
			delete(theirModels, m.ModelName)
			if m.tokens() != cm.tokens() {
				t.Errorf("%s %s: insights in/out/write/read %v, ccusage %v", r.Period, m.ModelName, m.tokens(), cm.tokens())
			}
			if math.Abs(m.Cost-d-cm.Cost) >= cent {
				t.Errorf("%s %s: insights $%.4f (long-context adjustment $%.4f), ccusage $%.4f", r.Period, m.ModelName, m.Cost, d, cm.Cost)
			}
		}
		for name := range theirModels {
			t.Errorf("%s %s: in ccusage, not in insights", r.Period, name)
		}
		if math.Abs(r.TotalCost-rowDelta-c.TotalCost) >= cent {
			t.Errorf("%s: insights $%.4f (long-context adjustment $%.4f), ccusage $%.4f", r.Period, r.TotalCost, rowDelta, c.TotalCost)
		}
		sumDelta += rowDelta
	}
	for key, c := range byKey {
		t.Errorf("%s: in ccusage (%d tokens), not in insights", key, c.TotalTokens)
	}
	if ours.totals() != theirs.totals() {
		t.Errorf("totals: insights %v, ccusage %v", ours.totals(), theirs.totals())
	}
	if math.Abs(ours.Totals.TotalCost-sumDelta-theirs.Totals.TotalCost) >= cent {
		t.Errorf("total cost: insights $%.4f (long-context adjustment $%.4f), ccusage $%.4f", ours.Totals.TotalCost, sumDelta, theirs.Totals.TotalCost)
	}
	var unpriced []string
	for _, m := range ours.Totals.UnpricedModels {
		if m != paritySynthetic {
			unpriced = append(unpriced, m)
		}
	}
	if fmt.Sprint(unpriced) != fmt.Sprint(theirs.Totals.UnpricedModels) {
		t.Errorf("unpriced models: insights %v, ccusage %v", unpriced, theirs.Totals.UnpricedModels)
	}
	if sumDelta != 0 {
		t.Logf("rule long-context: $%.4f: %s", sumDelta, ruleText(t, "long-context"))
	}
}

// parityBlocks compares `usage blocks --json` with ccusage's `blocks --json`:
// every window and gap by id, with its span, replies, tokens, models and
// cost, after the named rules.
func parityBlocks(t *testing.T, bin, dir string) {
	view, effects := ccusageView(t, dir, true)
	for _, name := range sortedKeys(effects) {
		if name != "session-key" { // blocks do not name sessions
			t.Logf("rule %s: %d lines: %s", name, effects[name], ruleText(t, name))
		}
	}
	var theirs, ours struct{ Blocks []parityBlock }
	if err := json.Unmarshal([]byte(runCcusage(t, bin, dir, "blocks")), &theirs); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "insights.db")
	if _, err := run(t, "--db", db, "import", view); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "--db", db, "usage", "blocks", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &ours); err != nil {
		t.Fatalf("%v\n%s", err, firstLines(out, 20))
	}
	delta := blockCostDelta(t, db, ours.Blocks)
	byID := map[string]parityBlock{}
	for _, b := range theirs.Blocks {
		byID[b.ID] = b
	}
	for _, b := range ours.Blocks {
		c, ok := byID[b.ID]
		if !ok {
			t.Errorf("block %s: in insights, not in ccusage", b.ID)
			continue
		}
		delete(byID, b.ID)
		if got, want := b.facts(), c.facts(); got != want {
			t.Errorf("block %s: insights %+v\nccusage %+v", b.ID, got, want)
		}
		if math.Abs(b.CostUSD-delta[b.ID]-c.CostUSD) >= 0.005 {
			t.Errorf("block %s: insights $%.4f (long-context adjustment $%.4f), ccusage $%.4f", b.ID, b.CostUSD, delta[b.ID], c.CostUSD)
		}
	}
	for id := range byID {
		t.Errorf("block %s: in ccusage, not in insights", id)
	}
	if len(ours.Blocks) == 0 {
		t.Error("no blocks")
	}
}

// parityBlock is the part of a block of `blocks --json` compared.
type parityBlock struct {
	ID            string  `json:"id"`
	StartTime     string  `json:"startTime"`
	EndTime       string  `json:"endTime"`
	ActualEndTime *string `json:"actualEndTime"`
	IsGap         bool    `json:"isGap"`
	Entries       int64   `json:"entries"`
	TokenCounts   struct {
		InputTokens              int64 `json:"inputTokens"`
		OutputTokens             int64 `json:"outputTokens"`
		CacheCreationInputTokens int64 `json:"cacheCreationInputTokens"`
		CacheReadInputTokens     int64 `json:"cacheReadInputTokens"`
	} `json:"tokenCounts"`
	TotalTokens int64    `json:"totalTokens"`
	CostUSD     float64  `json:"costUSD"`
	Models      []string `json:"models"`
}

// facts are a block's compared values but its cost, models sorted, the
// synthetic model left out (the synthetic rule).
func (b parityBlock) facts() string {
	var models []string
	for _, m := range b.Models {
		if m != paritySynthetic && m != "<synthetic>" {
			models = append(models, m)
		}
	}
	sort.Strings(models)
	end := ""
	if b.ActualEndTime != nil {
		end = *b.ActualEndTime
	}
	return fmt.Sprintf("%s..%s (last %s) gap=%v entries=%d tokens=%+v total=%d models=%v",
		b.StartTime, b.EndTime, end, b.IsGap, b.Entries, b.TokenCounts, b.TotalTokens, models)
}

// blockCostDelta is, per block, how much more insights charges than ccusage
// by the long-context rule.
func blockCostDelta(t *testing.T, path string, blocks []parityBlock) map[string]float64 {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	prices := pricing.Default()
	delta := map[string]float64{}
	for _, b := range blocks {
		if b.IsGap {
			continue
		}
		start, err1 := time.Parse(time.RFC3339Nano, b.StartTime)
		end, err2 := time.Parse(time.RFC3339Nano, b.EndTime)
		if err1 != nil || err2 != nil {
			t.Fatalf("block %s: times %q..%q", b.ID, b.StartTime, b.EndTime)
		}
		replies, err := db.RepliesBetween(ctx, start, end, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range replies {
			price, ok := prices.Lookup(u.Model)
			if ok && u.Priced && price.LongContext != nil && u.Input+u.CacheWrite()+u.CacheRead > pricing.LongContextThreshold {
				delta[b.ID] += u.Cost - tieredCost(u.Model, price, u.Tokens)
			}
		}
	}
	return delta
}

// ccusageBinary finds ccusage's native binary: $INSIGHTS_CCUSAGE, else where
// .ci/run installs it. Without it the test skips, or fails under CI=true.
func ccusageBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("INSIGHTS_CCUSAGE")
	if bin == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
		bin = filepath.Join(cache, "insights-ci", "ccusage-"+ccusageVersion, "node_modules", "@ccusage",
			"ccusage-"+runtime.GOOS+"-"+arch, "bin", "ccusage")
	}
	if st, err := os.Stat(bin); err != nil || st.Mode()&0o111 == 0 {
		msg := fmt.Sprintf("ccusage %s not found (or not executable) at %s: run `bash .ci/run`, or install it with "+
			"`npm install --prefix \"${XDG_CACHE_HOME:-$HOME/.cache}/insights-ci/ccusage-%s\" ccusage@%s`, "+
			"chmod +x its native binary and set INSIGHTS_CCUSAGE to it", ccusageVersion, bin, ccusageVersion, ccusageVersion)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "ccusage "+ccusageVersion {
		t.Fatalf("%s --version = %q, %v; want %s", bin, out, err, ccusageVersion)
	}
	return bin
}

// runCcusage runs `ccusage REPORT --json --offline` on dir, grouped in UTC,
// with a home of its own so that it finds no other agent's logs.
func runCcusage(t *testing.T, bin, dir string, p report.Period) string {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, string(p), "--json", "--offline", "--timezone", "UTC")
	cmd.Dir = home
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"TZ=UTC", "NO_COLOR=1", "CLAUDE_CONFIG_DIR=" + abs}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ccusage %s: %v\n%s", p, err, stderr.String())
	}
	return string(out)
}

// ccusageView copies the transcripts of dir as ccusage 20 reads them, by the
// line rules, and counts the lines each rule changed. Side files are not
// copied: neither report reads them.
func ccusageView(t *testing.T, dir string, session bool) (string, map[string]int) {
	t.Helper()
	view := t.TempDir()
	effects := map[string]int{}
	copies := map[string]int{} // uuids of reply lines without requestId, and how often seen
	projects := filepath.Join(dir, "projects")
	err := filepath.WalkDir(projects, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".jsonl") {
			return err
		}
		rel, err := filepath.Rel(projects, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var out bytes.Buffer
		lines := bytes.SplitAfter(b, []byte("\n"))
		for i, line := range lines {
			if i == 0 && bytes.HasPrefix(line, []byte("\ufeff")) {
				effects["bom"]++
				continue
			}
			if bytes.Contains(line, []byte(`"usage"`)) && !bytes.Contains(line, []byte(`"usage":{`)) && json.Valid(bytes.TrimSpace(line)) {
				effects["compact-json"]++
				continue
			}
			if bytes.Contains(line, []byte(`"model":"<synthetic>"`)) {
				effects["synthetic"]++
				line = bytes.ReplaceAll(line, []byte(`"model":"<synthetic>"`), []byte(`"model":"`+paritySynthetic+`"`))
			}
			if uuid, ok := replyWithoutRequestID(line); ok {
				if n := copies[uuid]; n > 0 {
					effects["copies-without-request-id"]++
					line = bytes.Replace(line, []byte(`"uuid":"`+uuid+`"`), []byte(fmt.Sprintf(`"uuid":"%s-copy%d"`, uuid, n)), 1)
				}
				copies[uuid]++
			}
			if session {
				if isAgentProgress(line) {
					effects["session-agent-progress"]++
					continue
				}
				key := ccusageSessionKey(rel)
				if n := renameSession(&line, key); n > 0 {
					effects["session-key"] += n
				}
			}
			out.Write(line)
		}
		dst := filepath.Join(view, "projects", rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, out.Bytes(), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return view, effects
}

// replyWithoutRequestID tells whether a line is an assistant line with usage
// and no requestId, and its uuid.
func replyWithoutRequestID(line []byte) (string, bool) {
	if !bytes.Contains(line, []byte(`"usage"`)) || bytes.Contains(line, []byte(`"requestId"`)) {
		return "", false
	}
	var r struct {
		Type string `json:"type"`
		UUID string `json:"uuid"`
	}
	if json.Unmarshal(line, &r) != nil || r.Type != "assistant" || r.UUID == "" {
		return "", false
	}
	return r.UUID, true
}

func isAgentProgress(line []byte) bool {
	if !bytes.Contains(line, []byte("agent_progress")) {
		return false
	}
	var r struct {
		Type string `json:"type"`
		Data struct {
			Type string `json:"type"`
		} `json:"data"`
	}
	return json.Unmarshal(line, &r) == nil && r.Type == "progress" && r.Data.Type == "agent_progress"
}

// ccusageSessionKey is ccusage 20's session for a transcript at rel (below
// projects/): the file's name for a file directly in a project's folder, else
// the folder that holds it, or the one above it when that is subagents/.
func ccusageSessionKey(rel string) string {
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) <= 2 {
		return strings.TrimSuffix(parts[len(parts)-1], ".jsonl")
	}
	parent := parts[len(parts)-2]
	if parent == "subagents" {
		return parts[len(parts)-3]
	}
	return parent
}

// renameSession sets the sessionId of a compact line to key; it returns 1 when
// the id changed.
func renameSession(line *[]byte, key string) int {
	const field = `"sessionId":"`
	i := bytes.Index(*line, []byte(field))
	if i < 0 {
		return 0
	}
	start := i + len(field)
	end := bytes.IndexByte((*line)[start:], '"')
	if end < 0 || string((*line)[start:start+end]) == key {
		return 0
	}
	var b bytes.Buffer
	b.Write((*line)[:start])
	b.WriteString(key)
	b.Write((*line)[start+end:])
	*line = b.Bytes()
	return 1
}

// ccusageCostDelta is, per row and model, how much more insights charges than
// ccusage by the long-context rule: the replies whose prompt exceeds the
// threshold, priced whole at the long-context rate by insights and tier by
// tier per token field by ccusage.
func ccusageCostDelta(t *testing.T, path string, p report.Period, r parityReport) map[[2]string]float64 {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sessions := map[string]bool{}
	if p == report.Session {
		for _, row := range r.Rows {
			sessions[row.Period] = true
		}
	} else {
		sums, err := db.UsageSums(ctx, store.UsageQuery{BySession: true, Zone: report.ZoneShifts(time.UTC, time.Time{}, time.Time{})})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sums {
			sessions[s.SessionID] = true
		}
	}
	prices := pricing.Default()
	delta := map[[2]string]float64{}
	for id := range sessions {
		replies, err := db.Replies(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range replies {
			price, ok := prices.Lookup(u.Model)
			if !ok || !u.Priced || price.LongContext == nil || u.Input+u.CacheWrite()+u.CacheRead <= pricing.LongContextThreshold {
				continue
			}
			key := u.SessionID
			switch p {
			case report.Daily:
				key = u.Timestamp.UTC().Format("2006-01-02")
			case report.Monthly:
				key = u.Timestamp.UTC().Format("2006-01")
			}
			delta[[2]string{key, u.Model}] += u.Cost - tieredCost(u.Model, price, u.Tokens)
		}
	}
	return delta
}

// tieredCost is ccusage 20's price of a request: each token field at the base
// rate up to the threshold and at the long-context rate beyond it; no tier at
// all for Sonnet 4.6.
func tieredCost(model string, p pricing.Price, tok store.Tokens) float64 {
	lc := *p.LongContext
	if strings.HasPrefix(pricing.Normalize(model), "sonnet-4-6") {
		lc = p
	}
	field := func(n int64, base, long float64) float64 {
		below := min(n, pricing.LongContextThreshold)
		return float64(below)*base + float64(n-below)*long
	}
	return (field(tok.Input, p.Input, lc.Input) + field(tok.Output, p.Output, lc.Output) +
		field(tok.CacheWrite5m, p.CacheWrite5m, lc.CacheWrite5m) + field(tok.CacheWrite1h, p.CacheWrite1h, lc.CacheWrite1h) +
		field(tok.CacheRead, p.CacheRead, lc.CacheRead)) / 1e6
}

// parityReport is the part of ccusage's and insights' --json compared.
type parityReport struct {
	Rows   []parityRow
	Totals struct {
		parityTokens
		TotalTokens    int64    `json:"totalTokens"`
		TotalCost      float64  `json:"totalCost"`
		UnpricedModels []string `json:"unpricedModels"`
	}
}

type parityTokens struct {
	InputTokens         int64 `json:"inputTokens"`
	OutputTokens        int64 `json:"outputTokens"`
	CacheCreationTokens int64 `json:"cacheCreationTokens"`
	CacheReadTokens     int64 `json:"cacheReadTokens"`
}

type parityRow struct {
	Period string `json:"period"`
	parityTokens
	TotalTokens     int64         `json:"totalTokens"`
	TotalCost       float64       `json:"totalCost"`
	ModelBreakdowns []parityModel `json:"modelBreakdowns"`
}

type parityModel struct {
	ModelName string `json:"modelName"`
	parityTokens
	Cost float64 `json:"cost"`
}

func (t parityTokens) four() [4]int64 {
	return [4]int64{t.InputTokens, t.OutputTokens, t.CacheCreationTokens, t.CacheReadTokens}
}

func (m parityModel) tokens() [4]int64 { return m.four() }

func (r parityRow) tokens() [5]int64 {
	f := r.four()
	return [5]int64{f[0], f[1], f[2], f[3], r.TotalTokens}
}

func (r parityReport) totals() [5]int64 {
	f := r.Totals.four()
	return [5]int64{f[0], f[1], f[2], f[3], r.Totals.TotalTokens}
}

func decodeParity(t *testing.T, p report.Period, out string) parityReport {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("%s --json is not JSON: %v\n%s", p, err, firstLines(out, 20))
	}
	var r parityReport
	if err := json.Unmarshal(raw[string(p)], &r.Rows); err != nil {
		t.Fatalf("%s --json has no %q array: %v\n%s", p, p, err, firstLines(out, 20))
	}
	if err := json.Unmarshal(raw["totals"], &r.Totals); err != nil {
		t.Fatalf("%s --json has no totals: %v", p, err)
	}
	sort.Strings(r.Totals.UnpricedModels)
	return r
}

func firstLines(s string, n int) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for i := 0; i < n && sc.Scan(); i++ {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
