package rules

import (
	"fmt"
	"strings"
)

// ParseWhere splits a conditional-sampling argument such as the CLI's
// --where "city = Paris" into its column and value. The split is at the first
// '=', so values may contain '='; spaces around both parts are trimmed. An
// argument without '=' or with an empty column is ErrInvalid. An empty value
// is allowed: it fixes the column to missing.
func ParseWhere(s string) (col, value string, err error) {
	col, value, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("rules.ParseWhere %q: want column=value: %w", s, ErrInvalid)
	}
	col, value = strings.TrimSpace(col), strings.TrimSpace(value)
	if col == "" {
		return "", "", fmt.Errorf("rules.ParseWhere %q: empty column: %w", s, ErrInvalid)
	}
	return col, value, nil
}
