package render

import (
	"html"
	"html/template"
	"path/filepath"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
)

// MaxHighlight is the size above which source is shown escaped but not
// highlighted: chroma's regular expressions can backtrack badly on large or
// unusual input, and a page that hangs is worse than a page without colour.
const MaxHighlight = 256 << 10

// styleName is the chroma style whose stylesheet CSS returns. Output uses
// classes only, so the style matters for CSS and nowhere else.
const styleName = "github"

// formatter writes classes rather than style attributes because the pages
// are served under a Content-Security-Policy that keeps inline styles out.
var formatter = chromahtml.New(chromahtml.WithClasses(true))

// lineFormatter writes the tokens of one line with no wrapper, for the
// diff views, which lay lines out in a table of their own.
var lineFormatter = chromahtml.New(chromahtml.WithClasses(true), chromahtml.PreventSurroundingPre(true))

// CSS returns the stylesheet for the classes in Code, CodeFor, Markdown's
// code blocks, Diff and NewFile, to be served as a static file.
func CSS() string {
	return stylesheet()
}

var stylesheet = sync.OnceValue(func() string {
	var all strings.Builder
	if err := formatter.WriteCSS(&all, style()); err != nil {
		// Writing to a strings.Builder cannot fail; an error here means a
		// broken style, which the tests catch.
		return ""
	}
	// chroma also writes a rule for a bare .bg, meant for the body of a
	// standalone page; here it would reach any element of the app that
	// happens to use that class. Only rules under .chroma are kept.
	var b strings.Builder
	for line := range strings.Lines(all.String()) {
		rule := line
		if strings.HasPrefix(rule, "/*") {
			if _, after, ok := strings.Cut(rule, "*/"); ok {
				rule = strings.TrimLeft(after, " ")
			}
		}
		if strings.HasPrefix(rule, ".chroma") {
			b.WriteString(line)
		}
	}
	return b.String()
})

func style() *chroma.Style {
	return styles.Get(styleName)
}

// Code highlights src as the language lang (a chroma name, alias or file
// extension such as "go", "Python" or "rs") inside <pre class="chroma">.
// An unknown language, or src over MaxHighlight, is shown escaped.
func Code(lang, src string) template.HTML {
	return highlight(lexerByName(lang), src)
}

// CodeFor highlights src with the lexer that chroma picks for the file
// path, such as "cmd/main.go" or "Makefile", and shows it escaped when no
// lexer matches.
func CodeFor(path, src string) template.HTML {
	return highlight(lexerByPath(path), src)
}

func lexerByName(lang string) chroma.Lexer {
	lang = strings.TrimSpace(lang)
	if lang == "" {
		return nil
	}
	return lexers.Get(lang)
}

func lexerByPath(path string) chroma.Lexer {
	if path == "" {
		return nil
	}
	// Matching a name tries every lexer's patterns in turn: remember the
	// answer for each extension (or each name without one).
	key := filepath.Base(path)
	if ext := filepath.Ext(key); ext != "" && ext != key {
		key = "*" + ext
	}
	if v, ok := lexerCache.Load(key); ok {
		l, _ := v.(chroma.Lexer)
		return l
	}
	l := lexers.Match(strings.TrimPrefix(key, "*"))
	if l == nil && strings.HasPrefix(key, "*") {
		l = lexers.Match("x" + strings.TrimPrefix(key, "*"))
	}
	lexerCache.Store(key, l)
	return l
}

var lexerCache sync.Map // extension or name → chroma.Lexer (nil: none)

func highlight(lexer chroma.Lexer, src string) template.HTML {
	if lexer == nil || len(src) > MaxHighlight {
		return plain(src)
	}
	it, err := chroma.Coalesce(lexer).Tokenise(nil, src)
	if err != nil {
		return plain(src)
	}
	var b strings.Builder
	if err := formatter.Format(&b, style(), it); err != nil {
		return plain(src)
	}
	return template.HTML(b.String())
}

// plain is the unhighlighted form of a code block, in the same wrapper so
// the page styles both alike.
func plain(src string) template.HTML {
	return template.HTML(`<pre class="chroma"><code>` + html.EscapeString(src) + `</code></pre>`)
}

// highlightLines splits src into lines and returns each as HTML, highlighted
// by lexer when there is one. The whole text is tokenised at once so that
// strings and comments spanning lines keep their colour. The result has one
// entry per line of src, a final newline not counting as the start of one.
func highlightLines(lexer chroma.Lexer, src string) []template.HTML {
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	out := make([]template.HTML, len(lines))
	if lexer != nil && len(src) <= MaxHighlight {
		if it, err := chroma.Coalesce(lexer).Tokenise(nil, src); err == nil {
			if formatLines(it.Tokens(), out) {
				return out
			}
		}
	}
	for i, l := range lines {
		out[i] = template.HTML(html.EscapeString(l))
	}
	return out
}

// formatLines fills out with the formatted token lines and reports whether
// the lexer produced exactly as many lines as expected; when it did not,
// the caller falls back to plain text rather than misalign line numbers.
func formatLines(tokens []chroma.Token, out []template.HTML) bool {
	lines := chroma.SplitTokensIntoLines(tokens)
	// A lexer that ensures a final newline yields no extra line for it, but
	// one that does not may leave an empty trailing line behind.
	for len(lines) > len(out) && lineText(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) != len(out) {
		return false
	}
	var b strings.Builder
	for i, line := range lines {
		if n := len(line); n > 0 {
			last := line[n-1]
			last.Value = strings.TrimSuffix(last.Value, "\n")
			line = line[: n-1 : n-1]
			if last.Value != "" {
				line = append(line, last)
			}
		}
		b.Reset()
		if err := lineFormatter.Format(&b, style(), chroma.Literator(line...)); err != nil {
			return false
		}
		out[i] = template.HTML(b.String())
	}
	return true
}

func lineText(line []chroma.Token) string {
	var b strings.Builder
	for _, t := range line {
		b.WriteString(t.Value)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
