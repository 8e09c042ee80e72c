// Package static holds the UI's stylesheets and scripts, embedded in the
// binary: the pages load nothing from elsewhere.
package static

import "embed"

// Files are the static files, served under /static/.
//
//go:embed *.css *.js *.svg
var Files embed.FS
