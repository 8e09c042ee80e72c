package ingest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/claude-insights/insights/ingest"
)

// lineErrors are the reasons a single line can be skipped for; the others
// (unreadable, not a regular file) are about files, and Reason falls back to
// "unreadable" for an error it does not know.
var lineErrors = []error{ingest.ErrNotJSON, ingest.ErrNotUTF8, ingest.ErrBinary, ingest.ErrNotObject,
	ingest.ErrNoType, ingest.ErrBadField, ingest.ErrMissingField, ingest.ErrTooLong}

func isLineError(err error) bool {
	for _, e := range lineErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// badLineSeeds are the bad lines of badinput_test.go and their neighbours.
var badLineSeeds = []string{
	"",
	"\n",
	" \t\r\n",
	"\xEF\xBB\xBF",
	"\xEF\xBB\xBF" + `{"type":"user","message":{"role":"user","content":"hi"}}`,
	"this is not JSON at all",
	`{"type":"assistant","uuid":"x","sessionId":"s","message":{"id":"msg_tr`,
	`{"type":"user","message":{"role":"user","content":"caf` + "\xe9" + `"}}`,
	"\xff\xfe\xfd",
	"a\x00b",
	`{"type":"user","x":"` + "\x00" + `"}`,
	`42`, `"a string"`, `[1,{"type":"user"}]`, `null`, `true`, `{}`, `{"type":{}}`,
	`{"type":"queue-operation","operation":"enqueue"}`,
	`{"uuid":"x","sessionId":"s","message":{"role":"user","content":"x"}}`,
	`{"type":null}`, `{"type":""}`, `{"type":5}`,
	`{"type":"user","timestamp":5,"message":{"role":"user","content":"x"}}`,
	`{"type":"user","timestamp":"yesterday","message":{"role":"user","content":"x"}}`,
	`{"type":"user","message":"x"}`,
	`{"type":"user","message":[]}`,
	`{"type":"assistant","message":{"usage":{"input_tokens":"many"}}}`,
	`{"type":"assistant","message":{"usage":{"input_tokens":1e400}}}`,
	`{"type":"assistant","message":{"usage":{"input_tokens":-1,"cache_creation_input_tokens":5,"cache_creation":{"ephemeral_5m_input_tokens":9,"ephemeral_1h_input_tokens":-9}}}}`,
	`{"type":"user","isSidechain":"yes","message":{}}`,
	`{"type":"user"}`, `{"type":"user","message":null}`, `{"type":"assistant"}`,
	`{"type":"system","content":[{"type":"text","text":"a"},1]}`,
	`{"type":"progress","data":{"type":"agent_progress","message":"x"}}`,
	`{"type":"progress","data":{"type":"agent_progress","message":{"type":"progress","data":{"type":"agent_progress","message":{"type":"assistant","message":{"usage":{}}}}}}}`,
	`{"type":"progress","data":5}`,
	`{"type":"summary","summary":"t","leafUuid":"l"}`,
	`{"type":"user","type":"assistant","message":{}}`,
	`{"type":"user","message":{"content":"\ud800"}}`,
	`{"type":"user","message":{}}` + ` {"type":"user"}`,
}

// claudeLines are the lines of every file of the fake Claude directory.
func claudeLines(f *testing.F) []string {
	var lines []string
	err := filepath.WalkDir(claudeDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines = append(lines, strings.Split(string(b), "\n")...)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	if len(lines) == 0 {
		f.Fatalf("no lines under %s", claudeDir)
	}
	return lines
}

// FuzzParse checks that Parse never panics, fails only with a reason it
// names, and is a pure function of its input.
func FuzzParse(f *testing.F) {
	for _, l := range claudeLines(f) {
		f.Add([]byte(l))
	}
	for _, l := range badLineSeeds {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		r, err := ingest.Parse(b)
		if !bytes.Equal(b, in) {
			t.Fatalf("Parse changed its input")
		}
		r2, err2 := ingest.Parse(in)
		if err != nil {
			if r != nil {
				t.Errorf("Parse returned a record with error %v", err)
			}
			if !errors.Is(err, ingest.ErrBlank) && !isLineError(err) {
				t.Fatalf("Parse(%q) = %v: no reason (Reason says %q)", b, err, ingest.Reason(err))
			}
			if err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("Parse(%q) failed with %v, then with %v", b, err, err2)
			}
			return
		}
		if r == nil {
			t.Fatal("Parse returned neither a record nor an error")
		}
		if r.Type == "" {
			t.Errorf("Parse(%q): record without type", b)
		}
		if r.Nested != nil && r.Nested.Type == "" {
			t.Errorf("Parse(%q): nested record without type", b)
		}
		if !json.Valid(r.Raw) {
			t.Errorf("Parse(%q): Raw is not JSON", b)
		}
		if f := nulField(reflect.ValueOf(r).Elem()); f != "" {
			t.Errorf("Parse(%q): %s holds a NUL", b, f)
		}
		if err2 != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("Parse(%q) is not deterministic:\n%+v\n%+v (%v)", b, r, r2, err2)
		}
	})
}

// nulField names a string field of a record (or of its nested record) that
// holds a NUL character.
func nulField(v reflect.Value) string {
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.String && strings.IndexByte(f.String(), 0) >= 0:
			return v.Type().Field(i).Name
		case f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.Struct:
			if name := nulField(f.Elem()); name != "" {
				return v.Type().Field(i).Name + "." + name
			}
		}
	}
	return ""
}

// FuzzImportLines imports fuzzed bytes between valid lines and checks that
// the import neither fails nor loses or damages its neighbours, and that it
// skips exactly the lines Parse rejects.
func FuzzImportLines(f *testing.F) {
	for _, l := range badLineSeeds {
		f.Add([]byte(l))
	}
	f.Add(binaryLines(2))
	f.Add([]byte(strings.Join(badLineSeeds, "\n")))
	db := openDB(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		// A session id the input cannot know: nothing in it can join the session.
		sid := rand.Text()
		path := filepath.Join(t.TempDir(), "f.jsonl")
		writeFile(t, path, okBefore(sid)+string(b)+"\n"+okAfter(sid))
		var st ingest.Stats
		if err := newImporter(db).ImportFile(context.Background(), path, &st); err != nil {
			t.Fatalf("ImportFile: %v", err)
		}
		s := sessionOf(t, db, sid)
		if s.Messages != 4 || s.Tokens != okTokens {
			t.Errorf("session: %d messages, tokens %+v; want 4, %+v", s.Messages, s.Tokens, okTokens)
		}
		lines := bytes.Split(b, []byte("\n"))
		var broken int64
		for _, l := range lines {
			if _, err := ingest.Parse(l); err != nil && !errors.Is(err, ingest.ErrBlank) {
				broken++
			}
		}
		if st.Broken != broken {
			t.Errorf("broken = %d (%v), want %d", st.Broken, st.Errors, broken)
		}
		for _, e := range st.Errors {
			if e.Path != path || e.Line < 3 || e.Line > int64(2+len(lines)) {
				t.Errorf("skipped %v, outside the fuzzed lines 3 to %d", e, 2+len(lines))
			}
			if !isLineError(e.Err) {
				t.Errorf("skipped %v: no reason", e)
			}
		}
	})
}
