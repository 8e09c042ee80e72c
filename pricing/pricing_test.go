package pricing

import (
	"math"
	"testing"

	"github.com/claude-insights/insights/store"
)

func TestLookupFamilies(t *testing.T) {
	tab := Default()
	for _, tc := range []struct {
		model string
		want  *Price
	}{
		{"claude-opus-4-6", &opusNew},
		{"claude-opus-4-5-20251101", &opusNew},
		{"claude-opus-4-1-20250805", &opusOld},
		{"claude-opus-4-20250514", &opusOld},
		{"claude-sonnet-4-5-20250929", &sonnet4},
		{"claude-sonnet-4", &sonnet4},
		{"claude-sonnet-4-20250514", &sonnet4},
		{"us.anthropic.claude-sonnet-4-5-20250929-v1:0", &sonnet4},
		{"claude-sonnet-4-5@20250929", &sonnet4},
		{"claude-haiku-4-5-20251001", &haiku45},
		{"claude-3-5-haiku-20241022", &haiku35},
		{"claude-3-7-sonnet-20250219", &sonnet3},
		{"claude-3-5-sonnet-20241022", &sonnet3},
		{"claude-3-sonnet-20240229", &sonnet3},
		{"claude-3-opus-20240229", &opus3},
		{"claude-3-haiku-20240307", &haiku3},
		{"claude-mystery-9", nil},
		{"claude-opus-4-6-fast", &opusFast},
		{"claude-opus-4-5-fast", nil},
		{"gpt-5", nil},
		{"", nil},
	} {
		got, ok := tab.Lookup(tc.model)
		if ok != (tc.want != nil) {
			t.Errorf("Lookup(%q) ok = %v, want %v", tc.model, ok, tc.want != nil)
			continue
		}
		if ok && (got.Input != tc.want.Input || got.Output != tc.want.Output || got.CacheWrite1h != tc.want.CacheWrite1h) {
			t.Errorf("Lookup(%q) = %+v, want %+v", tc.model, got, *tc.want)
		}
	}
}

func TestOverrides(t *testing.T) {
	tab := Default().WithOverrides(map[string]Price{
		"opus-4-6":                 {Input: 1},
		"claude-3-sonnet-20240229": {Input: 3, Output: 15},
		"claude-opus-4-6-fast":     {Input: 30},
	})
	if p, _ := tab.Lookup("claude-opus-4-6"); p.Input != 1 {
		t.Errorf("normalized override not applied: %+v", p)
	}
	if p, ok := tab.Lookup("claude-3-sonnet-20240229"); !ok || p.Output != 15 {
		t.Errorf("exact override not applied: %+v %v", p, ok)
	}
	if p, ok := tab.Lookup("claude-opus-4-6-fast"); !ok || p.Input != 30 {
		t.Errorf("fast override not applied: %+v %v", p, ok)
	}
	if p, _ := Default().Lookup("claude-opus-4-6"); p.Input != 5 {
		t.Errorf("override leaked into the default table: %+v", p)
	}
}

func TestCost(t *testing.T) {
	tab := Default()
	tok := store.Tokens{Input: 1_000_000, Output: 1_000_000, CacheWrite5m: 1_000_000, CacheWrite1h: 1_000_000, CacheRead: 1_000_000}
	cost, ok := tab.Cost("claude-opus-4-6", tok)
	if want := 5 + 25 + 6.25 + 10 + 0.5; !ok || math.Abs(cost-want) > 1e-9 {
		t.Errorf("opus cost = %v, want %v", cost, want)
	}
	// Sonnet 4.5 over 200k prompt tokens: the whole request at long-context prices.
	small := store.Tokens{Input: 100_000, Output: 1000}
	big := store.Tokens{Input: 100_000, CacheRead: 100_001, Output: 1000}
	if c, _ := tab.Cost("claude-sonnet-4-5", small); math.Abs(c-(0.3+0.015)) > 1e-9 {
		t.Errorf("sonnet small = %v", c)
	}
	if c, _ := tab.Cost("claude-sonnet-4-5", big); math.Abs(c-(0.6+0.0225+100_001*0.6/1e6)) > 1e-9 {
		t.Errorf("sonnet long context = %v", c)
	}
	// Opus 4.6's fast mode: six times the rates, no long-context tier.
	if c, _ := tab.Cost("claude-opus-4-6-fast", big); math.Abs(c-(3+0.15+100_001*3/1e6)) > 1e-9 {
		t.Errorf("opus fast = %v", c)
	}
	if _, ok := tab.Cost("claude-mystery-9", tok); ok {
		t.Error("unknown model priced")
	}
}

func TestFingerprint(t *testing.T) {
	a := Default().Fingerprint()
	if a != Default().Fingerprint() {
		t.Error("fingerprint not stable")
	}
	b := Default().WithOverrides(map[string]Price{"opus-4-6": {Input: 1}}).Fingerprint()
	c := Default().WithOverrides(map[string]Price{"opus-4-6": {Input: 2}}).Fingerprint()
	if a == b || b == c {
		t.Errorf("fingerprints do not tell prices apart: %s %s %s", a, b, c)
	}
}
