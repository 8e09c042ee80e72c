package server

import (
	"fmt"
	"math"
	"time"

	"github.com/claude-insights/insights/report"
)

// The daily chart is drawn on the server as SVG in a fixed coordinate space
// that the stylesheet scales to the page's width.
const (
	chartW, chartH            = 960.0, 240.0
	chartLeft, chartRight     = 64.0, 8.0
	chartTop, chartBottom     = 10.0, 26.0
	chartMaxDays              = 731 // beyond this, the axis spans the days with usage only
	chartXLabels, chartYLines = 12, 4
)

type usageChart struct {
	W, H      float64
	Left      float64 // where the plot starts, right of the y labels
	Right     float64 // where it ends
	Base      float64 // the y of zero
	YLabelX   float64 // where the y labels end
	XLabelY   float64 // the baseline of the x labels
	Metric    string  // "cost" or "tokens"
	Bars      []chartBar
	Gridlines []chartLine
	XLabels   []chartLabel
}

type chartBar struct {
	Day        string
	X, Y, W, H float64
	Title      string
}

type chartLine struct {
	Y     float64
	Label string
}

type chartLabel struct {
	X     float64
	Label string
}

// dailyChart lays out one bar per day of a daily report, on an axis of every
// day of the range (from the first day with usage or since, to the last or
// until). It charts cost, or tokens when the whole range has no cost.
func dailyChart(r *report.Report, opt report.Options) usageChart {
	day := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	first, last := day(r.Rows[0].Key), day(r.Rows[len(r.Rows)-1].Key)
	from, to := first, last
	if !opt.Since.IsZero() {
		from = day(opt.Since.Format(time.DateOnly))
	}
	if !opt.Until.IsZero() {
		to = day(opt.Until.Format(time.DateOnly))
	}
	if to.Sub(from).Hours()/24 >= chartMaxDays {
		from, to = first, last
	}
	days := int(to.Sub(from).Hours()/24) + 1
	c := usageChart{W: chartW, H: chartH, Left: chartLeft, Right: chartW - chartRight, Base: chartH - chartBottom, Metric: "cost",
		YLabelX: chartLeft - 6, XLabelY: chartH - 8}
	value := func(row report.Row) float64 { return row.Cost }
	format := func(v float64) string { return costLabel(v) }
	if r.Totals.Cost == 0 {
		c.Metric = "tokens"
		value = func(row report.Row) float64 { return float64(row.Total()) }
		format = func(v float64) string { return tokens(int64(v)) }
	}
	var top float64
	for _, row := range r.Rows {
		top = max(top, value(row))
	}
	step, lines := niceStep(top, chartYLines)
	scale := (c.Base - chartTop) / (step * float64(lines))
	for i := 0; i <= lines; i++ {
		v := step * float64(i)
		c.Gridlines = append(c.Gridlines, chartLine{Y: round1(c.Base - v*scale), Label: format(v)})
	}
	slot := (c.Right - c.Left) / float64(days)
	barW := max(slot*0.8, 1)
	for _, row := range r.Rows {
		i := int(day(row.Key).Sub(from).Hours() / 24)
		h := max(value(row)*scale, 1)
		c.Bars = append(c.Bars, chartBar{
			Day: row.Key, X: round1(c.Left + float64(i)*slot + (slot-barW)/2), W: round1(barW),
			Y: round1(c.Base - h), H: round1(h),
			Title: fmt.Sprintf("%s: $%.2f, %s tokens", row.Key, row.Cost, tokens(row.Total())),
		})
	}
	every := (days + chartXLabels - 1) / chartXLabels
	for i := 0; i < days; i += every {
		d := from.AddDate(0, 0, i)
		label := d.Format("Jan 2")
		if days > 120 {
			label = d.Format("Jan 2006")
		}
		c.XLabels = append(c.XLabels, chartLabel{X: round1(c.Left + (float64(i)+0.5)*slot), Label: label})
	}
	return c
}

// niceStep divides [0, top] into at most n steps of 1, 2 or 5 times a power
// of ten, and says how many steps reach top.
func niceStep(top float64, n int) (float64, int) {
	if top <= 0 {
		return 1, 1
	}
	raw := top / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, f := range []float64{1, 2, 5} {
		if f*mag >= raw {
			step = f * mag
			break
		}
	}
	return step, int(math.Ceil(top/step - 1e-9))
}

func costLabel(v float64) string {
	if v != 0 && v < 1 {
		return fmt.Sprintf("$%.2f", v)
	}
	if v < 100 && v != math.Trunc(v) {
		return fmt.Sprintf("$%.1f", v)
	}
	return fmt.Sprintf("$%.0f", v)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
