package render

import (
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// attrURL finds every href and src attribute value in rendered HTML.
var attrURL = regexp.MustCompile(`(?i)\b(?:href|src)\s*=\s*"([^"]*)"`)

var (
	// tag matches a start tag; escaped text has no "<" to match.
	tag = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	// quoted matches an attribute value, removed before looking for
	// handlers so that escaped text in a title does not count as one.
	quoted = regexp.MustCompile(`"[^"]*"`)
	// handler matches an event handler attribute such as onerror=.
	handler = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
)

// checkInert fails the test when out holds an element or attribute that
// could run script, or a URL attribute with a scheme other than http, https
// or mailto. The URL check reads the value as a browser would: character
// references decoded, leading spaces and control characters dropped, tabs
// and newlines removed.
func checkInert(t *testing.T, out string) {
	t.Helper()
	lower := strings.ToLower(out)
	for _, bad := range []string{"<script", "<iframe", "<svg", "<object", "<embed", "<style", "<form", "<meta", "<base", "<link"} {
		if strings.Contains(lower, bad) {
			t.Errorf("output contains %q:\n%s", bad, out)
		}
	}
	for _, tg := range tag.FindAllString(out, -1) {
		if handler.MatchString(quoted.ReplaceAllString(tg, `""`)) {
			t.Errorf("tag %s has an event handler:\n%s", tg, out)
		}
	}
	for _, m := range attrURL.FindAllStringSubmatch(out, -1) {
		v := html.UnescapeString(m[1])
		v = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, v)
		v = strings.ToLower(strings.TrimLeft(v, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
		colon := strings.IndexByte(v, ':')
		slash := strings.IndexAny(v, "/?#")
		relative := colon < 0 || (slash >= 0 && slash < colon)
		if !relative && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "mailto:") {
			t.Errorf("URL attribute %q has a forbidden scheme:\n%s", m[0], out)
		}
	}
}

func TestMarkdownInert(t *testing.T) {
	tests := []struct {
		name string
		src  string
		// text must survive, outside any link.
		text string
	}{
		{"script block", "<script>alert(1)</script>", ""},
		{"script inline", "hi <script>alert(1)</script> there", "hi"},
		{"script upper case", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>", ""},
		{"img onerror block", `<img src=x onerror=alert(1)>`, ""},
		{"img onerror inline", `look <img src=x onerror="alert(1)"> here`, "look"},
		{"iframe block", `<iframe src="https://evil.example"></iframe>`, ""},
		{"iframe inline", `a <iframe src=javascript:alert(1)></iframe> b`, "a"},
		{"svg onload", `<svg onload=alert(1)>`, ""},
		{"style", "<style>body{display:none}</style>", ""},
		{"html comment trick", "<!--><script>alert(1)</script>-->", ""},
		{"inline javascript", "[click](javascript:alert(1))", "click"},
		{"inline mixed case", "[click](JaVaScRiPt:alert(1))", "click"},
		{"inline hex entity", "[click](jav&#x61;script:alert(1))", "click"},
		{"inline decimal entity", "[click](&#106;avascript:alert(1))", "click"},
		{"inline named colon entity", "[click](javascript&colon;alert(1))", "click"},
		{"inline tab entity", "[click](java&#x09;script:alert(1))", "click"},
		{"inline newline entity", "[click](java&#10;script:alert(1))", "click"},
		{"inline leading space", "[click]( javascript:alert(1))", "click"},
		{"inline angle brackets", "[click](< javascript:alert(1)>)", "click"},
		{"inline control char", "[click](\x01javascript:alert(1))", "click"},
		{"inline percent colon", "[click](javascript%3Aalert(1))", "click"},
		{"inline backslash escape", `[click](javascript\:alert(1))`, "click"},
		{"inline data", "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "click"},
		{"inline vbscript", "[click](vbscript:msgbox(1))", "click"},
		{"inline file", "[click](file:///etc/passwd)", "click"},
		{"inline with title", `[click](javascript:alert(1) "title")`, "click"},
		{"reference javascript", "[click][r]\n\n[r]: javascript:alert(1)", "click"},
		{"reference mixed case", "[click][r]\n\n[r]: JAVASCRIPT:alert(1)", "click"},
		{"reference entity", "[click][r]\n\n[r]: jav&#x61;script:alert(1)", "click"},
		{"reference data", "[click]\n\n[click]: data:text/html,<script>alert(1)</script>", "click"},
		{"reference vbscript", "[click][]\n\n[click]: VBScript:msgbox(1)", "click"},
		{"autolink javascript", "<javascript:alert(1)>", "javascript:alert(1)"},
		{"autolink mixed case", "<JaVaScRiPt:alert(1)>", "JaVaScRiPt:alert(1)"},
		{"autolink data", "<data:text/html,alert(1)>", "data:text/html,alert(1)"},
		{"autolink vbscript", "<vbscript:msgbox(1)>", "vbscript:msgbox(1)"},
		{"autolink label escaped", `<javascript:a&b"c>`, "javascript:a&amp;b&quot;c"},
		{"inline space in scheme", "[click](<java script:alert(1)>)", "click"},
		{"inline scheme lookalike", "[click](https\x01:alert(1))", "click"},
		{"image javascript", "![pic](javascript:alert(1))", "pic"},
		{"image svg data", "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)", "pic"},
		{"image png data", "![pic](data:image/png;base64,iVBORw0KGgo=)", "pic"},
		{"link in image alt", "![a [b](javascript:alert(1)) c](javascript:alert(2))", "b"},
		{"nested emphasis kept", "[**bold** text](javascript:alert(1))", "<strong>bold</strong> text"},
		{"script in code span", "`</code><script>alert(1)</script>`", "&lt;/code&gt;"},
		{"script in fence", "```html\n</code></pre><script>alert(1)</script>\n```", "&lt;/"},
		{"script in indented code", "    </pre><script>alert(1)</script>", "&lt;/pre&gt;"},
		{"script in table", "| a |\n|---|\n| <script>alert(1)</script> |", "<table>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(Markdown(tt.src))
			checkInert(t, out)
			if !strings.Contains(out, tt.text) {
				t.Errorf("output lost %q:\n%s", tt.text, out)
			}
			if tt.text != "" && strings.Contains(out, ">"+tt.text+"</a>") {
				t.Errorf("%q is still a link:\n%s", tt.text, out)
			}
		})
	}
}

func TestMarkdownLinksKept(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"https", "[docs](https://go.dev/doc/)", `<a href="https://go.dev/doc/" rel="nofollow noopener noreferrer">docs</a>`},
		{"http with query", "[q](http://example.com/?a=1&b=2)", `<a href="http://example.com/?a=1&amp;b=2" rel="nofollow noopener noreferrer">q</a>`},
		{"upper case scheme", "[q](HTTPS://example.com/)", `<a href="HTTPS://example.com/" rel="nofollow noopener noreferrer">q</a>`},
		{"mailto", "[me](mailto:me@example.com)", `<a href="mailto:me@example.com" rel="nofollow noopener noreferrer">me</a>`},
		{"relative", "[readme](docs/README.md)", `<a href="docs/README.md" rel="nofollow noopener noreferrer">readme</a>`},
		{"anchor", "[up](#top)", `<a href="#top" rel="nofollow noopener noreferrer">up</a>`},
		{"path with colon after slash", "[f](a/b:c)", `<a href="a/b:c" rel="nofollow noopener noreferrer">f</a>`},
		{"reference", "[go][r]\n\n[r]: https://go.dev", `<a href="https://go.dev" rel="nofollow noopener noreferrer">go</a>`},
		{"autolink", "<https://go.dev>", `<a href="https://go.dev" rel="nofollow noopener noreferrer">https://go.dev</a>`},
		{"bare url", "see https://go.dev/x now", `<a href="https://go.dev/x" rel="nofollow noopener noreferrer">https://go.dev/x</a>`},
		{"bare www", "see www.example.com now", `<a href="http://www.example.com" rel="nofollow noopener noreferrer">www.example.com</a>`},
		{"bare email", "mail a@example.com", `<a href="mailto:a@example.com" rel="nofollow noopener noreferrer">a@example.com</a>`},
		{"title breakout", `[t](https://example.com "\" onmouseover=alert(1) x=\"")`, `title="&quot; onmouseover=alert(1) x=&quot;"`},
		{"image title breakout", `![p](https://example.com/a.png "\" onerror=alert(1) x=\"")`, `title="&quot; onerror=alert(1) x=&quot;"`},
		{"image", "![logo](https://example.com/l.png)", `<img src="https://example.com/l.png" alt="logo" referrerpolicy="no-referrer" loading="lazy">`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(Markdown(tt.src))
			if !strings.Contains(out, tt.want) {
				t.Errorf("Markdown(%q) =\n%s\nwant it to contain\n%s", tt.src, out, tt.want)
			}
			checkInert(t, out)
		})
	}
}

func TestMarkdownBlocks(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"go fence", "```go\nfunc main() {}\n```", []string{`<pre class="chroma">`, `<span class="kd">func</span>`, `<span class="nf">main</span>`}},
		{"fence with info", "```python title=x.py\ndef f(): pass\n```", []string{`<pre class="chroma">`, `<span class="k">def</span>`}},
		{"unknown language", "```nosuchlang\na < b\n```", []string{`<pre class="chroma"><code>a &lt; b` + "\n</code></pre>"}},
		{"no language", "```\nx := 1\n```", []string{`<pre class="chroma"><code>x := 1` + "\n</code></pre>"}},
		{"table", "| a | b |\n|:--|--:|\n| 1 | 2 |", []string{"<table>", `<th align="left">a</th>`, `<td align="right">2</td>`}},
		{"strikethrough", "~~gone~~", []string{"<del>gone</del>"}},
		{"task list", "- [x] done\n- [ ] todo", []string{`<input checked="" disabled="" type="checkbox"> done`, `<input disabled="" type="checkbox"> todo`}},
		{"emphasis", "*a* **b**", []string{"<em>a</em>", "<strong>b</strong>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(Markdown(tt.src))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("Markdown(%q) =\n%s\nwant it to contain\n%s", tt.src, out, w)
				}
			}
			if strings.Contains(out, "style=") {
				t.Errorf("Markdown(%q) has a style attribute:\n%s", tt.src, out)
			}
		})
	}
}

func TestMarkdownTooLarge(t *testing.T) {
	src := strings.Repeat("<script>alert(1)</script> **x**\n", MaxMarkdown/32+1)
	out := string(Markdown(src))
	if !strings.HasPrefix(out, `<pre class="plain">&lt;script&gt;`) {
		t.Errorf("large input not shown preformatted: %.80s", out)
	}
	if strings.Contains(out, "<strong>") {
		t.Error("large input was parsed as Markdown")
	}
	checkInert(t, out)
}

func TestCode(t *testing.T) {
	const evil = "x := \"</pre><script>alert(1)</script>\"\n"
	tests := []struct {
		name    string
		html    template.HTML
		want    []string
		notWant []string
	}{
		{"go", Code("go", "func main() {}\n"), []string{`<pre class="chroma">`, `<span class="kd">func</span>`}, nil},
		{"alias", Code("golang", "func main() {}\n"), []string{`<span class="kd">func</span>`}, nil},
		{"case", Code("Python", "def f(): pass\n"), []string{`<span class="k">def</span>`}, nil},
		{"extension", Code("py", "def f(): pass\n"), []string{`<span class="k">def</span>`}, nil},
		{"escaped highlighted", Code("go", evil), []string{"&lt;/pre&gt;&lt;script&gt;"}, []string{"<script", "</pre><"}},
		{"escaped unknown", Code("nosuchlang", evil), []string{`<pre class="chroma"><code>x := &#34;&lt;/pre&gt;&lt;script&gt;`}, []string{"<script"}},
		{"escaped empty lang", Code("", evil), []string{"&lt;script&gt;"}, []string{"<script"}},
		{"path", CodeFor("cmd/app/main.go", "func main() {}\n"), []string{`<span class="kd">func</span>`}, nil},
		{"path by name", CodeFor("Makefile", "all:\n\tgo build\n"), []string{`<pre class="chroma">`, `<span class="line">`}, nil},
		{"path unknown", CodeFor("data.nosuchext", evil), []string{`<pre class="chroma"><code>x := `}, []string{"<script", `class="line"`}},
		{"large", Code("go", strings.Repeat("func f() {}\n", MaxHighlight/12+1)), []string{`<pre class="chroma"><code>func f() {}`}, []string{`class="kd"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(tt.html)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output %.300s\nwant it to contain %s", out, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output %.300s\nmust not contain %s", out, w)
				}
			}
			if strings.Contains(out, "style=") {
				t.Errorf("output has a style attribute: %.300s", out)
			}
		})
	}
}

func TestCSS(t *testing.T) {
	css := CSS()
	for _, w := range []string{".chroma {", ".chroma .kd {", ".chroma .s {"} {
		if !strings.Contains(css, w) {
			t.Errorf("CSS() lacks %q", w)
		}
	}
	// Every rule stays under .chroma, so the stylesheet cannot restyle the
	// rest of the page.
	for line := range strings.Lines(css) {
		if !strings.Contains(line, ".chroma") {
			t.Errorf("rule outside .chroma: %q", line)
		}
	}
}

// row is what a test reads back from one line of a rendered diff.
type row struct{ class, old, new string }

var diffRow = regexp.MustCompile(`<tr class="(\w+)"><td class="num old">(\d*)</td><td class="num new">(\d*)</td>`)

func rows(out string) []row {
	var rs []row
	for _, m := range diffRow.FindAllStringSubmatch(out, -1) {
		rs = append(rs, row{m[1], m[2], m[3]})
	}
	return rs
}

const samplePatch = `[
 {"oldStart":10,"oldLines":4,"newStart":10,"newLines":5,
  "lines":[" func load() error {","-\treturn nil","+\tx := \"</td><script>alert(1)</script>\"","+\treturn x"," }","\\ No newline at end of file"]},
 {"oldStart":40,"oldLines":2,"newStart":41,"newLines":1,
  "lines":["-a","-b","+c"]}
]`

func TestDiff(t *testing.T) {
	wantRows := []row{
		{"ctx", "10", "10"},
		{"del", "11", ""},
		{"add", "", "11"},
		{"add", "", "12"},
		{"ctx", "12", "13"},
		{"note", "", ""},
		{"del", "40", ""},
		{"del", "41", ""},
		{"add", "", "41"},
	}
	for _, path := range []string{"pkg/load.go", "", "notes.nosuchext"} {
		t.Run(path, func(t *testing.T) {
			h, err := Diff(json.RawMessage(samplePatch), path)
			if err != nil {
				t.Fatalf("Diff: %v", err)
			}
			out := string(h)
			got := rows(out)
			if fmt.Sprint(got) != fmt.Sprint(wantRows) {
				t.Errorf("rows\n got %v\nwant %v\n%s", got, wantRows, out)
			}
			for _, w := range []string{
				`<tr class="hunk"><td colspan="3">@@ -10,4 +10,5 @@</td></tr>`,
				`<tr class="hunk"><td colspan="3">@@ -40,2 +41,1 @@</td></tr>`,
			} {
				if !strings.Contains(out, w) {
					t.Errorf("no hunk header %s in\n%s", w, out)
				}
			}
			checkInert(t, out)
		})
	}
}

func TestDiffEscaped(t *testing.T) {
	h, err := Diff(json.RawMessage(`[{"oldStart":1,"oldLines":1,"newStart":1,"newLines":1,"lines":["-<iframe src=javascript:alert(1)>","+<script>alert(1)</script>","\\<img src=x onerror=alert(1)>"]}]`), "x.html")
	if err != nil {
		t.Fatal(err)
	}
	checkInert(t, string(h))
}

func TestDiffPlainExact(t *testing.T) {
	h, err := Diff(json.RawMessage(`[{"oldStart":1,"oldLines":3,"newStart":1,"newLines":2,"lines":["-a","-b&c","+c"," d"]}]`), "")
	if err != nil {
		t.Fatal(err)
	}
	want := `<table class="diff chroma">
<tbody>
<tr class="hunk"><td colspan="3">@@ -1,3 +1,2 @@</td></tr>
<tr class="del"><td class="num old">1</td><td class="num new"></td><td class="src">a</td></tr>
<tr class="del"><td class="num old">2</td><td class="num new"></td><td class="src">b&amp;c</td></tr>
<tr class="add"><td class="num old"></td><td class="num new">1</td><td class="src">c</td></tr>
<tr class="ctx"><td class="num old">3</td><td class="num new">2</td><td class="src">d</td></tr>
</tbody>
</table>`
	if string(h) != want {
		t.Errorf("Diff =\n%s\nwant\n%s", h, want)
	}
}

func TestDiffHighlighted(t *testing.T) {
	h, err := Diff(json.RawMessage(`[{"oldStart":1,"oldLines":1,"newStart":1,"newLines":1,"lines":["-func a() {}","+func b() {}"]}]`), "x.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(h), `<span class="kd">func</span>`) {
		t.Errorf("diff of a .go file not highlighted:\n%s", h)
	}
	// A line's newline belongs to the table row, not to its text, where
	// white-space: pre would show it as an empty line.
	if strings.Contains(string(h), "\n</td>") {
		t.Errorf("newline left in a line:\n%s", h)
	}
}

func TestDiffMalformed(t *testing.T) {
	tests := []struct{ name, patch string }{
		{"not json", `{"oldStart":`},
		{"object", `{"oldStart":1}`},
		{"null", `null`},
		{"string", `"@@ -1 +1 @@"`},
		{"missing lines", `[{"oldStart":1,"oldLines":1,"newStart":1,"newLines":1}]`},
		{"missing start", `[{"oldLines":1,"newStart":1,"newLines":1,"lines":[" a"]}]`},
		{"negative", `[{"oldStart":-1,"oldLines":1,"newStart":1,"newLines":1,"lines":[" a"]}]`},
		{"lines not strings", `[{"oldStart":1,"oldLines":1,"newStart":1,"newLines":1,"lines":[1]}]`},
		{"bad prefix", `[{"oldStart":1,"oldLines":1,"newStart":1,"newLines":1,"lines":["*a"]}]`},
		{"empty line", `[{"oldStart":1,"oldLines":1,"newStart":1,"newLines":1,"lines":[""]}]`},
		{"newline inside", `[{"oldStart":1,"oldLines":1,"newStart":1,"newLines":1,"lines":["+a\nb"]}]`},
		{"start not a number", `[{"oldStart":"1","oldLines":1,"newStart":1,"newLines":1,"lines":[" a"]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Diff(json.RawMessage(tt.patch), "a.go")
			if err == nil {
				t.Errorf("Diff(%s) = %s, want an error", tt.patch, h)
			}
		})
	}
}

func TestDiffEmpty(t *testing.T) {
	h, err := Diff(json.RawMessage(`[]`), "a.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows(string(h))) != 0 {
		t.Errorf("empty patch has rows: %s", h)
	}
}

func TestNewFile(t *testing.T) {
	numbered := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "line %d\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name    string
		path    string
		content string
		rows    int
		more    string
	}{
		{"empty", "a.txt", "", 0, ""},
		{"one line no newline", "a.txt", "x", 1, ""},
		{"three lines", "a.go", "package a\n\nvar x = 1\n", 3, ""},
		{"blank last line", "a.txt", "a\n\n", 2, ""},
		{"at cap", "a.txt", numbered(MaxNewFileLines), MaxNewFileLines, ""},
		{"one over", "a.txt", numbered(MaxNewFileLines + 1), MaxNewFileLines, "1 more line not shown"},
		{"over cap", "a.txt", numbered(MaxNewFileLines + 5), MaxNewFileLines, "5 more lines not shown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(NewFile(tt.path, tt.content))
			rs := rows(out)
			if len(rs) != tt.rows {
				t.Fatalf("%d rows, want %d:\n%.500s", len(rs), tt.rows, out)
			}
			for i, r := range rs {
				if want := (row{"add", "", fmt.Sprint(i + 1)}); r != want {
					t.Fatalf("row %d = %v, want %v", i, r, want)
				}
			}
			if tt.more == "" && strings.Contains(out, `class="more"`) {
				t.Errorf("unexpected more row")
			}
			if tt.more != "" && !strings.Contains(out, `<tr class="more"><td colspan="3">`+tt.more+`</td></tr>`) {
				t.Errorf("no %q row in %.200s", tt.more, out[len(out)-200:])
			}
		})
	}
}

func TestNewFileEscapedAndHighlighted(t *testing.T) {
	out := string(NewFile("web/x.go", "package x\n\nconst s = \"</td></tr></table><script>alert(1)</script>\"\n"))
	checkInert(t, out)
	if !strings.Contains(out, `<span class="kn">package</span>`) {
		t.Errorf("not highlighted:\n%s", out)
	}
}

func TestImage(t *testing.T) {
	const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
	tests := []struct {
		name, mediaType, data string
		ok                    bool
	}{
		{"png", "image/png", png, true},
		{"jpeg", "image/jpeg", "/9j/4AAQ", true},
		{"gif", "image/gif", "R0lGODlhAQABAAAAACw=", true},
		{"webp", "image/webp", "UklGRg==", true},
		{"svg", "image/svg+xml", "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+", false},
		{"html", "text/html", "PHNjcmlwdD4=", false},
		{"empty type", "", png, false},
		{"type with parameter", "image/png;charset=x", png, false},
		{"empty data", "image/png", "", false},
		{"bad length", "image/png", "iVBORw0KGgo", false},
		{"bad character", "image/png", "iVBO!w0KGgo=", false},
		{"newline", "image/png", "iVBORw0K\nGg=", false},
		{"quote", "image/png", `iVBO"w0KGgo=`, false},
		{"url alphabet", "image/png", "iVBO-w0_Ggo=", false},
		{"three pads", "image/png", "iV===", false},
		{"pad inside", "image/png", "iV==w0KGgo=", false},
		{"all pad", "image/png", "====", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok := Image(tt.mediaType, tt.data)
			if ok != tt.ok {
				t.Fatalf("Image(%q, %q) ok = %v, want %v", tt.mediaType, tt.data, ok, tt.ok)
			}
			if !ok {
				if u != "" {
					t.Errorf("refused image has URL %q", u)
				}
				return
			}
			if want := template.URL("data:" + tt.mediaType + ";base64," + tt.data); u != want {
				t.Errorf("URL %q, want %q", u, want)
			}
		})
	}
}

// TestImageInTemplate checks the reason Image returns template.URL: that
// html/template keeps the data: URL in an img src instead of replacing it.
func TestImageInTemplate(t *testing.T) {
	u, ok := Image("image/png", "iVBORw0KGgo=")
	if !ok {
		t.Fatal("png refused")
	}
	tpl := template.Must(template.New("img").Parse(`<img src="{{.}}">`))
	var b strings.Builder
	if err := tpl.Execute(&b, u); err != nil {
		t.Fatal(err)
	}
	if want := `<img src="data:image/png;base64,iVBORw0KGgo=">`; b.String() != want {
		t.Errorf("template wrote %s, want %s", b.String(), want)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s         string
		max       int
		head      string
		truncated bool
	}{
		{"hello", 10, "hello", false},
		{"hello", 5, "hello", false},
		{"hello", 4, "hell", true},
		{"hello", 0, "", true},
		{"hello", -1, "", true},
		{"", 0, "", false},
		{"héllo", 2, "h", true},
		{"héllo", 3, "hé", true},
		{"a€b", 2, "a", true},
		{"a€b", 3, "a", true},
		{"a€b", 4, "a€", true},
		{"😀😀", 7, "😀", true},
		{"😀", 3, "", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.s, tt.max), func(t *testing.T) {
			head, truncated := Truncate(tt.s, tt.max)
			if head != tt.head || truncated != tt.truncated {
				t.Errorf("Truncate(%q, %d) = %q, %v; want %q, %v", tt.s, tt.max, head, truncated, tt.head, tt.truncated)
			}
		})
	}
}

// TestTruncateEveryCut cuts a text of runes of every width at every length
// and checks that no rune is split and no more is lost than part of one.
func TestTruncateEveryCut(t *testing.T) {
	s := "aé€😀b\u00a0z😀€éa"
	for max := 0; max <= len(s)+1; max++ {
		head, truncated := Truncate(s, max)
		if !strings.HasPrefix(s, head) {
			t.Fatalf("max %d: %q is not a prefix", max, head)
		}
		if !utf8.ValidString(head) {
			t.Errorf("max %d: %q splits a rune", max, head)
		}
		if len(head) > max || (max < len(s) && len(head) <= max-utf8.UTFMax) {
			t.Errorf("max %d: head of %d bytes", max, len(head))
		}
		if truncated != (max < len(s)) {
			t.Errorf("max %d: truncated = %v", max, truncated)
		}
	}
}

// BenchmarkMarkdown renders a message of about 5 KB, as prose alone and
// with a fenced Go block per section, since highlighting dominates the cost.
func BenchmarkMarkdown(b *testing.B) {
	for _, bc := range []struct {
		name  string
		fence bool
	}{{"prose", false}, {"code", true}} {
		var src strings.Builder
		for src.Len() < 5000 {
			src.WriteString("## Plan\n\nI read `server/render/markdown.go` and the **tests**; see [the docs](https://go.dev/doc/) and https://example.com/x.\n\n")
			src.WriteString("- [x] parse the patch\n- [ ] highlight *each* hunk\n\n| file | lines |\n|---|--:|\n| a.go | 12 |\n\n")
			if bc.fence {
				src.WriteString("```go\nfunc Render(w io.Writer, s string) error {\n\t_, err := io.WriteString(w, s)\n\treturn err\n}\n```\n\n")
			}
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(src.Len()))
			for b.Loop() {
				Markdown(src.String())
			}
		})
	}
}
