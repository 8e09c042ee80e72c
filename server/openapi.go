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

// openAPI is GET /api/v1/openapi.json, with the server's public URL.
func (t *TeamAPI) openAPI(w http.ResponseWriter, r *http.Request) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.writeError(w, r, err)
		return
	}
	if t.opts.PublicURL != "" {
		doc["servers"] = []map[string]string{{"url": t.opts.PublicURL}}
	}
	t.writeJSON(w, r, http.StatusOK, doc)
}
