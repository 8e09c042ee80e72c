package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/claude-insights/insights/internal/browser"
)

// liveDaemon runs the daemon until stop is called, at most once, or the
// test ends.
func liveDaemon(t *testing.T, args ...string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &lockedBuffer{}
	go func() {
		app := New("test")
		app.Writer, app.ErrWriter = io.Discard, logs
		done <- app.RunContext(ctx, append([]string{"insights", "--log-level", "debug"}, args...))
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("daemon stopped with %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("daemon did not stop within 10 s of being cancelled")
			}
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs.String())
		}
	})
	return stop
}

// freeAddr is a local address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serves reports whether the UI at base answers for a session.
func serves(base, session string) bool {
	res, err := http.Get(base + "/api/sessions/" + session)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == 200
}

// liveLine is a record of the main fixture session written now: a user
// prompt, or an assistant reply when model is set.
func liveLine(n int, text, model string) string {
	const head = `"isSidechain":false,"userType":"external","cwd":"/src/app","sessionId":"5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03","version":"2.1.38","gitBranch":"main"`
	at := time.Now().UTC().Format(time.RFC3339Nano)
	uuid := fmt.Sprintf("7e57ab1e-0000-4000-8000-%012d", n)
	if model == "" {
		return `{"parentUuid":null,` + head + `,"type":"user","uuid":"` + uuid + `","timestamp":"` + at +
			`","message":{"role":"user","content":"` + text + `"}}` + "\n"
	}
	return `{"parentUuid":null,` + head + `,"type":"assistant","uuid":"` + uuid + `","timestamp":"` + at +
		`","message":{"model":"` + model + `","id":"msg_live_` + fmt.Sprint(n) + `","type":"message","role":"assistant","content":[{"type":"text","text":"` + text +
		`"}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":12}},"requestId":"req_live_` + fmt.Sprint(n) + `"}` + "\n"
}

// A session being written updates its open replay and the list without a
// reload, through the daemon's watcher, and again after the daemon restarts.
func TestBrowserLiveReplay(t *testing.T) {
	isolate(t)
	const main = "5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03"
	claude := copyTree(t, testdataDir)
	transcript := filepath.Join(claude, "projects", "-src-app", main+".jsonl")
	addr := freeAddr(t)
	base := "http://" + addr
	args := []string{"--db", filepath.Join(t.TempDir(), "insights.db"), "--claude-dir", claude, "--ui-addr", addr}
	stop := liveDaemon(t, args...)
	waitFor(t, 20*time.Second, "the UI to serve the imported session", func() bool { return serves(base, main) })

	ctx := browser.New(t)
	fail := func(what string, err error) {
		t.Helper()
		browser.Screenshot(t, ctx, "failed")
		t.Fatalf("%s: %v", what, err)
	}
	poll := func(what, cond string, within time.Duration) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(within))); err != nil {
			fail(what+" within "+within.String(), err)
		}
	}

	// The list marks the session live when it is written to.
	mark := `document.querySelector('td[data-session="` + main + `"] .badge.live')`
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/sessions"), chromedp.WaitVisible(chromedp.CSS("table.sessions"))); err != nil {
		fail("open the list", err)
	}
	if marked, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!"+mark)); err != nil || marked {
		t.Fatalf("the fixture session is marked live before it is written to (%v)", err)
	}
	appendLine(t, transcript, liveLine(1, "Is it still running?", ""))
	poll("the list marks the session live", "!!"+mark, 3*time.Second)
	browser.Screenshot(t, ctx, "live-list")

	// The open replay appends what is written, without a reload.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/sessions/"+main), chromedp.WaitVisible(chromedp.CSS("#steps"))); err != nil {
		fail("open the replay", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded = true`)); err != nil {
		fail("mark the page", err)
	}
	const kept = ` && window.notReloaded === true`
	poll("the replay shows the line written before it opened", `document.getElementById("steps").textContent.includes("Is it still running?")`+kept, 2*time.Second)
	appendLine(t, transcript, liveLine(2, "The live answer **arrived**.", "claude-opus-4-6"))
	poll("the new reply in the replay", `document.getElementById("steps").textContent.includes("The live answer arrived.")`+kept, 2*time.Second)
	// The keys reach the new step.
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.End)); err != nil {
		fail("key End", err)
	}
	poll("End selects the new step", `(document.querySelector(".step.current") || {}).id === Array.from(document.querySelectorAll("#steps > li.step")).pop().id`+
		` && document.querySelector(".step.current strong").textContent === "arrived"`, 2*time.Second)
	browser.Screenshot(t, ctx, "live-replay")

	// The daemon restarts on the same address: the page connects again and
	// goes on following the session.
	stop()
	liveDaemon(t, args...)
	waitFor(t, 20*time.Second, "the restarted UI", func() bool { return serves(base, main) })
	appendLine(t, transcript, liveLine(3, "Written after the restart", ""))
	poll("the line written after the restart", `document.getElementById("steps").textContent.includes("Written after the restart")`+kept, 5*time.Second)

	if e := browser.Events(ctx).Exceptions(); len(e) > 0 {
		t.Errorf("exceptions: %q", e)
	}
}
