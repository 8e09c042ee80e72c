package browser

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// serve serves testdata, whose pages load their scripts from files rather
// than inline, as a Content-Security-Policy without 'unsafe-inline' requires.
func serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestClick(t *testing.T) {
	shots := t.TempDir()
	t.Setenv("INSIGHTS_SCREENSHOTS", shots)
	url := serve(t)
	ctx := New(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/click.html"),
		chromedp.Click(chromedp.CSS("#go")),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("out").textContent === "clicked"`)); err != nil {
		t.Fatalf("wait for the click's text: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#out")))
	if err != nil {
		t.Fatal(err)
	}
	if got != "clicked" {
		t.Errorf("text after click = %q, want %q", got, "clicked")
	}

	log := Events(ctx)
	if c := log.Console(); !slices.Contains(c, "log: clicked 1") {
		t.Errorf("console = %q, want it to hold %q", c, "log: clicked 1")
	}
	if d, e := log.Dialogs(), log.Exceptions(); len(d) > 0 || len(e) > 0 {
		t.Errorf("dialogs %q, exceptions %q; want none", d, e)
	}

	path := Screenshot(t, ctx, "clicked")
	if want := filepath.Join(shots, "TestClick", "clicked.png"); path != want {
		t.Errorf("screenshot at %s, want %s", path, want)
	}
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG: starts with %q", path, png[:min(len(png), 8)])
	}
}

func TestDialog(t *testing.T) {
	url := serve(t)
	ctx := New(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/alert.html")); err != nil {
		t.Fatal(err)
	}
	if got := Events(ctx).Dialogs(); !slices.Equal(got, []string{"x"}) {
		t.Errorf("dialogs = %q, want [x]", got)
	}
	// The script goes on only once the alert is dismissed.
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#out")))
	if err != nil {
		t.Fatal(err)
	}
	if got != "after alert" {
		t.Errorf("text = %q, want %q", got, "after alert")
	}
}

func TestException(t *testing.T) {
	url := serve(t)
	ctx := New(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/throw.html")); err != nil {
		t.Fatal(err)
	}
	got := Events(ctx).Exceptions()
	if len(got) != 1 || !strings.Contains(got[0], "Error: boom") || !strings.Contains(got[0], "/throw.js:1:") {
		t.Errorf("exceptions = %q, want one Error: boom from throw.js line 1", got)
	}
}

func TestFindChromiumFromEnv(t *testing.T) {
	t.Setenv("INSIGHTS_CHROMIUM", filepath.Join(t.TempDir(), "no-such-browser"))
	if path, err := findChromium(); err == nil || !strings.Contains(err.Error(), "INSIGHTS_CHROMIUM") {
		t.Errorf("findChromium() = %q, %v; want an error naming INSIGHTS_CHROMIUM", path, err)
	}
}
