// Package redact finds secrets in text and replaces them with [REDACTED:<kind>].
//
// The built-in rules (rules.go) know two sorts of secret: tokens recognizable by
// their shape, mostly a provider's prefix (ghp_, sk-ant-, AKIA, …), and values
// recognizable by their context (an Authorization header, a PASSWORD=
// assignment, the password of a URL, …).
//
// Redact runs over every string of every transcript, so it never runs the
// rules' regexps over a whole text: one pass over the bytes looks up each pair
// of bytes in a table of the rules' trigger literals, and a rule's regexp is
// run only where one of its triggers is, anchored there, so its cost follows
// the candidate and not the text. Text without triggers costs that one pass
// and no allocation.
package redact

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Pattern is a user-added rule from the config: Kind names it, Regexp finds it
// (Go RE2 syntax). If Regexp has a capture group, only the first group is replaced; else the whole match.
type Pattern struct {
	Kind   string
	Regexp string
}

// Finding is one secret found in a string: its kind and byte range [Start, End) in the input.
type Finding struct {
	Kind       string
	Start, End int
}

// Redactor holds the built-in rules and the user's. Safe for concurrent use.
// The zero Redactor, like a nil one, has the built-in rules only.
type Redactor struct {
	extra []userRule
}

// userRule is a compiled Pattern. It has no triggers: its regexp runs over the
// whole text, so each one costs a full regexp scan per string.
type userRule struct {
	kind  string
	re    *regexp.Regexp
	group int
}

// markerPrefix starts every replacement; Marker gives the whole of one.
const markerPrefix = "[REDACTED:"

// kindRE is what a kind must look like, so that a marker is easy to find again.
var kindRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// Marker returns the text that replaces a secret of the given kind.
func Marker(kind string) string { return markerPrefix + kind + "]" }

// New returns a Redactor with the built-in rules and extra. An extra pattern with an empty or
// invalid kind (kind must match ^[a-z0-9][a-z0-9-]{0,39}$) or a regexp that does not compile,
// or that matches the empty string, is an error naming it: fmt.Errorf("redact pattern %q: ...", kind).
func New(extra []Pattern) (*Redactor, error) {
	r := &Redactor{}
	for _, p := range extra {
		if !kindRE.MatchString(p.Kind) {
			return nil, fmt.Errorf("redact pattern %q: kind must match %s", p.Kind, kindRE)
		}
		re, err := regexp.Compile(p.Regexp)
		if err != nil {
			return nil, fmt.Errorf("redact pattern %q: %w", p.Kind, err)
		}
		if re.MatchString("") {
			return nil, fmt.Errorf("redact pattern %q: regexp %q matches the empty string", p.Kind, p.Regexp)
		}
		group := 0
		if re.NumSubexp() > 0 {
			group = 1
		}
		r.extra = append(r.extra, userRule{kind: p.Kind, re: re, group: group})
	}
	return r, nil
}

// Redact returns s with each secret replaced by "[REDACTED:" + kind + "]", and what was found
// (positions in s, in order, non-overlapping). When nothing is found it returns s itself and nil,
// without allocating.
//
// Where two rules find overlapping ranges, the one starting first wins, then the
// longer, then the more specific (the built-in table's order, user patterns
// last). A range that overlaps a marker already in s is never a finding, so
// redacting redacted text finds nothing new.
func (r *Redactor) Redact(s string) (string, []Finding) {
	sc := scanner{s: s}
	sc.run()
	if r != nil {
		for i, u := range r.extra {
			sc.cands = u.find(s, len(builtins)+i, sc.cands)
		}
	}
	if len(sc.cands) == 0 {
		return s, nil
	}
	found := sc.resolve()
	if len(found) == 0 {
		return s, nil
	}
	n := len(s)
	for _, f := range found {
		n += len(markerPrefix) + len(f.Kind) + 1 - (f.End - f.Start)
	}
	var b strings.Builder
	b.Grow(n)
	prev := 0
	for _, f := range found {
		b.WriteString(s[prev:f.Start])
		b.WriteString(markerPrefix)
		b.WriteString(f.Kind)
		b.WriteByte(']')
		prev = f.End
	}
	b.WriteString(s[prev:])
	return b.String(), found
}

// Kinds lists the kinds of the built-in rules, sorted.
func Kinds() []string {
	var kinds []string
	for _, ru := range builtins {
		kinds = append(kinds, ru.kind)
	}
	slices.Sort(kinds)
	return slices.Compact(kinds)
}

// cand is a candidate finding; prio breaks ties between rules, lower first.
type cand struct {
	Finding
	prio int
}

// find appends u's matches in s to cands.
func (u *userRule) find(s string, prio int, cands []cand) []cand {
	for _, m := range u.re.FindAllStringSubmatchIndex(s, -1) {
		lo, hi := m[2*u.group], m[2*u.group+1]
		if lo < 0 || lo == hi {
			continue
		}
		cands = append(cands, cand{Finding{u.kind, lo, hi}, prio})
	}
	return cands
}

// maxRules bounds the built-in table, so that the scanner's per-rule state is
// an array on the stack.
const maxRules = 32

// markerRule is the pseudo-rule of the trigger that finds markers.
const markerRule = -1

// scanner is the state of one Redact call over s.
type scanner struct {
	s       string
	cands   []cand
	markers [][2]int // markers already in s, as [start, end)
	lineEnd int      // end of the line of the last trigger, cached
	// next is, per rule, the end of its last match: a trigger before it is
	// inside that match and has nothing new to say.
	next [maxRules]int
	// tried is, per rule, the start of its last attempt plus one: a rule whose
	// match starts before its trigger (a variable name, a header name) finds the
	// same start from every trigger inside the name.
	tried [maxRules]int
}

// run finds the triggers in s, with one table lookup per byte, and tries
// their rules where they are.
func (sc *scanner) run() {
	s := sc.s
	if len(s) < 2 {
		return
	}
	pair := uint16(s[0])
	for i := 1; i < len(s); i++ {
		pair = pair<<8 | uint16(s[i])
		g := bigrams[pair]
		if g == 0 {
			continue
		}
		p := i - 1
		for _, t := range triggerGroups[g-1] {
			if strings.HasPrefix(s[p:], t.lit) {
				sc.try(t.rule, p)
			}
		}
	}
}

// try runs rule ri where its trigger was found, at p.
func (sc *scanner) try(ri, p int) {
	s := sc.s
	if ri == markerRule {
		sc.marker(p)
		return
	}
	if p < sc.next[ri] {
		return
	}
	ru := &builtins[ri]
	if ru.back == nil && ru.edge != nil && p > 0 && ru.edge.has(s[p-1]) || ru.pre != nil && !ru.pre(s, p) {
		return
	}
	start := p
	if ru.back != nil {
		for start > 0 && p-start < maxBack && ru.back.has(s[start-1]) {
			start--
		}
		if sc.tried[ri] == start+1 {
			return
		}
		sc.tried[ri] = start + 1
	}
	end := len(s)
	if !ru.multiline {
		end = sc.eol(p)
	}
	m := ru.re.FindStringSubmatchIndex(s[start:end])
	if m == nil {
		return
	}
	for i := range m {
		if m[i] >= 0 {
			m[i] += start
		}
	}
	lo, hi, ok := ru.match(s, m, end)
	if !ok || lo >= hi {
		return
	}
	sc.next[ri] = max(m[1], hi)
	sc.cands = append(sc.cands, cand{Finding{ru.kind, lo, hi}, ri})
}

// eol returns the end of the line holding p. Triggers come in order, so the
// last line's end serves every trigger before it.
func (sc *scanner) eol(p int) int {
	if p >= sc.lineEnd {
		if i := strings.IndexByte(sc.s[p:], '\n'); i >= 0 {
			sc.lineEnd = p + i
		} else {
			sc.lineEnd = len(sc.s)
		}
	}
	return sc.lineEnd
}

// marker records the marker starting at p, if it is one: markerPrefix, a kind, "]".
func (sc *scanner) marker(p int) {
	i := p + len(markerPrefix)
	for i < len(sc.s) && kindChars.has(sc.s[i]) {
		i++
	}
	if i == p+len(markerPrefix) || i == len(sc.s) || sc.s[i] != ']' {
		return
	}
	sc.markers = append(sc.markers, [2]int{p, i + 1})
}

// resolve drops the candidates that overlap a marker, then keeps, of
// overlapping ones, the earliest, then the longest, then the most specific.
func (sc *scanner) resolve() []Finding {
	c := sc.cands
	slices.SortFunc(c, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(b.End, a.End), cmp.Compare(a.prio, b.prio))
	})
	var found []Finding
	last, mi := 0, 0
	for _, x := range c {
		// Markers are in order and apart, like the candidates' starts.
		for mi < len(sc.markers) && sc.markers[mi][1] <= x.Start {
			mi++
		}
		if x.Start < last || mi < len(sc.markers) && sc.markers[mi][0] < x.End {
			continue
		}
		found = append(found, x.Finding)
		last = x.End
	}
	return found
}
