package render

import "unicode/utf8"

// Truncate returns the longest prefix of s that is at most max bytes and
// ends on a rune boundary, and whether anything was cut, so a page can show
// the head of a long text with a "show all" link.
func Truncate(s string, max int) (head string, truncated bool) {
	if len(s) <= max {
		return s, false
	}
	if max <= 0 {
		return "", true
	}
	cut := max
	// A rune is at most utf8.UTFMax bytes; in invalid UTF-8 a run of
	// continuation bytes can be longer, and then any cut is as good as
	// another, so the search stops after a rune's width.
	for i := 0; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut], true
}
