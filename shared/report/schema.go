package report

import _ "embed"

//go:embed report.schema.json
var schema []byte

// Schema returns the JSON Schema (draft 2020-12) of the Report JSON that
// WriteJSON writes, for consumers that validate reports before acting on
// them. The caller may modify the returned slice.
func Schema() []byte { return append([]byte(nil), schema...) }
