package store

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SearchQuery asks for the messages matching a full-text query.
//
// The query language, the same on every driver:
//   - words: every word must occur (case-insensitive, whole words);
//   - "a phrase": the words in this order, next to each other;
//   - prefix*: any word starting with prefix;
//   - -word, -"a phrase": must not occur (at least one term must be positive).
//
// Words are runs of letters and digits; everything else separates them, so
// "config/load.go" is the phrase "config load go".
type SearchQuery struct {
	Text string
	// Filters; zero values match everything.
	Project   string // the session's working directory, exactly or by its last elements
	SessionID string
	UserID    int64  // the sessions of one team member (0: every session)
	Role      string // user, assistant or system
	Tool      string // messages that call this tool or carry its result
	Since     time.Time
	Until     time.Time
	// Limit (default 20, at most 200) and Offset page through the hits,
	// best first.
	Limit  int
	Offset int
}

// SearchResult is one page of hits and how many there are in all.
type SearchResult struct {
	Hits  []SearchHit `json:"hits"`
	Total int64       `json:"total"`
}

// SearchHit is a message matching a query.
type SearchHit struct {
	UUID      string    `json:"uuid"`
	SessionID string    `json:"sessionId"`
	Seq       int64     `json:"seq"`
	AgentID   string    `json:"agentId,omitempty"` // the subagent whose message it is
	Role      string    `json:"role"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Project   string    `json:"project"`
	Title     string    `json:"title"` // the session's title
	// Snippet is the best passage of the message's text, with the matched
	// words marked.
	Snippet []Fragment `json:"snippet"`
}

// Fragment is a piece of a snippet; Match marks a matched word.
type Fragment struct {
	Text  string `json:"text"`
	Match bool   `json:"match,omitempty"`
}

// QueryError is a query that cannot be understood; its message is meant
// for the user.
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return "search query: " + e.Msg }

// IsQueryError reports whether err is a malformed query.
func IsQueryError(err error) bool {
	var qe *QueryError
	return errors.As(err, &qe)
}

// Term is one term of a parsed query: a word (one element), or a phrase.
type Term struct {
	Words  []string // lower case
	Prefix bool     // the last word is a prefix
	Negate bool
}

// MaxSearchTerms caps the terms of one query.
const MaxSearchTerms = 32

// ParseSearch parses a query (see SearchQuery).
func ParseSearch(q string) ([]Term, error) {
	var terms []Term
	positive := false
	for i := 0; i < len(q); {
		r, n := utf8.DecodeRuneInString(q[i:])
		if unicode.IsSpace(r) {
			i += n
			continue
		}
		var t Term
		if r == '-' {
			t.Negate = true
			i += n
		}
		var raw string
		if i < len(q) && q[i] == '"' {
			end := strings.IndexByte(q[i+1:], '"')
			if end < 0 {
				return nil, &QueryError{Msg: "a quote is not closed"}
			}
			raw = q[i+1 : i+1+end]
			i += end + 2
		} else {
			end := strings.IndexFunc(q[i:], unicode.IsSpace)
			if end < 0 {
				end = len(q) - i
			}
			raw = q[i : i+end]
			i += end
		}
		if strings.HasSuffix(raw, "*") {
			t.Prefix = true
			raw = strings.TrimRight(raw, "*")
		}
		t.Words = SearchWords(raw)
		if len(t.Words) == 0 {
			if t.Prefix {
				return nil, &QueryError{Msg: "a * must follow a word"}
			}
			continue // punctuation alone matches nothing and everything
		}
		if !t.Negate {
			positive = true
		}
		terms = append(terms, t)
		if len(terms) > MaxSearchTerms {
			return nil, &QueryError{Msg: fmt.Sprintf("more than %d terms", MaxSearchTerms)}
		}
	}
	if len(terms) == 0 {
		return nil, &QueryError{Msg: "nothing to search for"}
	}
	if !positive {
		return nil, &QueryError{Msg: "only excluded terms: say what to search for too"}
	}
	return terms, nil
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// SearchWords splits text into lower-case words: runs of letters and digits.
func SearchWords(text string) []string { return slices.Collect(Words(text)) }

// Words yields the words of text as SearchWords splits them.
func Words(text string) iter.Seq[string] {
	return func(yield func(string) bool) {
		start := -1
		for i, r := range text {
			if isWordRune(r) {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 {
				if !yield(strings.ToLower(text[start:i])) {
					return
				}
				start = -1
			}
		}
		if start >= 0 {
			yield(strings.ToLower(text[start:]))
		}
	}
}

// MaxSearchBytes caps the text of one message that is indexed.
const MaxSearchBytes = 256 << 10

// snippetWords is the length of a snippet around its first match.
const snippetWords = 24

// Snippet picks the passage of text around the first match of the query's
// positive terms and marks every matched word in it. Without a match it is
// the start of the text.
func Snippet(text string, terms []Term) []Fragment {
	text = SearchBody(text)
	type word struct{ start, end int }
	var words []word
	start := -1
	for i, r := range text {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			words = append(words, word{start, i})
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, word{start, len(text)})
	}
	lower := make([]string, len(words))
	for i, w := range words {
		lower[i] = strings.ToLower(text[w.start:w.end])
	}
	match := make([]bool, len(words))
	first := -1
	for _, t := range terms {
		if t.Negate {
			continue
		}
		for i := 0; i+len(t.Words) <= len(words); i++ {
			if !termAt(lower, i, t) {
				continue
			}
			for j := range t.Words {
				match[i+j] = true
			}
			if first < 0 || i < first {
				first = i
			}
		}
	}
	from := max(0, first-snippetWords/3)
	to := min(len(words), from+snippetWords)
	if len(words) == 0 {
		return []Fragment{{Text: clip(text, 200)}}
	}
	var out []Fragment
	pos := words[from].start
	if from > 0 {
		out = append(out, Fragment{Text: "…"})
	}
	for i := from; i < to; i++ {
		if !match[i] {
			continue
		}
		if words[i].start > pos {
			out = append(out, Fragment{Text: text[pos:words[i].start]})
		}
		out = append(out, Fragment{Text: text[words[i].start:words[i].end], Match: true})
		pos = words[i].end
	}
	end := words[to-1].end
	if end > pos {
		out = append(out, Fragment{Text: text[pos:end]})
	}
	if to < len(words) {
		out = append(out, Fragment{Text: "…"})
	}
	return out
}

func termAt(words []string, i int, t Term) bool {
	for j, w := range t.Words {
		last := j == len(t.Words)-1
		if last && t.Prefix {
			if !strings.HasPrefix(words[i+j], w) {
				return false
			}
		} else if words[i+j] != w {
			return false
		}
	}
	return true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// SearchBody is the part of a message's search text that is indexed: at
// most MaxSearchBytes, cut on a character boundary.
func SearchBody(s string) string {
	if len(s) <= MaxSearchBytes {
		return s
	}
	n := MaxSearchBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Default and largest number of hits on one page.
const (
	DefaultSearchLimit = 20
	MaxSearchLimit     = 200
)

// SearchPage is the limit and offset of a query, with defaults applied.
func SearchPage(q SearchQuery) (limit, offset int) {
	limit = q.Limit
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	return min(limit, MaxSearchLimit), max(q.Offset, 0)
}
