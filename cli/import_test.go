package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressBar(&buf, true)
	p.update(25e6, 100e6)
	if got := buf.String(); !strings.HasPrefix(got, "\r 25% [=======       ") || !strings.Contains(got, "25.0 MB / 100.0 MB") || !strings.Contains(got, "ETA") {
		t.Errorf("bar at a quarter = %q", got)
	}
	buf.Reset()
	p.update(26e6, 100e6) // within 100 ms of the last draw: skipped
	if buf.Len() != 0 {
		t.Errorf("bar redrawn too soon: %q", buf.String())
	}
	p.update(100e6, 100e6) // the end is always drawn
	p.finish()
	if got := buf.String(); !strings.Contains(got, "100% [==============================]") || !strings.HasSuffix(got, "\n") || strings.Contains(got, "ETA") {
		t.Errorf("bar at the end = %q", got)
	}
	var none *progressBar
	none.finish() // no bar: nothing to do
}

func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressBar(&buf, false)
	p.update(10e6, 100e6) // within the first seconds: nothing
	if buf.Len() != 0 {
		t.Errorf("a short import printed progress: %q", buf.String())
	}
	p.every = 0
	p.update(50e6, 100e6)
	p.finish()
	if got := buf.String(); !strings.HasPrefix(got, "importing: 50%, 50.0 MB of 100.0 MB, ") || strings.Contains(got, "\r") ||
		strings.Count(got, "\n") != 1 {
		t.Errorf("plain progress = %q; want one line without a carriage return", got)
	}
}
