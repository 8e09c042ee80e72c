// Package templates holds the HTML templates of the UI, embedded in the
// binary: layout.html wraps every page; each other file is one page.
package templates

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"strings"
)

//go:embed *.html
var files embed.FS

// Parse parses every page with the layout and the given functions, by page
// name (the file name without .html).
func Parse(funcs template.FuncMap) (map[string]*template.Template, error) {
	names, err := fs.Glob(files, "*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		if name == "layout.html" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pages[strings.TrimSuffix(name, ".html")] = t
	}
	return pages, nil
}
