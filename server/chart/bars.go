package chart

import "html/template"

// Bar is one row of a Bars chart.
type Bar struct {
	Label string
	Value float64
	Note  string // shown after the value, e.g. "3.2% errors"
}

// Bars is a horizontal bar chart, one row per item, in the given order.
type Bars struct {
	Title  string
	Items  []Bar
	Format func(float64) string
}

// A row is its label, its bar, then the value and the note; the longest bar
// leaves room for the text after it.
const (
	barsTop, barsRowH, barsBarH = 4.0, 24.0, 16.0
	barsLabelX, barsX           = 8.0, 208.0
	barsTextW                   = 200.0
	barsMaxW                    = width - barsX - barsTextW
	barsLabelRunes              = 28
	barsNoteRunes               = 24
)

// SVG draws the rows. Widths are in proportion to the largest value;
// negative and NaN values draw an empty bar. A chart with items but only zero
// values still lists them.
func (b Bars) SVG() template.HTML {
	if len(b.Items) == 0 {
		return empty("bars", b.Title)
	}
	format := formatOrDefault(b.Format)
	var top float64
	for _, it := range b.Items {
		top = max(top, clean(it.Value))
	}
	scale := 0.0
	if top > 0 {
		scale = barsMaxW / top
	}

	var w writer
	w.open("bars", b.Title, barsTop*2+float64(len(b.Items))*barsRowH)
	for i, it := range b.Items {
		v := clean(it.Value)
		label := escape(it.Label)
		formatted := escape(format(v))
		note := escape(truncate(it.Note, barsNoteRunes))
		mid := barsTop + (float64(i)+0.5)*barsRowH
		bw := v * scale

		w.raw(`<g class="row"><title>`)
		w.raw(label)
		w.raw(": ")
		w.raw(formatted)
		if it.Note != "" {
			w.raw(" · ")
			w.raw(escape(it.Note))
		}
		w.raw("</title>")
		w.text("label", barsLabelX, mid, "start", escape(truncate(it.Label, barsLabelRunes)))
		w.rect("bar", barsX, mid-barsBarH/2, bw, barsBarH)
		w.attr("fill", Color(0))
		w.attr("data-label", label)
		w.raw(` data-value="`)
		w.value(v)
		w.raw(`"/>`)
		w.raw(`<text class="value"`)
		w.numAttr("x", barsX+bw+6)
		w.numAttr("y", mid)
		w.raw(` dy="0.32em" fill="currentColor">`)
		w.raw(formatted)
		if note != "" {
			w.raw(`<tspan class="note" dx="8" fill-opacity="0.7">`)
			w.raw(note)
			w.raw("</tspan>")
		}
		w.raw("</text></g>")
	}
	return w.html()
}
