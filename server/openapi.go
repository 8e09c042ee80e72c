package server

import (
	_ "embed"
	"encoding/json"
	"net/http"
)

// openAPIDoc describes every route of the team API.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI is GET /api/v1/openapi.json, with the server's public URL, else
// the address the request came to.
func (t *TeamAPI) openAPI(w http.ResponseWriter, r *http.Request) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.writeError(w, r, err)
		return
	}
	url := t.opts.PublicURL
	if url == "" {
		url = "http://" + r.Host // as the client reached it
	}
	doc["servers"] = []map[string]string{{"url": url}}
	t.writeJSON(w, r, http.StatusOK, doc)
}
