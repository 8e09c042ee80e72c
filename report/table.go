package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/claude-insights/insights/store"
)

// WriteTable writes the report as an aligned text table; with breakdown, each
// row is followed by one line per model and one per party that spent it
// (when the report has them).
func (r *Report) WriteTable(w io.Writer, breakdown bool) error {
	if len(r.Rows) == 0 {
		_, err := fmt.Fprintln(w, "No usage found. Run `insights import` first, or widen --since/--until.")
		return err
	}
	first := map[Period]string{Daily: "Date", Weekly: "Week of", Monthly: "Month", Session: "Session"}[r.Period]
	t := table{{first, "Models", "Input", "Output", "Cache write", "Cache read", "Total tokens", "Cost (USD)"}}
	for _, row := range r.Rows {
		models := make([]string, len(row.Models))
		for i, m := range row.Models {
			models[i] = ShortModel(m.Model)
		}
		t = append(t, line(row.Key, strings.Join(models, ", "), row.Tokens, money(row.Cost, allPriced(row.Models))))
		if breakdown {
			for _, m := range row.Models {
				t = append(t, line("", "  "+ShortModel(m.Model), m.Tokens, money(m.Cost, m.Priced)))
			}
			for _, s := range row.SpentBy {
				t = append(t, line("", "  by "+s.Label(), s.Tokens, money(s.Cost, s.Unpriced == 0)))
			}
		}
	}
	t = append(t, line("Total", "", r.Totals.Tokens, money(r.Totals.Cost, len(r.Unpriced) == 0)))
	if err := t.write(w, 2); err != nil {
		return err
	}
	if len(r.Unpriced) > 0 {
		_, err := fmt.Fprintf(w, "* no price known for %s: their cost is not included (set it under [pricing] in the config)\n", strings.Join(r.Unpriced, ", "))
		return err
	}
	return nil
}

// table is rows of cells; the first row is the header.
type table [][]string

func line(key, models string, t store.Tokens, cost string) []string {
	return []string{key, models, Count(t.Input), Count(t.Output), Count(t.CacheWrite()), Count(t.CacheRead), Count(t.Total()), cost}
}

// write prints the table with the first leftCols columns aligned left and
// the rest (numbers) aligned right.
func (t table) write(w io.Writer, leftCols int) error {
	widths := make([]int, len(t[0]))
	for _, row := range t {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, row := range t {
		var l strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				l.WriteString("  ")
			}
			if i < leftCols {
				l.WriteString(c + pad)
			} else {
				l.WriteString(pad + c)
			}
		}
		// Empty cells at the end of a row (a gap's) leave no trailing blanks.
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func allPriced(ms []ModelUsage) bool {
	for _, m := range ms {
		if !m.Priced {
			return false
		}
	}
	return true
}

func money(v float64, priced bool) string {
	s := fmt.Sprintf("$%.2f", v)
	if !priced {
		s += "*"
	}
	return s
}

// Count formats n with thousands separators: 1234567 is "1,234,567".
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
