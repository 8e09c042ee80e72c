package render

import (
	"bytes"
	"html"
	"html/template"
	"log/slog"
	"net/url"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// MaxMarkdown is the size above which Markdown shows its input as escaped
// preformatted text: a message that large is a pasted log or file, not
// prose, and parsing it would cost time for no gain.
const MaxMarkdown = 1 << 20

// linkRel keeps followed links from passing ranking to, or learning the
// address of, the replay page, and keeps the opened page from reaching back
// through window.opener.
const linkRel = "nofollow noopener noreferrer"

// md is safe for concurrent use: goldmark parsers and renderers keep no
// per-document state. Raw HTML stays disabled (no html.WithUnsafe), so
// goldmark writes "<!-- raw HTML omitted -->" in its place.
var md = goldmark.New(
	goldmark.WithExtensions(
		extension.NewTable(
			// The align attribute rather than a style attribute, which the
			// Content-Security-Policy of the pages would block.
			extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute),
		),
		extension.Strikethrough,
		extension.Linkify,
		extension.TaskList,
	),
	goldmark.WithParserOptions(
		parser.WithASTTransformers(util.Prioritized(linkFilter{}, 1000)),
	),
	goldmark.WithRendererOptions(
		// Lower numbers win; goldmark's own HTML renderer sits at 1000.
		renderer.WithNodeRenderers(util.Prioritized(fenceRenderer{}, 100)),
	),
)

// Markdown renders GitHub-flavoured Markdown (tables, strikethrough,
// autolinks, task lists) as HTML. Raw HTML is omitted; links and images
// whose scheme is not http, https or mailto are reduced to their text;
// links carry rel="nofollow noopener noreferrer"; fenced code is
// highlighted as by Code. Input over MaxMarkdown is shown escaped in a
// <pre class="plain">.
func Markdown(src string) template.HTML {
	if len(src) > MaxMarkdown {
		return preformatted(src)
	}
	var b bytes.Buffer
	if err := md.Convert([]byte(src), &b); err != nil {
		// goldmark only fails when its writer does, and a bytes.Buffer
		// does not; show the text rather than nothing if that changes.
		slog.Warn("render markdown", "err", err, "bytes", len(src))
		return preformatted(src)
	}
	return template.HTML(b.String())
}

func preformatted(src string) template.HTML {
	return template.HTML(`<pre class="plain">` + html.EscapeString(src) + `</pre>`)
}

// linkFilter removes links and images that point anywhere but the web or a
// mail address, keeping their text, and marks the links it keeps.
// Filtering the tree rather than the output means the renderer's own
// escaping still applies to everything that is written.
type linkFilter struct{}

// Transform implements parser.ASTTransformer.
func (linkFilter) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	source := reader.Source()
	var unsafe []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			if !allowedURL(n.Destination) {
				unsafe = append(unsafe, n)
				break
			}
			n.SetAttributeString("rel", []byte(linkRel))
		case *ast.Image:
			if !allowedURL(n.Destination) {
				unsafe = append(unsafe, n)
				break
			}
			// Remote images would otherwise tell their host which
			// session page is open.
			n.SetAttributeString("referrerpolicy", []byte("no-referrer"))
			n.SetAttributeString("loading", []byte("lazy"))
		case *ast.AutoLink:
			if !allowedURL(n.URL(source)) {
				unsafe = append(unsafe, n)
				break
			}
			n.SetAttributeString("rel", []byte(linkRel))
		}
		return ast.WalkContinue, nil
	})
	// Changing the tree during the walk would confuse it; the nodes are
	// unwrapped afterwards, each from wherever it sits by then.
	for _, n := range unsafe {
		unwrap(n, source)
	}
}

// unwrap replaces n by its children, or an autolink by its label.
func unwrap(n ast.Node, source []byte) {
	parent := n.Parent()
	if parent == nil {
		return
	}
	if a, ok := n.(*ast.AutoLink); ok {
		s := ast.NewString(a.Label(source))
		// Raw: escaped, but not scanned again for entities and backslash
		// escapes, which the autolink's label never had.
		s.SetRaw(true)
		parent.ReplaceChild(parent, n, s)
		return
	}
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		parent.InsertBefore(parent, n, c)
		c = next
	}
	parent.RemoveChild(parent, n)
}

// allowedURL reports whether dest is relative (a path, a query or a
// fragment) or uses the http, https or mailto scheme. It reads dest as the
// renderer will write it, with backslash escapes and character references
// resolved, and errs on the side of refusing: the forms with references
// and percent escapes decoded once more must pass too. Control characters
// and spaces, which browsers drop from a URL, need no special case: any
// text before a colon that is not one of the three schemes is refused.
func allowedURL(dest []byte) bool {
	written := string(util.URLEscape(dest, true))
	for _, s := range []string{string(dest), written, html.UnescapeString(written)} {
		if !allowedScheme(s) {
			return false
		}
		if u, err := url.PathUnescape(s); err == nil && !allowedScheme(u) {
			return false
		}
	}
	return true
}

func allowedScheme(s string) bool {
	i := strings.IndexAny(s, ":/?#")
	if i < 0 || s[i] != ':' {
		return true
	}
	switch strings.ToLower(s[:i]) {
	case "http", "https", "mailto":
		return true
	}
	return false
}

// fenceRenderer writes fenced code blocks through Code, so Markdown and the
// tool views highlight alike, on the server, with no script in the page.
type fenceRenderer struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (fenceRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, renderFence)
}

func renderFence(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.FencedCodeBlock)
	var src strings.Builder
	lines := n.Lines()
	for i := range lines.Len() {
		seg := lines.At(i)
		src.Write(seg.Value(source))
	}
	var lang string
	if n.Info != nil {
		lang = string(n.Language(source))
	}
	if _, err := w.WriteString(string(Code(lang, src.String()))); err != nil {
		return ast.WalkStop, err
	}
	if err := w.WriteByte('\n'); err != nil {
		return ast.WalkStop, err
	}
	return ast.WalkSkipChildren, nil
}
