package profile

import (
	"slices"
	"testing"
)

func TestNameWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"customer_id", []string{"customer", "id"}},
		{"customerID", []string{"customer", "id"}},
		{"CustomerId", []string{"customer", "id"}},
		{"e-mail", []string{"e", "mail"}},
		{"education-num", []string{"education", "num"}},
		{"SSN", []string{"ssn"}},
		{"", nil},
		{"123", nil},
	}
	for _, tt := range tests {
		if got := nameWords(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("nameWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
