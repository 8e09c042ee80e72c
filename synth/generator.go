package synth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Models replies are drawn from, with the share of sessions each leads.
var models = []struct {
	id     string
	weight int
}{
	{"claude-opus-4-6", 5},
	{"claude-sonnet-4-5-20250929", 3},
	{"claude-haiku-4-5-20251001", 1},
	{"claude-opus-4-1-20250805", 1},
}

const subagentModel = "claude-haiku-4-5-20251001"

var (
	projects = []string{"/src/app", "/src/api", "/home/dev/tools", "/src/web.site", "/work/data-pipeline", "/src/mobile_client"}
	branches = []string{"main", "main", "feature/search", "fix/config-loader", "release-2.4"}
	versions = []string{"2.0.76", "2.1.12", "2.1.38", "2.1.40"}
)

type generator struct {
	opt     Options
	dir     string
	rng     *rand.Rand
	days    map[string]map[string]Tokens
	exp     *Expected
	prev    *session // the last session written, which the next may resume
	history bytes.Buffer
}

// file is one transcript being written.
type file struct {
	path string
	buf  bytes.Buffer
}

func (g *generator) run() error {
	for g.exp.Bytes < g.opt.Size {
		if err := g.session(); err != nil {
			return err
		}
	}
	return g.write(filepath.Join(g.dir, "history.jsonl"), g.history.Bytes())
}

func (g *generator) write(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// writeTranscript writes a transcript file and counts it.
func (g *generator) writeTranscript(f *file) error {
	g.exp.Files++
	g.exp.Bytes += int64(f.buf.Len())
	return g.write(f.path, f.buf.Bytes())
}

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

func (g *generator) between(lo, hi int64) int64 { return lo + g.rng.Int64N(hi-lo+1) }

// uuid is a random (version 4) UUID from the generator's stream.
func (g *generator) uuid() string {
	a, b := g.rng.Uint64(), g.rng.Uint64()
	a = a&^0xf000 | 0x4000
	b = b&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// token is a random identifier such as Anthropic's message and request ids.
func (g *generator) token(prefix string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = base62[g.rng.IntN(len(base62))]
	}
	return prefix + string(b)
}

func (g *generator) pickModel() string {
	total := 0
	for _, m := range models {
		total += m.weight
	}
	n := g.rng.IntN(total)
	for _, m := range models {
		if n < m.weight {
			return m.id
		}
		n -= m.weight
	}
	return models[0].id
}

// count records a distinct billed reply on the UTC day of at.
func (g *generator) count(model string, at time.Time, u usage) {
	date := at.UTC().Format("2006-01-02")
	day := g.days[date]
	if day == nil {
		day = map[string]Tokens{}
		g.days[date] = day
	}
	t := day[model]
	t.add(u)
	day[model] = t
	g.exp.Totals.add(u)
	g.exp.Features[FeatureDistinctReplies]++
}

// emit appends one record to f, and, in Broken mode, now and then a line
// a reader must skip before it.
func (g *generator) emit(f *file, v any) {
	b := marshal(v)
	if g.opt.Broken && g.chance(0.004) {
		g.brokenLine(f, b)
	}
	if g.opt.Broken && g.chance(0.002) {
		f.buf.WriteString("\n") // blank lines are read and ignored, not counted as broken
		g.exp.Lines++
	}
	f.buf.Write(b)
	f.buf.WriteByte('\n')
	g.exp.Lines++
}

// marshal encodes v as Claude Code does: without escaping <, > and & (Go
// escapes them for HTML by default; JavaScript's JSON.stringify does not).
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err)) // only our own types are marshaled
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func (g *generator) brokenLine(f *file, valid []byte) {
	switch g.rng.IntN(3) {
	case 0: // a record cut short, as a crash leaves it
		f.buf.Write(valid[:1+g.rng.IntN(len(valid)-2)])
	case 1:
		f.buf.WriteString("<<<<<<< HEAD")
	default:
		f.buf.WriteString(`{"type":"assistant","message":{"id":"msg_cut`)
	}
	f.buf.WriteByte('\n')
	g.exp.Lines++
	g.exp.Broken++
}

// usage is the final usage of one reply.
type usage struct {
	Input, Output, CacheCreation, CacheRead int64
	Cache1h                                 int64 // the part of CacheCreation written for an hour
	split                                   bool  // whether lines carry cache_creation
}

func (u usage) json(output int64) usageJSON {
	j := usageJSON{InputTokens: u.Input, CacheCreationInputTokens: u.CacheCreation,
		CacheReadInputTokens: u.CacheRead, OutputTokens: output, ServiceTier: "standard"}
	if u.split {
		j.CacheCreation = &cacheCreation{Ephemeral5m: u.CacheCreation - u.Cache1h, Ephemeral1h: u.Cache1h}
	}
	return j
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// words of generated prose.
var words = strings.Fields(`the a config loader test server handler request session token cache index query
	parse file line error retry timeout build release branch commit merge deploy function value option flag
	report daily model cost reply stream offset import watch database schema migration table column row search
	fix update refactor rename move delete add check read write open close start stop run fails passes returns
	because when after before while so then but also only every each none some most`)

func (g *generator) sentence(n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(words[g.rng.IntN(len(words))])
	}
	sb.WriteByte('.')
	s := sb.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

func (g *generator) prose(sentences int) string {
	parts := make([]string, sentences)
	for i := range parts {
		parts[i] = g.sentence(int(g.between(5, 18)))
	}
	return strings.Join(parts, " ")
}

// code is a Go-looking source file of about n lines.
func (g *generator) code(n int) []string {
	lines := []string{"package " + words[g.rng.IntN(20)], ""}
	for len(lines) < n {
		name := words[g.rng.IntN(len(words))]
		lines = append(lines,
			fmt.Sprintf("func %s%d(v int) int {", name, g.rng.IntN(1000)),
			fmt.Sprintf("\t// %s", g.sentence(6)),
			fmt.Sprintf("\treturn v * %d", g.rng.IntN(100)),
			"}", "")
	}
	return lines
}
