package browser

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Screenshot saves a PNG of the whole page of ctx's tab as name (".png" is
// added if missing) in a directory that outlives the test, so that it can be
// looked at afterwards: $INSIGHTS_SCREENSHOTS/<TestName>/, else
// insights-screenshots/<TestName>/ in the system's temporary directory.
// It returns the file's path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	root := os.Getenv("INSIGHTS_SCREENSHOTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "insights-screenshots")
	}
	dir := filepath.Join(root, filepath.FromSlash(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if !strings.HasSuffix(name, ".png") {
		name += ".png"
	}
	path := filepath.Join(dir, filepath.Base(name))

	// Quality 100 is what makes chromedp ask for PNG rather than JPEG.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
