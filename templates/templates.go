// Package templates holds the HTML templates of the UI, embedded in the
// binary: layout.html wraps every page, files named _*.html hold parts
// pages share, and each other file is one page.
package templates

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"slices"
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
	shared := []string{"layout.html"}
	for _, name := range names {
		if strings.HasPrefix(name, "_") {
			shared = append(shared, name)
		}
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		if slices.Contains(shared, name) {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(files, append(shared, name)...)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pages[strings.TrimSuffix(name, ".html")] = t
	}
	return pages, nil
}
