package push

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The waits between retries grow from MinWait, doubling, up to MaxWait,
// each drawn at random (so clients that failed together do not come back
// together), and are never shorter than the server's Retry-After.
func TestBackoff(t *testing.T) {
	p := &Pusher{MinWait: 100 * time.Millisecond, MaxWait: 2 * time.Second}
	plain := &TemporaryError{Err: errors.New("down")}
	for attempt, bound := range []time.Duration{100, 200, 400, 800, 1600, 2000, 2000, 2000} {
		bound *= time.Millisecond
		if attempt > 4 {
			bound = 2 * time.Second
		}
		seen := map[time.Duration]bool{}
		var most time.Duration
		for range 200 {
			w := p.backoff(attempt, plain)
			if w < 50*time.Millisecond || w >= bound+50*time.Millisecond {
				t.Fatalf("attempt %d: wait %s, want 50ms to %s", attempt, w, bound+50*time.Millisecond)
			}
			seen[w] = true
			most = max(most, w)
		}
		if len(seen) < 100 || most < bound*3/4 {
			t.Errorf("attempt %d: %d distinct waits, longest %s: not spread up to %s", attempt, len(seen), most, bound)
		}
	}
	if w := p.backoff(0, &TemporaryError{Err: errors.New("429"), After: 5 * time.Second}); w != 5*time.Second {
		t.Errorf("Retry-After 5s: waited %s", w)
	}
	if w := p.backoff(100, plain); w > 2050*time.Millisecond {
		t.Errorf("attempt 100: %s, past MaxWait", w)
	}
}

// The state survives a save and a load; a state file that cannot be read
// is an error saying how to start again; a missing one is empty.
func TestState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "state.json")
	s, err := LoadState(path)
	if err != nil || s.Get("srv", "a.jsonl") != (FileState{}) {
		t.Fatalf("a missing state: %+v %v", s, err)
	}
	st := FileState{ID: "id1", Offset: 42, HeadLen: 10, Head: "h"}
	s.Set("srv", "a.jsonl", st)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v %v, want mode 0600", fi, err)
	}
	again, err := LoadState(path)
	if err != nil || again.Get("srv", "a.jsonl") != st || again.Get("other", "a.jsonl") != (FileState{}) {
		t.Errorf("loaded %+v, %v", again.Servers, err)
	}
	if u := again.OnlyUser("srv"); u != "" {
		t.Errorf("OnlyUser of a key without a user: %q", u)
	}
	again.Set("https://team ann", "a.jsonl", st)
	if u := again.OnlyUser("https://team"); u != "ann" {
		t.Errorf("OnlyUser = %q, want ann", u)
	}
	again.Set("https://team bob", "a.jsonl", st)
	if u := again.OnlyUser("https://team"); u != "" {
		t.Errorf("OnlyUser of two users = %q, want none", u)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files beside the state, want it alone", len(entries))
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, err := LoadState(path); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("a broken state: %v", err)
	}
}
