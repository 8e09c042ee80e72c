package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Log is what the page of a browser from New reported: console messages,
// uncaught exceptions and JavaScript dialogs, each in the order it came.
// It is safe for concurrent use.
type Log struct {
	mu         sync.Mutex
	console    []string
	exceptions []string
	dialogs    []string
}

type logKey struct{}

// Events returns the Log of the first tab of a browser from New; ctx is the
// context New returned or one derived from it. A tab opened with
// chromedp.NewContext has no Log of its own.
func Events(ctx context.Context) *Log {
	l, ok := ctx.Value(logKey{}).(*Log)
	if !ok {
		panic("browser.Events: the context does not come from browser.New")
	}
	return l
}

// Console returns the console messages, as "type: text", and the entries of
// the browser's log (such as a failed request), as "level: text (url)".
func (l *Log) Console() []string { return l.get(&l.console) }

// Exceptions returns the exceptions nothing caught, with their location.
func (l *Log) Exceptions() []string { return l.get(&l.exceptions) }

// Dialogs returns the message of every alert, confirm, prompt and
// beforeunload dialog; each was dismissed.
func (l *Log) Dialogs() []string { return l.get(&l.dialogs) }

func (l *Log) get(s *[]string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(*s)
}

// record keeps an event of the tab, if it is one the Log holds, and reports
// whether it opened a dialog. It runs in the loop that reads the tab's
// messages, so it only appends.
func (l *Log) record(ev any) (dialog bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		l.console = append(l.console, string(ev.Type)+": "+argsText(ev.Args))
	case *log.EventEntryAdded:
		e := ev.Entry
		text := string(e.Level) + ": " + e.Text
		if e.URL != "" {
			text += " (" + e.URL + ")"
		}
		l.console = append(l.console, text)
	case *runtime.EventExceptionThrown:
		l.exceptions = append(l.exceptions, exceptionText(ev.ExceptionDetails))
	case *page.EventJavascriptDialogOpening:
		l.dialogs = append(l.dialogs, ev.Message)
		return true
	}
	return false
}

// dismissDialog answers the open dialog of the tab as a user closing it would.
// An error means the tab is gone, and then so is the dialog.
func dismissDialog(tab context.Context) {
	_, _ = chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
}

// argsText renders the arguments of a console call: strings as they are,
// other values by their description.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, valueText(a))
	}
	return strings.Join(parts, " ")
}

func valueText(o *runtime.RemoteObject) string {
	if o == nil {
		return "null"
	}
	if o.Type == runtime.RemoteObjectTypeString {
		var s string
		if err := json.Unmarshal(o.Value, &s); err == nil {
			return s
		}
	}
	switch {
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	case o.Description != "":
		return o.Description
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return string(o.Type)
}

// exceptionText is the exception's message ("Uncaught Error: x") and where it
// was thrown, without the stack trace that its description carries.
func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "exception without details"
	}
	text := d.Text
	if d.Exception != nil {
		desc, _, _ := strings.Cut(valueText(d.Exception), "\n")
		text += " " + desc
	}
	// The protocol counts lines and columns from 0.
	return fmt.Sprintf("%s (%s:%d:%d)", text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}
