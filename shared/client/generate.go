package client

// The generated types and ClientWithResponses come from the API's own
// OpenAPI document, so a route or schema change there shows up here on the
// next `go generate ./shared/client` (and the operation test fails until it
// does).
//
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-codegen.yaml ../../functions/api/openapi.json
