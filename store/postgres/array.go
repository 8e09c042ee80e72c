package postgres

import (
	"database/sql/driver"
	"strings"
)

// textArray is a text[] parameter for the large columns of a batch (message
// text and content, tool inputs and results). It is written into one buffer
// of its exact size and handed to lib/pq as bytes, which it sends as they
// are; pq.StringArray grows its buffer element by element, converts each
// element to bytes and its result back to a string, which lib/pq converts
// again.
type textArray []string

// Value renders the array literal: every element quoted, with its quotes and
// backslashes escaped.
func (a textArray) Value() (driver.Value, error) {
	n := 2 + len(a)*3
	for _, s := range a {
		n += len(s) + strings.Count(s, `"`) + strings.Count(s, `\`)
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, s := range a {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		for {
			j := strings.IndexAny(s, `"\`)
			if j < 0 {
				break
			}
			b = append(b, s[:j]...)
			b = append(b, '\\', s[j])
			s = s[j+1:]
		}
		b = append(b, s...)
		b = append(b, '"')
	}
	b = append(b, '}')
	return b, nil
}
