package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 document of every route, schema and error of
// this API; openapi_test.go checks real responses against it.
//
//go:embed openapi.json
var openAPI []byte

// serveOpenAPI: GET /v1/openapi.json, unauthenticated.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPI)
}
