// Package push sends a solo install's transcripts to a team server: the
// lines the server lacks, reduced to the user's share level and with
// secrets redacted before they leave the machine.
package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/claude-insights/insights/redact"
	"github.com/claude-insights/insights/store"
)

// Rewriter turns a transcript line into what is sent: only what the share
// level lets out, every string value redacted.
type Rewriter struct {
	Level    store.ShareLevel
	Redactor *redact.Redactor
}

// Redactions counts the secrets redacted, by kind.
type Redactions map[string]int

// Add counts o's redactions in r.
func (r Redactions) Add(o Redactions) {
	for k, n := range o {
		r[k] += n
	}
}

// Total is the number of redactions of every kind.
func (r Redactions) Total() int {
	n := 0
	for _, c := range r {
		n += c
	}
	return n
}

var utf8BOM = []byte("\ufeff")

// errNotRecord is a line that is not a JSON object: it is not sent.
var errNotRecord = errors.New("not a JSON object")

// Line rewrites one line (without its newline) and returns it with a
// newline, the session it belongs to, and the redactions made in found.
// A line that is not a JSON object is an error: its text is not sent at
// all, since it cannot be redacted field by field.
func (rw *Rewriter) Line(line []byte, found Redactions) (out []byte, session string, err error) {
	line = bytes.TrimSpace(bytes.TrimPrefix(line, utf8BOM))
	if len(line) == 0 {
		return []byte("\n"), "", nil
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, "", fmt.Errorf("%w: %v", errNotRecord, err)
	}
	if dec.More() {
		return nil, "", fmt.Errorf("%w: text after the object", errNotRecord)
	}
	rec, ok := v.(map[string]any)
	if !ok {
		return nil, "", errNotRecord
	}
	session, _ = rec["sessionId"].(string)
	switch rw.Level {
	case store.ShareNone:
		rec = usageOnly(rec)
	case store.ShareMetadata:
		rec = metadataOnly(rec)
	}
	mapStrings(rec, func(s string) string { return rw.redactString(s, found) })
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, "", fmt.Errorf("encode line: %w", err)
	}
	return b.Bytes(), session, nil
}

// plainKeys hold identifiers, names of types and binary data, never
// secrets: they are sent as they are, so that no rule can break a
// session's ids or an image.
var plainKeys = map[string]bool{
	"type": true, "subtype": true, "uuid": true, "parentUuid": true, "logicalParentUuid": true, "leafUuid": true,
	"sessionId": true, "requestId": true, "agentId": true, "id": true, "tool_use_id": true,
	"parentToolUseID": true, "messageId": true, "signature": true, "timestamp": true, "version": true,
	"model": true, "role": true, "media_type": true,
}

// mapStrings replaces each string of v that a push redacts with f's
// result, in place, and returns v.
func mapStrings(v any, f func(string) string) any {
	switch v := v.(type) {
	case map[string]any:
		base64Data := v["type"] == "base64"
		for k, e := range v {
			if plainKeys[k] || (base64Data && k == "data") {
				continue
			}
			v[k] = mapStrings(e, f)
		}
	case []any:
		for i, e := range v {
			v[i] = mapStrings(e, f)
		}
	case string:
		return f(v)
	}
	return v
}

func (rw *Rewriter) redactString(s string, found Redactions) string {
	if rw.Redactor == nil {
		return s
	}
	out, fs := rw.Redactor.Redact(s)
	for _, f := range fs {
		found[f.Kind]++
	}
	return out
}

// Secret is a secret found in a line: its kind and a preview that shows
// no more than its first characters.
type Secret struct {
	Kind    string
	Preview string
}

// Find lists the secrets a push would redact in line: in the string values
// of a transcript record, or in the text of any other line.
func Find(rd *redact.Redactor, line string) []Secret {
	var out []Secret
	collect := func(s string) {
		_, fs := rd.Redact(s)
		for _, f := range fs {
			out = append(out, Secret{Kind: f.Kind, Preview: preview(s[f.Start:f.End])})
		}
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		collect(line)
		return out
	}
	mapStrings(v, func(s string) string { collect(s); return s })
	return out
}

// preview shows the first characters of a secret and its length.
func preview(s string) string {
	n := utf8.RuneCountInString(s)
	keep := min(4, n/4)
	r := []rune(s)
	return fmt.Sprintf("%s… (%d characters)", strings.ReplaceAll(string(r[:keep]), "\n", " "), n)
}
