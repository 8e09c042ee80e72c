package server_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/claude-insights/insights/internal/browser"
	"github.com/claude-insights/insights/store"
)

// In the explorer: a canned query opened from the index, its CSV
// downloaded, a row followed into the replay UI; and a query of one's own
// run from the keyboard.
func TestBrowserExplorer(t *testing.T) {
	// One database behind both servers, as in the daemon.
	db, ex := explorerDB(t, store.ExploreLimits{}, trees...)
	replay := serve(t, db)
	ts := serveExplorer(t, ex, replay.URL)

	ctx := browser.New(t)
	fail := func(what string, err error) {
		t.Helper()
		t.Logf("%s: %v", what, err)
		browser.Screenshot(t, ctx, "failed")
		t.Fatalf("%s: %v", what, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#queries"))); err != nil {
		fail("open the index", err)
	}
	browser.Screenshot(t, ctx, "index")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/queries/costliest-sessions"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.results"))); err != nil {
		fail("open a canned query", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.results tbody tr").length`))
	if err != nil || rows != 5 {
		t.Errorf("the query shows %d rows (%v), want 5", rows, err)
	}
	browser.Screenshot(t, ctx, "canned-query")

	// The CSV, downloaded as a browser does.
	dir := t.TempDir()
	progress := chromedp.Events(ctx, cdpbrowser.DownloadProgress)
	events := true
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events})
		return err
	}), chromedp.Click(chromedp.CSS("a.download-csv"))); err != nil {
		fail("download the CSV", err)
	}
	file := ""
	for ev, err := range progress {
		if err != nil {
			fail("wait for the download", err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			fail("the download", context.Canceled)
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(recs) != 6 || recs[0][0] != "session_id" || recs[1][0] != sessApp || recs[1][4] != "0.251069" {
		t.Errorf("the CSV (%v):\n%s", err, b)
	}

	// A row's session id leads into the replay.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`table.results a[href="`+replay.URL+`/sessions/`+sessApp+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#steps"))); err != nil {
		fail("follow a row into the replay", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`)); err != nil || loc != replay.URL+"/sessions/"+sessApp {
		t.Errorf("the row led to %s (%v)", loc, err)
	}
	quiet(t, ctx)

	// A query of one's own: typed, run with Ctrl+Enter, results shown.
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/query"), chromedp.WaitVisible(chromedp.CSS("textarea[name=sql]")),
		chromedp.Click(chromedp.CSS("textarea[name=sql]")),
		chromedp.KeyEvent("SELECT project, count(*) AS n FROM sessions GROUP BY project ORDER BY n DESC, project"),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl))); err != nil {
		fail("type a query", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("table.results"))); err != nil {
		fail("Ctrl+Enter did not run the query", err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.results tbody tr").length`)); err != nil || n != 4 {
		t.Errorf("%d rows (%v), want 4 projects", n, err)
	}
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("table.results tbody td").textContent`))
	if err != nil || first != "/src/app" {
		t.Errorf("first row %q (%v), want /src/app", first, err)
	}
	browser.Screenshot(t, ctx, "query")

	// A table: sorted by a click on a column, filtered with the form.
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/tables/sessions"), chromedp.WaitVisible(chromedp.CSS("table.results")),
		chromedp.Click(chromedp.CSS(`table.results th a[title="Sort by title"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.results th a[href*="_sort_desc=title"]`))); err != nil {
		fail("sort the sessions by title", err)
	}
	titles, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("table.results tbody tr")].map(tr => tr.children[14].textContent)`))
	if err != nil || len(titles) != 5 || titles[1] != "Fix off-by-one in config loader" || titles[4] != "What does this project do?" {
		t.Errorf("titles sorted: %q (%v)", titles, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`select[name=_filter_column]`), "project"),
		chromedp.SetValue(chromedp.CSS(`select[name=_filter_op]`), "startswith"),
		chromedp.SendKeys(chromedp.CSS(`input[name=_filter_value]`), "/src/t"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("ul.chips"))); err != nil {
		fail("filter the sessions", err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.results tbody tr").length`)); err != nil || n != 1 {
		t.Errorf("%d sessions after the filter (%v), want 1", n, err)
	}
	if u, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`)); err != nil || u != "?_sort=title&project__startswith=%2Fsrc%2Ft" {
		t.Errorf("the filtered page is %q (%v)", u, err)
	}
	browser.Screenshot(t, ctx, "table")
	quiet(t, ctx)
}
