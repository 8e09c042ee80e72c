package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/claude-insights/insights/internal/browser"
	"github.com/claude-insights/insights/server"
)

// A hidden tab lets its event stream go, so that tabs left open do not use
// up the connections a browser opens to one server, and follows again when
// shown.
func TestBrowserHiddenTabLetsItsStreamGo(t *testing.T) {
	db := openSQLite(t)
	importTrees(t, db, trees...)
	s, err := server.New(db, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	var streams atomic.Int64 // event streams open now
	h := s.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") {
			streams.Add(1)
			defer streams.Add(-1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	waitStreams := func(want int64) {
		t.Helper()
		// Well above the five seconds for which Chromium may keep reading a
		// closed stream's connection were it not told the connection closes.
		deadline := time.Now().Add(15 * time.Second)
		for streams.Load() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d event streams open, want %d", streams.Load(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	ctx := browser.New(t)
	visibility := func(state string) {
		t.Helper()
		js := `Object.defineProperty(document, "visibilityState", {value: "` + state + `", configurable: true});
			document.dispatchEvent(new Event("visibilitychange")); true`
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil {
			t.Fatalf("make the page %s: %v", state, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/sessions/"+sessApp), chromedp.WaitVisible(chromedp.CSS("#steps"))); err != nil {
		t.Fatalf("open the replay: %v", err)
	}
	waitStreams(1)
	visibility("hidden")
	waitStreams(0)
	visibility("visible")
	waitStreams(1)

	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/sessions"), chromedp.WaitVisible(chromedp.CSS("table.sessions"))); err != nil {
		t.Fatalf("open the list: %v", err)
	}
	waitStreams(1)
	visibility("hidden")
	waitStreams(0)
}
