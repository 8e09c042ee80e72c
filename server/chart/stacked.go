package chart

import (
	"html/template"
	"math"
)

// Series is one stack of a Stacked chart: a value per label.
type Series struct {
	Name   string
	Values []float64 // len == len(Stacked.Labels)
}

// Stacked is a bar chart of one bar per label (e.g. per day), each bar stacked by series (e.g. per user).
type Stacked struct {
	Title  string
	Labels []string             // x axis, in order (e.g. "2026-11-01")
	Series []Series             // bottom to top; Series[i] is drawn in Color(i)
	Format func(float64) string // formats values for the y axis and tooltips; nil: a short number format
}

// The plot area of a Stacked chart; the legend follows below it.
const (
	stackedLeft, stackedRight = 64.0, 16.0
	stackedTop, stackedPlotH  = 12.0, 220.0
	stackedXLabels            = 12
	legendColW, legendRowH    = 176.0, 18.0
	legendRunes               = 22
)

// SVG draws the chart. Negative, NaN and missing values count as zero, and
// zero segments are not drawn.
func (c Stacked) SVG() template.HTML {
	format := formatOrDefault(c.Format)
	n := len(c.Labels)
	totals := make([]float64, n)
	var top float64
	for i := range totals {
		for _, s := range c.Series {
			totals[i] += at(s.Values, i)
		}
		top = max(top, totals[i])
	}
	if n == 0 || top == 0 {
		return empty("stacked", c.Title)
	}

	left, right := stackedLeft, width-stackedRight
	base := stackedTop + stackedPlotH
	legendTop := base + 34
	perRow := int((right - left) / legendColW)
	rows := (len(c.Series) + perRow - 1) / perRow
	height := legendTop + float64(rows)*legendRowH + 4

	var w writer
	w.b.Grow(600 + 220*len(c.Series)*n)
	w.open("stacked", c.Title, height)

	axisMax, steps := niceAxis(top)
	scale := stackedPlotH / axisMax
	for i := range steps + 1 {
		v := axisMax * float64(i) / float64(steps)
		y := base - v*scale
		w.raw(`<line class="grid"`)
		w.numAttr("x1", left)
		w.numAttr("x2", right)
		w.numAttr("y1", y)
		w.numAttr("y2", y)
		w.raw(` stroke="currentColor" stroke-opacity="0.15"/>`)
		w.text("axis", left-6, y, "end", escape(format(v)))
	}

	labels := make([]string, n)
	for i, l := range c.Labels {
		labels[i] = escape(l)
	}
	names := make([]string, len(c.Series))
	// A segment is written in a few pieces, the constant parts of each series
	// and label joined in advance: this loop runs for every (label, series).
	seriesAttrs := make([]string, len(c.Series))
	seriesTitles := make([]string, len(c.Series))
	for j, s := range c.Series {
		names[j] = escape(s.Name)
		seriesAttrs[j] = `" fill="` + Color(j) + `" data-series="` + names[j] + `" data-label="`
		seriesTitles[j] = " · " + names[j] + ": "
	}

	slot := (right - left) / float64(n)
	for i := range n {
		var g writer
		g.raw(`<rect class="seg"`)
		g.numAttr("x", left+float64(i)*slot+slot*0.1)
		g.numAttr("width", slot*0.8)
		g.raw(` y="`)
		start := g.b.String()
		var sum float64
		bottom := round2(base)
		for j, s := range c.Series {
			v := at(s.Values, i)
			if v == 0 {
				continue
			}
			sum += v
			// Each segment starts where the previous one ended, on rounded
			// coordinates, so that stacks neither overlap nor leave gaps.
			y := round2(base - sum*scale)
			w.raw(start)
			w.num(y)
			w.raw(`" height="`)
			w.num(bottom - y)
			w.raw(seriesAttrs[j])
			w.raw(labels[i])
			w.raw(`" data-value="`)
			w.value(v)
			w.raw(`"><title>`)
			w.raw(labels[i])
			w.raw(seriesTitles[j])
			w.raw(escape(format(v)))
			w.raw("</title></rect>")
			bottom = y
		}
	}

	// At most stackedXLabels labels, the first one always, kept inside the view box.
	every := (n + stackedXLabels - 1) / stackedXLabels
	for i := 0; i < n; i += every {
		half := textWidth(c.Labels[i]) / 2
		x := min(max(left+(float64(i)+0.5)*slot, half), width-half)
		w.text("axis", x, base+16, "middle", labels[i])
	}

	for j := range c.Series {
		x := left + float64(j%perRow)*legendColW
		y := legendTop + float64(j/perRow)*legendRowH
		w.raw(`<g class="legend"><title>`)
		w.raw(names[j])
		w.raw("</title>")
		w.rect("swatch", x, y-5, 10, 10)
		w.attr("fill", Color(j))
		w.raw("/>")
		w.text("legend", x+14, y, "start", escape(truncate(c.Series[j].Name, legendRunes)))
		w.raw("</g>")
	}
	return w.html()
}

// niceAxis returns the smallest of 1, 2, 2.5 or 5 × 10^n that is at least
// top, and the number of gridline steps that divide it into round values
// (quarters of 1 and 2, fifths of 2.5 and 5).
func niceAxis(top float64) (float64, int) {
	mag := math.Pow(10, math.Floor(math.Log10(top)))
	for _, f := range []struct {
		factor float64
		steps  int
	}{{1, 4}, {2, 4}, {2.5, 5}, {5, 5}} {
		if f.factor*mag >= top {
			return f.factor * mag, f.steps
		}
	}
	return 10 * mag, 4
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
