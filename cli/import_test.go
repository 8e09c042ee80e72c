package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressBar(&buf)
	p.update(25e6, 100e6, nil)
	if got := buf.String(); !strings.HasPrefix(got, "\r 25% [=======       ") || !strings.Contains(got, "25.0 MB / 100.0 MB") || !strings.Contains(got, "ETA") {
		t.Errorf("bar at a quarter = %q", got)
	}
	buf.Reset()
	p.update(26e6, 100e6, nil) // within 100 ms of the last draw: skipped
	if buf.Len() != 0 {
		t.Errorf("bar redrawn too soon: %q", buf.String())
	}
	p.update(100e6, 100e6, nil) // the end is always drawn
	p.finish()
	if got := buf.String(); !strings.Contains(got, "100% [==============================]") || !strings.HasSuffix(got, "\n") || strings.Contains(got, "ETA") {
		t.Errorf("bar at the end = %q", got)
	}
	var none *progressBar
	none.finish() // no bar (not a terminal): nothing to do
}
