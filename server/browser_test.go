package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/claude-insights/insights/internal/browser"
)

// current is the id of the replay's current message.
const current = `(document.querySelector(".step.current") || {id: ""}).id`

func TestBrowserReplay(t *testing.T) {
	ts := newServer(t)
	ctx := browser.New(t)
	fail := func(what string, err error) {
		t.Helper()
		browser.Screenshot(t, ctx, "failed")
		t.Fatalf("%s: %v", what, err)
	}
	waitCurrent := func(want string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](current+` === "`+want+`"`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](current))
			fail("current message is "+got+", want "+want, err)
		}
	}
	key := func(k string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.KeyEvent(k)); err != nil {
			fail("key "+k, err)
		}
	}

	// The list.
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/sessions"), chromedp.WaitVisible(chromedp.CSS("table.sessions"))); err != nil {
		fail("open the list", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("tr.session").length`))
	if err != nil || rows != 5 {
		t.Errorf("the list shows %d sessions (%v), want 5", rows, err)
	}
	browser.Screenshot(t, ctx, "sessions")

	// A replay, opened from the list, stepped through with the keyboard.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/sessions/`+sessApp+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#steps"))); err != nil {
		fail("open the replay", err)
	}
	key(kb.ArrowRight)
	waitCurrent("m-3")
	key("j")
	waitCurrent("m-5")
	key(kb.ArrowRight)
	key("k")
	waitCurrent("m-5")
	key(kb.ArrowLeft)
	waitCurrent("m-3")
	key(kb.End)
	waitCurrent("m-50")
	key(kb.Home)
	waitCurrent("m-3")
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "#m-3") {
		t.Errorf("location after stepping = %q (%v), want it to end in #m-3", loc, err)
	}

	// The timeline leads to a message.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#timeline a[data-anchor="m-38"] rect`))); err != nil {
		fail("click the timeline", err)
	}
	waitCurrent("m-38")
	browser.Screenshot(t, ctx, "replay")

	// Autoplay moves on by itself.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#speed"), "8"), chromedp.Click(chromedp.CSS("#play"))); err != nil {
		fail("play", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](current+` !== "m-38" && `+current+` !== ""`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		fail("autoplay did not move on", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#play"))); err != nil {
		fail("pause", err)
	}

	// A link to a message opens the replay at that message.
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/sessions/"+sessApp+"#m-21"), chromedp.WaitVisible(chromedp.CSS("#steps"))); err != nil {
		fail("open a message's link", err)
	}
	waitCurrent("m-21")

	// The session full of payloads runs none of them.
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/sessions/"+sessXSS), chromedp.WaitVisible(chromedp.CSS("#steps"))); err != nil {
		fail("open the hostile session", err)
	}
	key(kb.End)
	waitCurrent("m-12")
	browser.Screenshot(t, ctx, "hostile")
	quiet(t, ctx)
}

// quiet checks that a page opened no dialog, threw nothing and logged no
// error, none of them a refusal by the Content-Security-Policy.
func quiet(t *testing.T, ctx context.Context) {
	t.Helper()
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

// A search from the header's box leads into the replay at the message found.
func TestBrowserSearch(t *testing.T) {
	ts := newServer(t)
	ctx := browser.New(t)
	fail := func(what string, err error) {
		t.Helper()
		browser.Screenshot(t, ctx, "failed")
		t.Fatalf("%s: %v", what, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/sessions"), chromedp.WaitVisible(chromedp.CSS("table.sessions"))); err != nil {
		fail("open the list", err)
	}
	// "/" focuses the search box; Enter runs the search.
	// One key press as a keyboard makes it: the character comes with the
	// key-down event, which the page can cancel (chromedp.KeyEvent sends it
	// as an event of its own, dropped here).
	slash := chromedp.KeyEvent("/", func(k *input.DispatchKeyEventParams) {
		switch k.Type {
		case kb.KeyDown:
			k.Text = "/"
		case kb.KeyChar:
			k.Modifiers |= int64(chromedp.ModifierAlt)
		}
	})
	if err := chromedp.Do(ctx, slash); err != nil {
		fail("press /", err)
	}
	if focus, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id + "=" + document.activeElement.value`)); err != nil || focus != "search-box=" {
		t.Errorf("after /, the focus and its value are %q (%v), want the empty search box", focus, err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("config"+kb.Enter), chromedp.WaitVisible(chromedp.CSS("ol.hits"))); err != nil {
		fail("search", err)
	}
	hits, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("li.hit mark").length`))
	if err != nil || hits < 15 {
		t.Errorf("the hits mark %d words (%v), want at least one in each of 15", hits, err)
	}
	browser.Screenshot(t, ctx, "search")

	// The best hit opens the replay at its message, current and in view.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("li.hit a")), chromedp.WaitVisible(chromedp.CSS("#steps"))); err != nil {
		fail("follow the best hit", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](current+` === "m-12"`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](current))
		fail("the hit opened the replay at "+got+", want m-12", err)
	}
	inView := func(id string) bool {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function () {
			var r = document.getElementById("`+id+`").getBoundingClientRect();
			return r.height > 0 && r.top >= 0 && r.top < window.innerHeight;
		})()`))
		return err == nil && v
	}
	if !inView("m-12") {
		t.Errorf("message m-12 is not in view")
	}

	// A hit in a subagent opens its thread at the message, marked.
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/search?q=callers"), chromedp.WaitVisible(chromedp.CSS("ol.hits"))); err != nil {
		fail("search callers", err)
	}
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("li.hit a").getAttribute("href")`))
	if err != nil || !strings.Contains(href, "#m-a1b2c3-") {
		fail("the subagent's hit links to "+href, err)
	}
	id := href[strings.Index(href, "#")+1:]
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("li.hit a")), chromedp.WaitVisible(chromedp.CSS("#steps"))); err != nil {
		fail("follow the subagent's hit", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector(":target") !== null && document.querySelector(":target").id === "`+id+`"`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		fail("the subagent's message is not the target", err)
	}
	if !inView(id) {
		t.Errorf("the subagent's message %s is not in view", id)
	}
	quiet(t, ctx)
}
