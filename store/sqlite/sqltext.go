package sqlite

import (
	"strings"
)

// sqlText is what the explorer needs to know of a statement's text before
// running it: the named parameters it uses, and whether more than one
// statement follows.
type sqlText struct {
	// Params are the names of its :name, @name and $name parameters, in
	// the order they first appear.
	Params []string
	// More is true when another statement follows the first.
	More bool
	// Empty is true when the text holds no statement, only blanks and
	// comments.
	Empty bool
	// End is where the first statement's last token ends.
	End int
}

// scanSQL reads a statement's text the way SQLite's tokenizer does, as far
// as strings, quoted names and comments go, so that a ';' or a ':' inside
// them counts for nothing.
func scanSQL(q string) sqlText {
	var t sqlText
	seen := map[string]bool{}
	code := false  // a token of the first statement was seen
	ended := false // a ';' followed it
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				i = len(q)
			} else {
				i += end + 1
			}
			continue
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				i = len(q)
			} else {
				i += end + 4
			}
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
			continue
		case c == ';':
			ended = code
			i++
			continue
		}
		// A token: does it start a second statement?
		if ended {
			t.More = true
			return t
		}
		code = true
		switch c {
		case '\'', '"', '`':
			i = closeQuote(q, i, c)
		case '[':
			if end := strings.IndexByte(q[i:], ']'); end >= 0 {
				i += end + 1
			} else {
				i = len(q)
			}
		case ':', '@', '$':
			if c == '$' && i+1 < len(q) && !isNameByte(q[i+1]) {
				i++
				break
			}
			j := i + 1
			for j < len(q) && isNameByte(q[j]) {
				j++
			}
			if name := q[i+1 : j]; name != "" && !seen[name] {
				seen[name] = true
				t.Params = append(t.Params, name)
			}
			i = max(j, i+1)
		default:
			i++
			for i < len(q) && isNameByte(q[i]) && isNameByte(c) {
				i++
			}
		}
		t.End = i
	}
	t.Empty = !code
	return t
}

// closeQuote returns the position after the quote that closes the one at
// i; a doubled quote is part of the text.
func closeQuote(q string, i int, quote byte) int {
	for j := i + 1; j < len(q); j++ {
		if q[j] == quote {
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
