package redact

import "testing"

// FuzzRedact checks, on any input, that Redact does not panic, that its
// findings are in order, in bounds, not overlapping and account for the
// output exactly, and that redacting the output finds nothing.
func FuzzRedact(f *testing.F) {
	// Long seeds make the fuzzer spend its time minimizing: the base64 case
	// is cut to its start.
	for _, tc := range redactCases() {
		f.Add(tc.in[:min(len(tc.in), 1024)])
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, found := Redact(s)
		checkFindings(t, s, out, found)
		if again, refound := Redact(out); again != out || refound != nil {
			t.Errorf("not idempotent: %q\ngives %q\nthen %q, %v", s, out, again, refound)
		}
	})
}
