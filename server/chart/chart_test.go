package chart

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// elem is one parsed SVG element: its attributes, its own text, and the text
// of its <title> child.
type elem struct {
	name  string
	attr  map[string]string
	text  string
	title string
}

func (e elem) num(t *testing.T, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(e.attr[name], 64)
	if err != nil {
		t.Fatalf("<%s> %s=%q: %v", e.name, name, e.attr[name], err)
	}
	return v
}

func (e elem) hasClass(c string) bool {
	for _, f := range strings.Fields(e.attr["class"]) {
		if f == c {
			return true
		}
	}
	return false
}

// parse decodes every token of out, failing on malformed XML, and checks what
// every chart must be: one <svg> with a viewBox, role and label, no size of
// its own, and no style or script anywhere.
func parse(t *testing.T, out template.HTML, title string) []elem {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(out)))
	var all []elem
	var stack []int
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, out)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := elem{name: tok.Name.Local, attr: map[string]string{}}
			for _, a := range tok.Attr {
				e.attr[a.Name.Local] = a.Value
			}
			if e.name == "style" || e.name == "script" || e.attr["style"] != "" {
				t.Errorf("inline style or script: %+v", e)
			}
			all = append(all, e)
			stack = append(stack, len(all)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			top := stack[len(stack)-1]
			all[top].text += string(tok)
			if all[top].name == "title" && len(stack) > 1 {
				all[stack[len(stack)-2]].title += string(tok)
			}
		}
	}
	if len(all) == 0 || all[0].name != "svg" {
		t.Fatalf("no <svg> root:\n%s", out)
	}
	root := all[0]
	if root.attr["role"] != "img" || root.attr["aria-label"] != title || !root.hasClass("chart") {
		t.Errorf("root attributes %v, want role=img aria-label=%q class=chart", root.attr, title)
	}
	if !strings.HasPrefix(root.attr["viewBox"], "0 0 ") || root.attr["width"] != "" || root.attr["height"] != "" {
		t.Errorf("root geometry %v, want a viewBox only", root.attr)
	}
	return all
}

func byClass(all []elem, class string) []elem {
	var out []elem
	for _, e := range all {
		if e.hasClass(class) {
			out = append(out, e)
		}
	}
	return out
}

func TestStacked(t *testing.T) {
	c := Stacked{
		Title:  "Cost per day",
		Labels: []string{"d1", "d2", "d3", "d4", "d5"},
		Series: []Series{
			{Name: "ann", Values: []float64{10, 0, 5, 20, 0}},
			{Name: "bob", Values: []float64{5, 15, 0, 10, 0}},
			{Name: "cy", Values: []float64{0, 5, 5, 30, 4}},
		},
		Format: func(v float64) string { return fmt.Sprintf("$%.2f", v) },
	}
	out := c.SVG()
	if out != c.SVG() {
		t.Error("output differs between two calls")
	}
	all := parse(t, out, "Cost per day")
	segs := byClass(all, "seg")

	nonZero := 0
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v != 0 {
				nonZero++
			}
		}
	}
	if len(segs) != nonZero {
		t.Fatalf("%d segments, want %d", len(segs), nonZero)
	}

	seriesIndex := map[string]int{"ann": 0, "bob": 1, "cy": 2}
	labelIndex := map[string]int{"d1": 0, "d2": 1, "d3": 2, "d4": 3, "d5": 4}
	heights := make([]float64, len(c.Labels))
	byLabel := map[string][]elem{}
	for _, s := range segs {
		j, ok := seriesIndex[s.attr["data-series"]]
		i, ok2 := labelIndex[s.attr["data-label"]]
		if !ok || !ok2 {
			t.Fatalf("segment with unknown series or label: %v", s.attr)
		}
		want := c.Series[j].Values[i]
		if s.attr["data-value"] != strconv.FormatFloat(want, 'f', -1, 64) {
			t.Errorf("%v: data-value, want %v", s.attr, want)
		}
		if s.attr["fill"] != Color(j) {
			t.Errorf("%v: fill, want %s", s.attr, Color(j))
		}
		if wantTitle := fmt.Sprintf("%s · %s: $%.2f", c.Labels[i], c.Series[j].Name, want); s.title != wantTitle {
			t.Errorf("title %q, want %q", s.title, wantTitle)
		}
		heights[i] += s.num(t, "height")
		byLabel[s.attr["data-label"]] = append(byLabel[s.attr["data-label"]], s)
	}

	totals := []float64{15, 20, 10, 60, 4}
	for i := range totals {
		got, want := heights[i]/heights[3], totals[i]/totals[3]
		if math.Abs(got/want-1) > 0.005 {
			t.Errorf("label %s: height ratio to the tallest %.4f, want %.4f", c.Labels[i], got, want)
		}
	}

	grid := byClass(all, "grid")
	if len(grid) < 5 {
		t.Fatalf("%d gridlines, want at least 4 above the base", len(grid))
	}
	plotTop, base := math.Inf(1), math.Inf(-1)
	for _, g := range grid {
		plotTop = min(plotTop, g.num(t, "y1"))
		base = max(base, g.num(t, "y1"))
	}
	// On the axis's own scale: the label of the top gridline is its value.
	axisMax := math.NaN()
	for _, e := range byClass(all, "axis") {
		if e.num(t, "y") == plotTop {
			axisMax, _ = strconv.ParseFloat(strings.TrimPrefix(e.text, "$"), 64)
		}
	}
	if axisMax != 100 {
		t.Errorf("axis top %v, want 100 (the next of 1, 2, 2.5, 5 × 10^n above 60)", axisMax)
	}
	for i, total := range totals {
		if want := total / axisMax * (base - plotTop); math.Abs(heights[i]-want) > 0.02 {
			t.Errorf("label %s: stack height %v, want %v on the axis scale", c.Labels[i], heights[i], want)
		}
	}
	for label, stack := range byLabel {
		// Series are drawn bottom to top: each segment sits on the previous one.
		if b := stack[0].num(t, "y") + stack[0].num(t, "height"); math.Abs(b-base) > 0.01 {
			t.Errorf("label %s: stack starts at %v, base is %v", label, b, base)
		}
		for k := 1; k < len(stack); k++ {
			y := stack[k].num(t, "y") + stack[k].num(t, "height")
			if math.Abs(y-stack[k-1].num(t, "y")) > 0.01 {
				t.Errorf("label %s: segment %d ends at %v, the one below starts at %v", label, k, y, stack[k-1].num(t, "y"))
			}
		}
		if y := stack[len(stack)-1].num(t, "y"); y < plotTop {
			t.Errorf("label %s: stack top %v above the plot top %v", label, y, plotTop)
		}
	}

	legend := byClass(all, "legend")
	var names []string
	for _, e := range legend {
		if e.name == "g" {
			names = append(names, e.title)
		}
	}
	if strings.Join(names, ",") != "ann,bob,cy" {
		t.Errorf("legend %v, want ann,bob,cy", names)
	}
	if n := len(byClass(all, "swatch")); n != 3 {
		t.Errorf("%d legend swatches, want 3", n)
	}
}

func TestStackedManyLabels(t *testing.T) {
	for _, n := range []int{1, 2, 13, 400, 1000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			c := Stacked{Title: "t", Series: []Series{{Name: "a"}, {Name: "b"}}}
			for i := range n {
				c.Labels = append(c.Labels, fmt.Sprintf("2026-%04d", i))
				c.Series[0].Values = append(c.Series[0].Values, float64(i%7))
				c.Series[1].Values = append(c.Series[1].Values, 1)
			}
			all := parse(t, c.SVG(), "t")
			var prevEnd float64
			for _, s := range byClass(all, "seg") {
				x, w := s.num(t, "x"), s.num(t, "width")
				if x < stackedLeft || x+w > width-stackedRight+0.01 || w <= 0 {
					t.Fatalf("segment x=%v width=%v outside the plot", x, w)
				}
				if s.attr["data-series"] == "a" {
					if x < prevEnd-0.01 {
						t.Fatalf("bar at %v overlaps the previous one ending at %v", x, prevEnd)
					}
					prevEnd = x + w
				}
			}
			var xLabels []string
			for _, e := range byClass(all, "axis") {
				if strings.HasPrefix(e.text, "2026-") {
					xLabels = append(xLabels, e.text)
					if x := e.num(t, "x"); x < 0 || x > width {
						t.Errorf("x label %q at %v outside the view box", e.text, x)
					}
				}
			}
			if len(xLabels) == 0 || len(xLabels) > stackedXLabels || xLabels[0] != "2026-0000" {
				t.Errorf("x labels %v: want 1 to %d, the first one first", xLabels, stackedXLabels)
			}
		})
	}
}

func TestStackedValuesThatDrawNothing(t *testing.T) {
	c := Stacked{
		Title:  "t",
		Labels: []string{"a", "b", "c"},
		Series: []Series{{Name: "s", Values: []float64{-3, math.NaN(), 2}}, {Name: "short", Values: []float64{1}}},
	}
	segs := byClass(parse(t, c.SVG(), "t"), "seg")
	if len(segs) != 2 {
		t.Fatalf("%d segments, want 2 (c/s and a/short): %v", len(segs), segs)
	}
}

func TestEscaping(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	const title = `Spend "R&D" <team>`
	outs := map[string]template.HTML{
		"stacked": Stacked{Title: title, Labels: []string{"R&D", "a\x01b"}, Series: []Series{{Name: evil, Values: []float64{1, 2}}}}.SVG(),
		"heatmap": Heatmap{Title: title, Rows: []string{"R&D"}, Cols: []string{evil}, Values: [][]float64{{1}}}.SVG(),
		"bars":    Bars{Title: title, Items: []Bar{{Label: evil, Value: 1, Note: "R&D <b>"}}}.SVG(),
		"format":  Bars{Title: title, Items: []Bar{{Label: "x", Value: 1}}, Format: func(float64) string { return evil }}.SVG(),
	}
	for name, out := range outs {
		if strings.Contains(string(out), "<script") || strings.Contains(string(out), "<b>") {
			t.Errorf("%s: raw markup in the output:\n%s", name, out)
		}
		all := parse(t, out, title)
		found := false
		for _, e := range all {
			for _, v := range e.attr {
				found = found || v == evil || v == "R&D"
			}
			found = found || strings.Contains(e.text, evil)
		}
		if !found {
			t.Errorf("%s: the caller's text does not come back from the XML:\n%s", name, out)
		}
	}
	segs := byClass(parse(t, outs["stacked"], title), "seg")
	if len(segs) != 2 || segs[0].attr["data-label"] != "R&D" || segs[0].attr["data-series"] != evil {
		t.Errorf("segments %v", segs)
	}
}

func TestHeatmap(t *testing.T) {
	h := Heatmap{Title: "Activity", Rows: []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}}
	for c := range 24 {
		h.Cols = append(h.Cols, fmt.Sprintf("%02d", c))
	}
	for r := range 7 {
		row := make([]float64, 24)
		for c := range row {
			row[c] = float64(r*24 + c)
		}
		h.Values = append(h.Values, row)
	}
	all := parse(t, h.SVG(), "Activity")
	cells := byClass(all, "cell")
	if len(cells) != 7*24 {
		t.Fatalf("%d cells, want %d", len(cells), 7*24)
	}
	seen := map[string]bool{}
	for _, c := range cells {
		key := c.attr["data-row"] + " " + c.attr["data-col"]
		if seen[key] {
			t.Errorf("cell %s twice", key)
		}
		seen[key] = true
		v := c.num(t, "data-value")
		if c.title != key+": "+shortNumber(v) {
			t.Errorf("title %q, want %q", c.title, key+": "+shortNumber(v))
		}
		switch {
		case v == 0:
			if _, ok := c.attr["fill-opacity"]; ok || c.attr["fill"] != heatZeroFill {
				t.Errorf("zero cell %v: want the grey fill and no opacity", c.attr)
			}
		case v == 167:
			if c.attr["fill-opacity"] != "1" || c.attr["data-row"] != "Sun" || c.attr["data-col"] != "23" {
				t.Errorf("largest cell %v: want Sun 23 at fill-opacity 1", c.attr)
			}
		default:
			o := c.num(t, "fill-opacity")
			if want := 0.08 + 0.92*v/167; math.Abs(o-want) > 0.001 {
				t.Errorf("cell %s: opacity %v, want %v", key, o, want)
			}
		}
	}
	var labels []string
	for _, e := range byClass(all, "axis") {
		labels = append(labels, e.text)
	}
	if got := strings.Join(labels, ","); !strings.Contains(got, "00,") || !strings.Contains(got, "Mon") || !strings.Contains(got, "Sun") {
		t.Errorf("axis labels %s", got)
	}
}

func TestBars(t *testing.T) {
	long := "a label long enough to need truncating at some point"
	b := Bars{Title: "Tools", Items: []Bar{
		{Label: "Bash", Value: 50, Note: "3.2% errors"},
		{Label: long, Value: 100},
		{Label: "Idle", Value: 0},
		{Label: "Broken", Value: math.NaN()},
	}}
	all := parse(t, b.SVG(), "Tools")
	bars := byClass(all, "bar")
	if len(bars) != 4 {
		t.Fatalf("%d bars, want 4", len(bars))
	}
	widths := make([]float64, len(bars))
	for i, e := range bars {
		widths[i] = e.num(t, "width")
	}
	if math.Abs(widths[1]-barsMaxW) > 0.01 || math.Abs(widths[0]/widths[1]-0.5) > 0.005 || widths[2] != 0 || widths[3] != 0 {
		t.Errorf("widths %v, want %v, %v, 0, 0", widths, barsMaxW/2, barsMaxW)
	}
	if bars[1].attr["data-label"] != long || bars[0].attr["data-value"] != "50" {
		t.Errorf("bar attributes %v, %v", bars[0].attr, bars[1].attr)
	}
	labels := byClass(all, "label")
	if got := labels[1].text; utf8.RuneCountInString(got) != barsLabelRunes || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("long label shown as %q, want %d runes ending in …", got, barsLabelRunes)
	}
	if labels[0].text != "Bash" {
		t.Errorf("short label shown as %q", labels[0].text)
	}
	notes := byClass(all, "note")
	if len(notes) != 1 || notes[0].text != "3.2% errors" {
		t.Errorf("notes %v, want one: 3.2%% errors", notes)
	}
	values := byClass(all, "value")
	if values[0].text != "50" || values[1].text != "100" {
		t.Errorf("values %q, %q", values[0].text, values[1].text)
	}
	if x := values[1].num(t, "x"); x > width-barsTextW/2 {
		t.Errorf("value of the longest bar at x=%v leaves no room for a note", x)
	}
}

func TestEmpty(t *testing.T) {
	zeros := [][]float64{{0, 0}, {0, 0}}
	for name, out := range map[string]template.HTML{
		"stacked no labels": Stacked{Title: "e", Series: []Series{{Name: "a"}}}.SVG(),
		"stacked all zero":  Stacked{Title: "e", Labels: []string{"x"}, Series: []Series{{Name: "a", Values: []float64{0}}}}.SVG(),
		"stacked no series": Stacked{Title: "e", Labels: []string{"x"}}.SVG(),
		"heatmap nothing":   Heatmap{Title: "e"}.SVG(),
		"heatmap all zero":  Heatmap{Title: "e", Rows: []string{"a", "b"}, Cols: []string{"1", "2"}, Values: zeros}.SVG(),
		"bars no items":     Bars{Title: "e"}.SVG(),
	} {
		all := parse(t, out, "e")
		if !all[0].hasClass("empty") {
			t.Errorf("%s: svg class %q, want empty", name, all[0].attr["class"])
		}
		msg := byClass(all, "message")
		if len(msg) != 1 || msg[0].text != "No data for this period" || msg[0].attr["text-anchor"] != "middle" {
			t.Errorf("%s: message %v", name, msg)
		}
		if len(all) != 2 {
			t.Errorf("%s: %d elements, want the svg and its message", name, len(all))
		}
	}
}

func TestNiceAxis(t *testing.T) {
	for _, tc := range []struct {
		top, max float64
		steps    int
	}{
		{0.3, 0.5, 5}, {1, 1, 4}, {1.01, 2, 4}, {2.2, 2.5, 5}, {3, 5, 5}, {60, 100, 4}, {20, 20, 4}, {12345, 20000, 4},
	} {
		m, s := niceAxis(tc.top)
		if math.Abs(m-tc.max) > 1e-9*tc.max || s != tc.steps {
			t.Errorf("niceAxis(%v) = %v, %d; want %v, %d", tc.top, m, s, tc.max, tc.steps)
		}
	}
}

func TestShortNumber(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 0.25: "0.25", 0.625: "0.625", 1: "1", 12.5: "12.5", 999: "999", 999.9: "1k", 1234: "1.23k",
		2.5e6: "2.5M", 1e9: "1G", -1500: "-1.5k", 0.30000000000000004: "0.3", 1e15: "1000T",
	} {
		if got := shortNumber(v); got != want {
			t.Errorf("shortNumber(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestColor(t *testing.T) {
	if Color(0) != "#4e79a7" || Color(10) != Color(0) || Color(-1) != Color(9) || Color(1) == Color(0) {
		t.Errorf("palette does not cycle: %s %s %s", Color(0), Color(10), Color(-1))
	}
}

func BenchmarkStacked(b *testing.B) {
	c := Stacked{Title: "Cost per day per user"}
	for i := range 365 {
		c.Labels = append(c.Labels, fmt.Sprintf("2026-%03d", i))
	}
	for s := range 50 {
		v := make([]float64, len(c.Labels))
		for i := range v {
			v[i] = float64((i*7+s*13)%23) * 0.37
		}
		c.Series = append(c.Series, Series{Name: fmt.Sprintf("user%02d@example.com", s), Values: v})
	}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(c.SVG())
	}
	b.ReportMetric(float64(n), "bytes/svg")
}
