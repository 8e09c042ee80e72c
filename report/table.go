package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the report as an aligned text table; with breakdown, each
// row is followed by one line per model.
func (r *Report) WriteTable(w io.Writer, breakdown bool) error {
	if len(r.Rows) == 0 {
		_, err := fmt.Fprintln(w, "No usage found. Run `insights import` first, or widen --since/--until.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	first := map[Period]string{Daily: "Date", Weekly: "Week", Monthly: "Month", Session: "Session"}[r.Period]
	fmt.Fprintf(tw, "%s\tModels\tInput\tOutput\tCache write\tCache read\tTotal tokens\tCost (USD)\t\n", first)
	for _, row := range r.Rows {
		models := make([]string, len(row.Models))
		for i, m := range row.Models {
			models[i] = ShortModel(m.Model)
		}
		writeLine(tw, row.Key, strings.Join(models, ", "), row.Tokens.Input, row.Output, row.CacheWrite(), row.CacheRead, row.Total(), money(row.Cost, allPriced(row.Models)))
		if breakdown {
			for _, m := range row.Models {
				writeLine(tw, "", "└ "+ShortModel(m.Model), m.Input, m.Output, m.CacheWrite(), m.CacheRead, m.Total(), money(m.Cost, m.Priced))
			}
		}
	}
	t := r.Totals
	writeLine(tw, "Total", "", t.Input, t.Output, t.CacheWrite(), t.CacheRead, t.Total(), money(t.Cost, len(r.Unpriced) == 0))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Unpriced) > 0 {
		_, err := fmt.Fprintf(w, "* no price known for %s: their cost is not included (set it under [pricing] in the config)\n", strings.Join(r.Unpriced, ", "))
		return err
	}
	return nil
}

func writeLine(w io.Writer, key, models string, in, out, cw, cr, total int64, cost string) {
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", key, models, Count(in), Count(out), Count(cw), Count(cr), Count(total), cost)
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
