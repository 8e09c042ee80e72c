package server_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/claude-insights/insights/internal/browser"
)

// The usage page draws its chart without a script, under the page's
// Content-Security-Policy, and the bars have a size.
func TestBrowserUsage(t *testing.T) {
	ts := newServer(t)
	ctx := browser.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/usage"), chromedp.WaitVisible(chromedp.CSS("svg.usage-chart"))); err != nil {
		browser.Screenshot(t, ctx, "failed")
		t.Fatalf("open the usage page: %v", err)
	}
	// One bar drawn for each day with usage (the fixtures have three), in
	// order, each taller the more it cost.
	days, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll("svg.usage-chart rect.bar")].filter(r => r.getBoundingClientRect().height > 0).map(r => r.dataset.day).join(",")`))
	if err != nil || days != "2026-02-10,2026-02-11,2026-03-01" {
		t.Errorf("bars drawn for %q (%v), want the three days with usage", days, err)
	}
	taller, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function () {
		var h = d => document.querySelector('rect.bar[data-day="' + d + '"]').getBoundingClientRect().height;
		return h("2026-02-10") > h("2026-02-11") && h("2026-02-11") > h("2026-03-01");
	})()`))
	if err != nil || !taller {
		t.Errorf("the bars' heights do not follow the days' costs ($0.20, $0.14, $0.00) (%v)", err)
	}
	fill, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector("svg.usage-chart rect.bar")).fill`))
	if err != nil || fill == "" || fill == "rgb(0, 0, 0)" {
		t.Errorf("bars are filled with %q (%v): the stylesheet does not reach them", fill, err)
	}
	browser.Screenshot(t, ctx, "usage")
	quiet(t, ctx)
}
