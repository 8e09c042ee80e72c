package chart

import (
	"html/template"
	"math"
	"strconv"
)

// Heatmap is a grid of cells shaded by value, e.g. weekday × hour.
type Heatmap struct {
	Title  string
	Rows   []string    // e.g. Mon..Sun
	Cols   []string    // e.g. "00".."23"
	Values [][]float64 // [row][col]
	Format func(float64) string
}

const (
	heatTop, heatRight = 24.0, 8.0
	heatRowRunes       = 16
	heatColRunes       = 12
	heatZeroFill       = "#e8e8e8"
	heatMinOpacity     = 0.08
)

// SVG draws the grid. Cells are Color(0) with an opacity from 0.08 to 1 in
// proportion to their value over the largest; zero cells are light grey.
func (h Heatmap) SVG() template.HTML {
	format := formatOrDefault(h.Format)
	var top float64
	for i := range h.Rows {
		for j := range h.Cols {
			top = max(top, h.at(i, j))
		}
	}
	if top == 0 {
		return empty("heatmap", h.Title)
	}

	// Labels are shown truncated; data attributes and tooltips carry them whole.
	rows, rowsShown := make([]string, len(h.Rows)), make([]string, len(h.Rows))
	var labelW float64
	for i, r := range h.Rows {
		rows[i] = escape(r)
		r = truncate(r, heatRowRunes)
		rowsShown[i] = escape(r)
		labelW = max(labelW, textWidth(r))
	}
	cols, colsShown := make([]string, len(h.Cols)), make([]string, len(h.Cols))
	var colW float64
	for j, c := range h.Cols {
		cols[j] = escape(c)
		c = truncate(c, heatColRunes)
		colsShown[j] = escape(c)
		colW = max(colW, textWidth(c)+6)
	}
	left := max(labelW, 24) + 12
	cellW := (width - left - heatRight) / float64(len(h.Cols))
	cellH := min(max(cellW*0.75, 12), 28)
	gap := min(2, cellW*0.1)
	legendY := heatTop + float64(len(h.Rows))*cellH + 16
	height := legendY + 14

	var w writer
	w.b.Grow(1000 + 200*len(h.Rows)*len(h.Cols))
	w.open("heatmap", h.Title, height)

	every := int(math.Ceil(colW / cellW))
	for j := 0; j < len(cols); j += every {
		w.text("axis", left+(float64(j)+0.5)*cellW, heatTop-10, "middle", colsShown[j])
	}
	for i := range rows {
		y := heatTop + float64(i)*cellH
		w.text("axis", left-8, y+cellH/2, "end", rowsShown[i])
		for j := range cols {
			v := h.at(i, j)
			if v == 0 {
				w.rect("cell zero", left+float64(j)*cellW, y, cellW-gap, cellH-gap)
				w.attr("fill", heatZeroFill)
			} else {
				w.rect("cell", left+float64(j)*cellW, y, cellW-gap, cellH-gap)
				w.attr("fill", Color(0))
				w.attr("fill-opacity", opacity(v/top))
			}
			w.attr("data-row", rows[i])
			w.attr("data-col", cols[j])
			w.raw(` data-value="`)
			w.value(v)
			w.raw(`"><title>`)
			w.raw(rows[i])
			w.raw(" ")
			w.raw(cols[j])
			w.raw(": ")
			w.raw(escape(format(v)))
			w.raw("</title></rect>")
		}
	}

	// The scale: zero, five steps of shade, the largest value.
	zero := escape(format(0))
	w.text("legend", left, legendY, "start", zero)
	x := left + textWidth(format(0)) + 6
	for k := range 5 {
		w.rect("swatch", x+float64(k)*14, legendY-6, 12, 12)
		w.attr("fill", Color(0))
		w.attr("fill-opacity", opacity(float64(k+1)/5))
		w.raw("/>")
	}
	w.text("legend", x+5*14+4, legendY, "start", escape(format(top)))
	return w.html()
}

// at is the value of a cell, zero where Values is short.
func (h Heatmap) at(i, j int) float64 {
	if i < len(h.Values) {
		return at(h.Values[i], j)
	}
	return 0
}

// opacity maps a share of the largest value, in (0, 1], to a fill-opacity
// that keeps the smallest values visible.
func opacity(share float64) string {
	o := heatMinOpacity + (1-heatMinOpacity)*share
	return strconv.FormatFloat(math.Round(o*1000)/1000, 'f', -1, 64)
}
