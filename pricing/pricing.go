// Package pricing prices token usage: an embedded table of list prices by
// model, with a fallback on the model family, that the config can override.
package pricing

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"sort"
	"strings"

	"github.com/claude-insights/insights/store"
)

// Price is what a model charges, in USD per million tokens.
type Price struct {
	Input        float64 `toml:"input"`
	Output       float64 `toml:"output"`
	CacheWrite5m float64 `toml:"cache_write_5m"`
	CacheWrite1h float64 `toml:"cache_write_1h"`
	CacheRead    float64 `toml:"cache_read"`
	// LongContext, when set, applies to the whole request once its prompt
	// (input, cache writes and cache reads) exceeds LongContextThreshold tokens.
	LongContext *Price `toml:"long_context"`
}

// LongContextThreshold is the prompt size above which long-context prices apply.
const LongContextThreshold = 200_000

// family matches model ids by pattern, after normalization.
type family struct {
	name    string
	pattern *regexp.Regexp
	price   Price
}

var (
	opusNew  = Price{Input: 5, Output: 25, CacheWrite5m: 6.25, CacheWrite1h: 10, CacheRead: 0.50}
	opusOld  = Price{Input: 15, Output: 75, CacheWrite5m: 18.75, CacheWrite1h: 30, CacheRead: 1.50}
	sonnetLC = Price{Input: 6, Output: 22.50, CacheWrite5m: 7.50, CacheWrite1h: 12, CacheRead: 0.60}
	sonnet4  = Price{Input: 3, Output: 15, CacheWrite5m: 3.75, CacheWrite1h: 6, CacheRead: 0.30, LongContext: &sonnetLC}
	sonnet3  = Price{Input: 3, Output: 15, CacheWrite5m: 3.75, CacheWrite1h: 6, CacheRead: 0.30}
	haiku45  = Price{Input: 1, Output: 5, CacheWrite5m: 1.25, CacheWrite1h: 2, CacheRead: 0.10}
	haiku35  = Price{Input: 0.80, Output: 4, CacheWrite5m: 1, CacheWrite1h: 1.6, CacheRead: 0.08}
	opus3    = Price{Input: 15, Output: 75, CacheWrite5m: 18.75, CacheWrite1h: 30, CacheRead: 1.50}
	haiku3   = Price{Input: 0.25, Output: 1.25, CacheWrite5m: 0.30, CacheWrite1h: 0.50, CacheRead: 0.03}
	// opusFast is Opus 4.6's fast mode: six times its standard rates, with
	// no long-context tier.
	opusFast  = Price{Input: 30, Output: 150, CacheWrite5m: 37.50, CacheWrite1h: 60, CacheRead: 3}
	defFamily = []family{
		{"opus 4.5 and later", regexp.MustCompile(`^(opus-4-([5-9]|\d\d)|opus-[5-9])(-|$)`), opusNew},
		{"opus 4 and 4.1", regexp.MustCompile(`^opus-4(-[01])?(-|$)`), opusOld},
		{"sonnet 4 and later", regexp.MustCompile(`^sonnet-([4-9])(-|$)`), sonnet4},
		{"haiku 4.5 and later", regexp.MustCompile(`^haiku-(4-([5-9])|[5-9])(-|$)`), haiku45},
		{"haiku 3.5", regexp.MustCompile(`^3-5-haiku(-|$)`), haiku35},
		{"sonnet 3.5 and 3.7", regexp.MustCompile(`^3-[57]-sonnet(-|$)`), sonnet3},
		{"claude 3 sonnet", regexp.MustCompile(`^3-sonnet(-|$)`), sonnet3},
		{"claude 3 opus", regexp.MustCompile(`^3-opus(-|$)`), opus3},
		{"claude 3 haiku", regexp.MustCompile(`^3-haiku(-|$)`), haiku3},
	}
	// defExact prices models by normalized id, before the families: the fast
	// modes that have published rates.
	defExact   = map[string]Price{"opus-4-6-fast": opusFast}
	dateSuffix = regexp.MustCompile(`-\d{8}$`)
)

// Table looks up prices by model id.
type Table struct {
	exact    map[string]Price
	families []family
}

// Default returns the embedded table of list prices.
func Default() *Table {
	exact := make(map[string]Price, len(defExact))
	for k, v := range defExact {
		exact[k] = v
	}
	return &Table{exact: exact, families: defFamily}
}

// WithOverrides returns a table where the given model ids (exact, or in the
// normalized form without the "claude-" prefix and date suffix) have the
// given prices, before any family fallback.
func (t *Table) WithOverrides(over map[string]Price) *Table {
	n := &Table{exact: make(map[string]Price, len(t.exact)+len(over)), families: t.families}
	for k, v := range t.exact {
		n.exact[k] = v
	}
	for k, v := range over {
		n.exact[k] = v
	}
	return n
}

// tableVersion changes whenever the embedded prices or family rules change,
// so that stored costs are recomputed.
const tableVersion = "2026-11-2"

// Fingerprint identifies the prices of the table: equal fingerprints price
// every reply alike.
func (t *Table) Fingerprint() string {
	keys := make([]string, 0, len(t.exact))
	for k := range t.exact {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	h.Write([]byte(tableVersion))
	for _, k := range keys {
		b, _ := json.Marshal(t.exact[k]) // a struct of floats always marshals
		h.Write([]byte("\x00" + k + "\x00"))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Lookup returns the price of a model: an exact id first, then its
// normalized id, then its family. A fast-mode model ("<id>-fast") has a price
// only when the table names it: its rates differ from the family's.
func (t *Table) Lookup(model string) (Price, bool) {
	if p, ok := t.exact[model]; ok {
		return p, true
	}
	norm := Normalize(model)
	if p, ok := t.exact[norm]; ok {
		return p, true
	}
	if strings.HasSuffix(norm, "-fast") {
		return Price{}, false
	}
	for _, f := range t.families {
		if f.pattern.MatchString(norm) {
			return f.price, true
		}
	}
	return Price{}, false
}

// Normalize strips what varies between providers and releases of one model:
// a Bedrock or Vertex prefix, "claude-", a "@date" or "-YYYYMMDD" suffix and a
// Bedrock "-v1:0" version.
func Normalize(model string) string {
	m := strings.ToLower(model)
	if i := strings.LastIndex(m, "anthropic."); i >= 0 {
		m = m[i+len("anthropic."):]
	}
	if i := strings.IndexByte(m, '@'); i >= 0 {
		m = m[:i]
	}
	if i := strings.Index(m, "-v1"); i >= 0 {
		m = m[:i]
	}
	m = strings.TrimPrefix(m, "claude-")
	fast := strings.HasSuffix(m, "-fast")
	m = strings.TrimSuffix(m, "-fast")
	m = dateSuffix.ReplaceAllString(m, "")
	if fast {
		m += "-fast"
	}
	return m
}

// Cost prices tokens for one request of a model; ok is false when the model
// has no price.
func (t *Table) Cost(model string, tok store.Tokens) (cost float64, ok bool) {
	p, ok := t.Lookup(model)
	if !ok {
		return 0, false
	}
	if p.LongContext != nil && tok.Input+tok.CacheWrite()+tok.CacheRead > LongContextThreshold {
		p = *p.LongContext
	}
	return (float64(tok.Input)*p.Input +
		float64(tok.Output)*p.Output +
		float64(tok.CacheWrite5m)*p.CacheWrite5m +
		float64(tok.CacheWrite1h)*p.CacheWrite1h +
		float64(tok.CacheRead)*p.CacheRead) / 1e6, true
}
