// Package browser runs tests of the web UI in a real, headless Chromium,
// driven over the DevTools protocol with chromedp.
//
// New starts a browser for one test and returns the context that chromedp's
// actions run in; Events reads what the page reported (console messages,
// uncaught exceptions, dialogs), and Screenshot saves a PNG of the page.
//
// Without Chromium the test skips, with a message saying how to install it;
// with CI=true it fails instead.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds each browser: its start, and every action a test runs in it.
const Timeout = 60 * time.Second

// flags are the command-line flags Chromium starts with, besides the user
// data directory and the window size: headless, and quiet enough to run as
// root on a machine with no display, no GPU and no network beyond the test
// server. chromedp's default list is not used: it adds flags of its own.
var flags = []string{"headless", "no-sandbox", "disable-gpu", "disable-background-networking", "no-first-run"}

// fallbackPath is where Debian's chromium package puts its launcher, tried
// last for a PATH without /usr/bin.
const fallbackPath = "/usr/bin/chromium"

// New starts Chromium for the test and returns a chromedp context for its
// tab, bounded by Timeout. The browser is killed when the test ends.
func New(t testing.TB) context.Context {
	t.Helper()
	path, err := findChromium()
	if err != nil {
		msg := err.Error() + "; install Chromium (`apt-get install chromium` on Debian) or set INSIGHTS_CHROMIUM to its path"
		if os.Getenv("CI") == "true" {
			t.Fatal("browser tests need Chromium with CI=true: " + msg)
		}
		t.Skip(msg)
	}

	// The profile directory is made before the cleanup below is registered:
	// cleanups run last-in first-out, so the browser exits before it is removed.
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	for _, f := range flags {
		opts = append(opts, chromedp.Flag(f, true))
	}

	log := &Log{}
	var tab context.Context
	timeoutCtx, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeoutCtx, opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(func(ev any) {
		if log.record(ev) {
			// An open dialog blocks the page, and the action that opened it,
			// until it is answered; the listener must not send commands itself.
			go dismissDialog(tab)
		}
	}))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		cancelTimeout()
	})

	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return context.WithValue(tab, logKey{}, log)
}

// findChromium returns the browser to run: $INSIGHTS_CHROMIUM, else the
// first of chromium, chromium-browser and google-chrome on PATH, else
// Debian's /usr/bin/chromium.
func findChromium() (string, error) {
	if p := os.Getenv("INSIGHTS_CHROMIUM"); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("INSIGHTS_CHROMIUM names no program (%w)", err)
		}
		return found, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", fallbackPath} {
		if found, err := exec.LookPath(name); err == nil {
			return found, nil
		}
	}
	return "", errors.New("no Chromium found (chromium, chromium-browser or google-chrome on PATH, or " + fallbackPath + ")")
}
