package errs

import "testing"

func TestClosest(t *testing.T) {
	t.Parallel()
	cols := []string{"age", "sex", "bmi", "children", "smoker", "region", "charges"}
	tests := []struct{ name, want string }{
		{"chargs", "charges"}, // one deletion, within 6/3 = 2
		{"smokr", "smoker"},
		{"Age", "age"},           // case only
		{"agee", "age"},          // one insertion, limit max(4/3, 1) = 1
		{"income", ""},           // nothing within 2 edits
		{"xyz", ""},              // "sex" is 2 edits away, limit 1
		{"childern", "children"}, // a transposition is 2 edits, limit 8/3 = 2
		{"charg", "charges"},     // 2 edits, limit 1, but a prefix
		{"ch", ""},               // too short to be taken for a prefix
	}
	for _, tt := range tests {
		if got := Closest(tt.name, cols); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := DidYouMean("chargs", cols); got != `; did you mean "charges"?` {
		t.Errorf("DidYouMean = %q", got)
	}
	if got := DidYouMean("income", cols); got != "" {
		t.Errorf("DidYouMean(income) = %q, want none", got)
	}
}
