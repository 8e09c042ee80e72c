package redact

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// benchText returns about size bytes of text like a transcript's: prose,
// code, JSON records, shell output and URLs; with secrets, one of each of a
// few kinds every 100 KB or so.
func benchText(size int, secrets bool) string {
	chunks := []string{
		"I read the handler and the test. The authorization flow stores the token in a cookie, and the password " +
			"reset sends an email; the API key is read from the environment, never logged. Next I'll run the tests " +
			"and check that max_tokens is respected when the secret is rotated.\n\n",
		"```go\nfunc (s *Server) login(w http.ResponseWriter, r *http.Request) {\n\tpassword := r.FormValue(\"password\")\n" +
			"\ttoken, err := s.auth.Check(r.Context(), user, password)\n\tif err != nil {\n\t\thttp.Error(w, \"no\", 401)\n" +
			"\t\treturn\n\t}\n\thttp.SetCookie(w, &http.Cookie{Name: \"session\", Value: token})\n}\n```\n",
		`{"type":"assistant","uuid":"3f1c0a52-9d8e-4b7e-a1f2-0c9e8d7b6a54","message":{"id":"msg_01XYZABCDEFGHJKLMNPQRSTU",` +
			`"content":[{"type":"tool_use","id":"toolu_01ABCDEFGHJKLMNPQRSTUVWX","name":"Bash","input":{"command":"go test ./..."}}],` +
			`"usage":{"input_tokens":12,"output_tokens":340,"cache_read_input_tokens":20000}}}` + "\n",
		"$ git log --oneline -3\nda39a3ee5e6 Fix the upload retry\n4b825dc642c Add the redactor\ne69de29bb2d Initial commit\n" +
			"$ ls -la\ndrwxr-xr-x  5 me staff  160 Jan  3 10:00 .\n-rw-r--r--  1 me staff 2048 Jan  3 10:00 go.mod\n",
		"See https://pkg.go.dev/regexp/syntax and https://github.com/org/repo/pull/42#discussion_r1; " +
			"clone with git@github.com:org/repo.git. Mail ops@example.com.\n",
		"- [x] **Step 1**: parse the config (`config.toml`, key `MAX_TOKENS`)\n- [ ] Step 2: wire `TOKENIZER_PATH`\n" +
			"| name | value |\n|---|---|\n| timeout | 30s |\n",
	}
	secretChunks := []string{
		"export GITHUB_TOKEN=" + ghp + "\n",
		"curl -H \"Authorization: Bearer " + jwt + "\" https://api.example.com/v1/me\n",
		"DATABASE_URL=postgres://app:hunter2@db:5432/app\nDB_PASSWORD=hunter2\n",
		pem("OPENSSH PRIVATE KEY") + "\n",
		"aws_access_key_id = " + akia + "\naws_secret_access_key = " + awsSecret40 + "\n",
	}
	var b strings.Builder
	for i, next := 0, 0; b.Len() < size; i++ {
		b.WriteString(chunks[i%len(chunks)])
		if secrets && b.Len() >= next {
			b.WriteString(secretChunks[(next/100_000)%len(secretChunks)])
			next += 100_000
		}
	}
	return b.String()
}

func BenchmarkRedact(b *testing.B) {
	img := pngBase64(7, base64.StdEncoding)
	for img2 := img; len(img) < 1<<20; {
		img += img2
	}
	clean := benchText(1<<20, false)
	short := strings.Split(clean, "\n")
	for _, bc := range []struct {
		name string
		in   []string
	}{
		{"mixed-1MB", []string{benchText(1<<20, true)}},
		{"clean-1MB", []string{clean}},
		{"base64-1MB", []string{img}},
		{fmt.Sprintf("lines-%d", len(short)), short},
	} {
		var r Redactor
		size := 0
		for _, s := range bc.in {
			size += len(s)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range bc.in {
					r.Redact(s)
				}
			}
		})
	}
}
