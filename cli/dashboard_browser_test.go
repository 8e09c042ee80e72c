package cli

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	ibrowser "github.com/claude-insights/insights/internal/browser"
	"github.com/claude-insights/insights/server"
	"github.com/claude-insights/insights/store"
)

// In Chromium: sign in, the overview's charts hold every day's tokens as
// the database has them, the usage CSV downloads, and signing out ends it.
func TestBrowserDashboard(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	ts := startTeam(t, teamDSN(t), nil)
	ts.newUser(t, "ann", true, store.ShareFull)
	_, bobKey := ts.newUser(t, "bob", false, store.ShareFull)
	_, catKey := ts.newUser(t, "cat", false, store.ShareMetadata)
	ts.pushTree(t, genRecent(t, 2<<20, 41, 10), bobKey)
	ts.pushTree(t, genRecent(t, 2<<20, 42, 10), catKey)
	hash, err := server.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.DB.SetPassword(ctx, "ann", hash); err != nil {
		t.Fatal(err)
	}

	tab := ibrowser.New(t)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.Dashboard+"/?days=10"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "ann"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`section.login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("svg.chart.stacked")),
	); err != nil {
		ibrowser.Screenshot(t, tab, "failed")
		t.Fatalf("sign in and open the overview: %v", err)
	}
	if u, err := chromedp.Run(tab, chromedp.Evaluate[string](`location.pathname + location.search`)); err != nil || u != "/?days=10" {
		t.Errorf("after signing in the browser is at %q (%v), want the page it asked for", u, err)
	}

	// Each day's drawn segments add up to the day's tokens in daily_stats,
	// and every day with tokens has a visible bar.
	drawn, err := chromedp.Run(tab, chromedp.Evaluate[map[string]float64](`(function () {
		var out = {};
		document.querySelectorAll("svg.chart.stacked")[0].querySelectorAll("rect.seg").forEach(function (r) {
			if (r.getBoundingClientRect().height <= 0) return;
			out[r.dataset.label] = (out[r.dataset.label] || 0) + parseFloat(r.dataset.value);
		});
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(24 * time.Hour)
	days, err := ts.DB.DailyStats(ctx, store.StatsQuery{Since: now.AddDate(0, 0, -9), Until: now.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, d := range days {
		want[d.Day.Format(time.DateOnly)] += float64(d.Tokens.Total())
	}
	if len(want) < 9 {
		t.Fatalf("only %d of 10 days have tokens: the generated trees are too small to test", len(want))
	}
	for day, w := range want {
		if drawn[day] != w {
			t.Errorf("tokens drawn for %s = %v, daily_stats has %v", day, drawn[day], w)
		}
	}
	if len(drawn) != len(want) {
		t.Errorf("bars drawn for %d days, %d have tokens", len(drawn), len(want))
	}
	cells, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart.heatmap rect.cell:not(.zero)").length`))
	if err != nil || cells == 0 {
		t.Errorf("the heatmap shades %d cells (%v)", cells, err)
	}
	ibrowser.Screenshot(t, tab, "overview")

	// The usage page's CSV downloads, with a row per user.
	dir := t.TempDir()
	if err := chromedp.Do(tab, chromedp.Navigate(ts.Dashboard+"/usage?by=user&days=10"),
		chromedp.WaitVisible(chromedp.CSS("a.download")),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
			return err
		}),
		chromedp.Click(chromedp.CSS("a.download")),
	); err != nil {
		t.Fatalf("download the CSV: %v", err)
	}
	ibrowser.Screenshot(t, tab, "usage")
	var path string
	for deadline := time.Now().Add(15 * time.Second); path == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		m, _ := filepath.Glob(filepath.Join(dir, "usage-by-user-*.csv"))
		if len(m) > 0 {
			path = m[0]
		}
	}
	if path == "" {
		t.Fatal("no CSV downloaded in 15 s")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "user" {
		t.Fatalf("the CSV: %v, %v", rows, err)
	}
	var total float64
	for _, r := range rows[1:] {
		n, _ := strconv.ParseFloat(r[7], 64)
		total += n
	}
	var wantTotal float64
	for _, w := range want {
		wantTotal += w
	}
	if total != wantTotal {
		t.Errorf("the CSV's tokens %v, daily_stats' %v", total, wantTotal)
	}

	// The replay UI's pages, behind the sign-in: a session from the list
	// opens its replay; the admin page lists the users.
	if err := chromedp.Do(tab, chromedp.Navigate(ts.Dashboard+"/sessions?user=cat"),
		chromedp.Click(chromedp.CSS("td.title a")),
		chromedp.WaitVisible(chromedp.CSS("#steps")),
	); err != nil {
		ibrowser.Screenshot(t, tab, "failed")
		t.Fatalf("open a replay: %v", err)
	}
	ibrowser.Screenshot(t, tab, "replay")
	if err := chromedp.Do(tab, chromedp.Navigate(ts.Dashboard+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("table.users"))); err != nil {
		t.Fatalf("open the users page: %v", err)
	}
	if n, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll("table.users tr[data-user]").length`)); err != nil || n != 3 {
		t.Errorf("the users page lists %d users (%v), want 3", n, err)
	}
	ibrowser.Screenshot(t, tab, "users")

	// Signing out leads to the sign-in form, and pages ask for it again.
	for _, step := range []struct {
		what   string
		action chromedp.Action[chromedp.Void]
	}{
		{"click Sign out", chromedp.Click(chromedp.CSS(`form.signout button`))},
		{"the sign-in form after signing out", chromedp.WaitVisible(chromedp.CSS(`section.login input[name="password"]`))},
		{"open the leaderboard", chromedp.Navigate(ts.Dashboard + "/leaderboard")},
		{"the sign-in form instead of the leaderboard", chromedp.WaitVisible(chromedp.CSS(`section.login input[name="password"]`))},
	} {
		if err := chromedp.Do(tab, step.action); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
	}
	ibrowser.Screenshot(t, tab, "signed-out")
	log := ibrowser.Events(tab)
	if e := log.Exceptions(); len(e) > 0 {
		t.Errorf("exceptions: %q", e)
	}
	for _, c := range log.Console() {
		if strings.Contains(c, "Content Security Policy") {
			t.Errorf("console: %s", c)
		}
	}
}
