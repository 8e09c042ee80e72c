package server_test

import (
	"strings"
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
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`[...document.querySelectorAll("svg.usage-chart rect.bar")].filter(r => r.getBoundingClientRect().height > 0).length`))
	if err != nil || bars != 3 {
		t.Errorf("%d bars drawn (%v), want 3", bars, err)
	}
	fill, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector("svg.usage-chart rect.bar")).fill`))
	if err != nil || fill == "" || fill == "rgb(0, 0, 0)" {
		t.Errorf("bars are filled with %q (%v): the stylesheet does not reach them", fill, err)
	}
	browser.Screenshot(t, ctx, "usage")
	log := browser.Events(ctx)
	if d, e := log.Dialogs(), log.Exceptions(); len(d) > 0 || len(e) > 0 {
		t.Errorf("dialogs %q, exceptions %q; want none", d, e)
	}
	for _, c := range log.Console() {
		if strings.Contains(c, "Content Security Policy") || strings.Contains(c, "error") {
			t.Errorf("console: %s", c)
		}
	}
}
