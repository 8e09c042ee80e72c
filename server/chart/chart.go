// Package chart draws the dashboard's charts on the server as SVG, with the
// standard library only. The pages forbid inline styles (style-src 'self')
// and run no JavaScript, so colours are SVG presentation attributes, tooltips
// are <title> elements, and every value is also in a data-* attribute for
// tests and for the stylesheet.
package chart

import (
	"encoding/xml"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Every chart is drawn in a coordinate space this wide; the stylesheet scales
// the <svg> to the page's width.
const width = 960.0

// The palette is Tableau 10: ten colours that stay apart for most readers.
var palette = [...]string{
	"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
	"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
}

// Color returns the colour of the i-th series from a fixed palette of ten, cycling.
func Color(i int) string {
	n := len(palette)
	return palette[(i%n+n)%n]
}

// clean turns what cannot be drawn (negative, NaN, infinite) into zero.
func clean(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 1) {
		return 0
	}
	return v
}

// at is s[i], or zero past its end: callers' slices may be short.
func at(s []float64, i int) float64 {
	if i < len(s) {
		return clean(s[i])
	}
	return 0
}

// formatOrDefault is f, or a short number format when f is nil.
func formatOrDefault(f func(float64) string) func(float64) string {
	if f != nil {
		return f
	}
	return shortNumber
}

// shortNumber writes v with three significant digits and a k, M, G or T
// suffix: 0.25, 12.5, 1.23k, 4M.
func shortNumber(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	const suffixes = "kMGT"
	suffix := ""
	// 999.5 and above would round to "1e+03": that is 1k.
	for i := 0; math.Abs(v) >= 999.5 && i < len(suffixes); i++ {
		v /= 1000
		suffix = suffixes[i : i+1]
	}
	if math.Abs(v) >= 999.5 {
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64) + suffix
	}
	return strconv.FormatFloat(v, 'g', 3, 64) + suffix
}

// escape makes s safe as XML text or attribute value. encoding/xml also
// replaces what XML cannot hold (control characters, invalid UTF-8).
func escape(s string) string {
	for _, r := range s {
		switch {
		case r == '&', r == '<', r == '>', r == '"', r == '\'', r == utf8.RuneError, r < ' ', r >= 0xFFFE && r <= 0xFFFF:
			var b strings.Builder
			_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
			return b.String()
		}
	}
	return s
}

// truncate cuts s to at most n runes, the last one an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for range n - 1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + "…"
}

// textWidth guesses the width of s at the charts' font size, to keep labels
// apart and inside the view box.
func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * 7 }

// writer builds an SVG document. Coordinates are written with at most two
// decimals, so the output is deterministic and compact.
type writer struct {
	b   strings.Builder
	tmp [32]byte // room to format a number without storing a pointer per call
}

// open starts the <svg> element of a chart of the given kind and height.
func (w *writer) open(kind, title string, height float64) {
	w.raw(`<svg xmlns="http://www.w3.org/2000/svg" class="chart `)
	w.raw(kind)
	w.raw(`" viewBox="0 0 `)
	w.num(width)
	w.raw(" ")
	w.num(height)
	w.raw(`" role="img"`)
	w.attr("aria-label", escape(title))
	w.raw(` font-size="12">`)
}

// html closes the <svg> element and returns the document.
func (w *writer) html() template.HTML {
	w.raw("</svg>")
	return template.HTML(w.b.String())
}

func (w *writer) raw(s string) { w.b.WriteString(s) }

// num writes x rounded to two decimals, without trailing zeros. It works on
// integer hundredths because it runs several times per segment of a chart.
func (w *writer) num(x float64) {
	c := math.Round(x * 100)
	if math.IsNaN(c) || math.Abs(c) >= 1<<53 {
		w.b.Write(strconv.AppendFloat(w.tmp[:0], x, 'f', 2, 64))
		return
	}
	n := int64(c)
	if n < 0 {
		w.b.WriteByte('-')
		n = -n
	}
	t := strconv.AppendInt(w.tmp[:0], n/100, 10)
	if f := n % 100; f != 0 {
		t = append(t, '.', byte('0'+f/10))
		if f%10 != 0 {
			t = append(t, byte('0'+f%10))
		}
	}
	w.b.Write(t)
}

// value writes v exactly, as the data-value attributes carry it.
func (w *writer) value(v float64) {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		w.b.Write(strconv.AppendInt(w.tmp[:0], int64(v), 10))
		return
	}
	w.b.Write(strconv.AppendFloat(w.tmp[:0], v, 'f', -1, 64))
}

// attr writes ` name="value"`; value must already be escaped.
func (w *writer) attr(name, value string) {
	w.raw(" ")
	w.raw(name)
	w.raw(`="`)
	w.raw(value)
	w.raw(`"`)
}

func (w *writer) numAttr(name string, x float64) {
	w.raw(" ")
	w.raw(name)
	w.raw(`="`)
	w.num(x)
	w.raw(`"`)
}

// rect writes the start tag of a <rect> up to its geometry; the caller adds
// attributes and closes it.
func (w *writer) rect(class string, x, y, wd, ht float64) {
	w.raw(`<rect class="`)
	w.raw(class)
	w.raw(`"`)
	w.numAttr("x", x)
	w.numAttr("y", y)
	w.numAttr("width", wd)
	w.numAttr("height", ht)
}

// text writes a <text> element whose content is already escaped; anchor is
// "start", "middle" or "end".
func (w *writer) text(class string, x, y float64, anchor, content string) {
	w.raw(`<text class="`)
	w.raw(class)
	w.raw(`"`)
	w.numAttr("x", x)
	w.numAttr("y", y)
	if anchor != "start" {
		w.attr("text-anchor", anchor)
	}
	w.raw(` dy="0.32em" fill="currentColor">`)
	w.raw(content)
	w.raw("</text>")
}

// empty is the chart drawn when there is nothing to draw.
func empty(kind, title string) template.HTML {
	var w writer
	const height = 120
	w.open(kind+" empty", title, height)
	w.text("message", width/2, height/2, "middle", "No data for this period")
	return w.html()
}
