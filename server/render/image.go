package render

import "html/template"

// imageTypes are the media types browsers render as pictures and nothing
// else. SVG is left out on purpose: it is a document that can carry script.
var imageTypes = map[string]bool{
	"image/png":  true,
	"image/jpeg": true,
	"image/gif":  true,
	"image/webp": true,
}

// Image returns a data: URL for an image content block, for an <img src>,
// when mediaType is PNG, JPEG, GIF or WebP and data is standard base64; ok
// is false otherwise. html/template refuses data: URLs in src unless they
// come as template.URL, which is why the checks live here.
func Image(mediaType, data string) (u template.URL, ok bool) {
	if !imageTypes[mediaType] || !isBase64(data) {
		return "", false
	}
	return template.URL("data:" + mediaType + ";base64," + data), true
}

// isBase64 reports whether s is padded standard base64 with nothing else in
// it. encoding/base64 would skip newlines, and anything it skips could end
// the URL's attribute or change its meaning, so the alphabet is checked
// here byte by byte.
func isBase64(s string) bool {
	if s == "" || len(s)%4 != 0 {
		return false
	}
	pad := 0
	for i := len(s) - 1; i >= 0 && s[i] == '=' && pad < 3; i-- {
		pad++
	}
	if pad > 2 {
		return false
	}
	for i := range len(s) - pad {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
