package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"

	"github.com/alecthomas/chroma/v2"
)

// MaxNewFileLines is how many lines of a created file NewFile shows; the
// rest is summed up in a closing row.
const MaxNewFileLines = 2000

// hunk is one element of the structuredPatch that Claude Code's Edit,
// MultiEdit and Write results carry. Pointers tell a missing field from a
// zero, so that a patch of another shape is refused rather than drawn with
// wrong line numbers.
type hunk struct {
	OldStart *int      `json:"oldStart"`
	OldLines *int      `json:"oldLines"`
	NewStart *int      `json:"newStart"`
	NewLines *int      `json:"newLines"`
	Lines    *[]string `json:"lines"`
}

// Diff renders a structuredPatch as a unified diff table for the file at
// path, highlighted by the file's type. Each hunk opens with a row of class
// "hunk" holding its "@@ -a,b +c,d @@" header; each line is a row of class
// "add", "del" or "ctx" ("note" for "\ No newline at end of file") with
// cells "num old", "num new" and "src". A patch that is not a list of
// well-formed hunks returns an error, and the caller shows it raw.
func Diff(structuredPatch json.RawMessage, path string) (template.HTML, error) {
	hunks, err := parsePatch(structuredPatch)
	if err != nil {
		return "", fmt.Errorf("render diff of %s: %w", path, err)
	}
	lexer := lexerByPath(path)
	var b strings.Builder
	b.WriteString(`<table class="diff chroma">`)
	for _, h := range hunks {
		fmt.Fprintf(&b, "\n<tbody>\n<tr class=\"hunk\"><td colspan=\"3\">@@ -%d,%d +%d,%d @@</td></tr>",
			*h.OldStart, *h.OldLines, *h.NewStart, *h.NewLines)
		writeHunk(&b, h, lexer)
		b.WriteString("\n</tbody>")
	}
	b.WriteString("\n</table>")
	return template.HTML(b.String()), nil
}

func parsePatch(raw json.RawMessage) ([]hunk, error) {
	var hunks []hunk
	if err := json.Unmarshal(raw, &hunks); err != nil {
		return nil, fmt.Errorf("decode structuredPatch: %w", err)
	}
	if hunks == nil {
		return nil, errors.New("structuredPatch is not a list")
	}
	for i, h := range hunks {
		if err := h.check(); err != nil {
			return nil, fmt.Errorf("hunk %d: %w", i, err)
		}
	}
	return hunks, nil
}

func (h hunk) check() error {
	for _, f := range []struct {
		name string
		v    *int
	}{{"oldStart", h.OldStart}, {"oldLines", h.OldLines}, {"newStart", h.NewStart}, {"newLines", h.NewLines}} {
		if f.v == nil {
			return fmt.Errorf("missing %s", f.name)
		}
		if *f.v < 0 {
			return fmt.Errorf("negative %s %d", f.name, *f.v)
		}
	}
	if h.Lines == nil {
		return errors.New("missing lines")
	}
	for j, l := range *h.Lines {
		if l == "" || !strings.ContainsRune("+- \\", rune(l[0])) {
			return fmt.Errorf("line %d: no '+', '-', ' ' or '\\' in front: %q", j, l)
		}
		// One string is one line; a newline inside would shift every
		// line number after it.
		if strings.Contains(l, "\n") {
			return fmt.Errorf("line %d: newline inside: %q", j, l)
		}
	}
	return nil
}

// writeHunk writes the rows of one hunk. Its lines, old and new together,
// are highlighted as one text: interleaved that way they read as code
// often enough, and far more often than lines lexed one by one.
func writeHunk(b *strings.Builder, h hunk, lexer chroma.Lexer) {
	lines := *h.Lines
	var src strings.Builder
	for _, l := range lines {
		if l[0] != '\\' {
			src.WriteString(l[1:])
			src.WriteByte('\n')
		}
	}
	code := highlightLines(lexer, src.String())
	oldN, newN := *h.OldStart, *h.NewStart
	k := 0
	for _, l := range lines {
		if l[0] == '\\' {
			writeRow(b, "note", "", "", template.HTML(html.EscapeString(l)))
			continue
		}
		c := code[k]
		k++
		switch l[0] {
		case '+':
			writeRow(b, "add", "", strconv.Itoa(newN), c)
			newN++
		case '-':
			writeRow(b, "del", strconv.Itoa(oldN), "", c)
			oldN++
		default:
			writeRow(b, "ctx", strconv.Itoa(oldN), strconv.Itoa(newN), c)
			oldN++
			newN++
		}
	}
}

// writeRow writes one line of a diff; an empty number leaves its cell
// empty, as for the old side of an added line.
func writeRow(b *strings.Builder, class, oldN, newN string, code template.HTML) {
	fmt.Fprintf(b, "\n<tr class=\"%s\"><td class=\"num old\">%s</td><td class=\"num new\">%s</td><td class=\"src\">%s</td></tr>",
		class, oldN, newN, code)
}

// NewFile renders the content of a file that a Write created as a diff
// table of added lines, numbered from 1 and highlighted by path, in the
// classes Diff uses. Past MaxNewFileLines it stops, with a last row of
// class "more" saying how many lines are not shown.
func NewFile(path, content string) template.HTML {
	var b strings.Builder
	b.WriteString(`<table class="diff chroma">` + "\n<tbody>")
	if content != "" {
		head, rest := splitLines(content, MaxNewFileLines)
		for i, c := range highlightLines(lexerByPath(path), head) {
			writeRow(&b, "add", "", strconv.Itoa(i+1), c)
		}
		if rest > 0 {
			unit := "lines"
			if rest == 1 {
				unit = "line"
			}
			fmt.Fprintf(&b, "\n<tr class=\"more\"><td colspan=\"3\">%d more %s not shown</td></tr>", rest, unit)
		}
	}
	b.WriteString("\n</tbody>\n</table>")
	return template.HTML(b.String())
}

// splitLines returns the first max lines of s, each with its newline, and
// how many lines follow them; a final newline does not start a line.
func splitLines(s string, max int) (head string, rest int) {
	i := 0
	for range max {
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			return s, 0
		}
		i += j + 1
	}
	tail := s[i:]
	if tail == "" {
		return s, 0
	}
	return s[:i], strings.Count(strings.TrimSuffix(tail, "\n"), "\n") + 1
}
