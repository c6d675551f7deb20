package api

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3.1 description of every /v1 route;
// TestOpenAPIMatchesRouter keeps it true to the handlers.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPIHandler serves GET /v1/openapi.json (no token needed).
func OpenAPIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeRaw(w, http.StatusOK, openAPIDoc)
	})
}
