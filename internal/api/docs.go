package api

import (
	"net/http"

	"github.com/swaggest/swgui/v5emb"
)

func handleOpenAPI(document []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(document)
	})
}

// handleDocs serves Swagger UI from assets embedded in the binary (no CDN), pointed at
// /openapi.yaml so "Try it out" calls this gateway.
func handleDocs() http.Handler {
	return v5emb.New("Customer gateway", "/openapi.yaml", "/docs/")
}
