package profile

import (
	"testing"
	"time"
)

func TestIsMissing(t *testing.T) {
	t.Parallel()
	col := &Column{MissingTokens: []string{"", "?"}}
	tests := []struct {
		cell string
		c    *Column
		want bool
	}{
		{"", col, true},
		{"   ", col, true},
		{"?", col, true},
		{" ?", col, true},
		{"NA", col, false}, // not seen in this column
		{"NA", nil, true},  // default tokens
		{"None", nil, true},
		{"none", nil, false},
		{"-", nil, true},
		{"-5", nil, false},
		{"State-gov", col, false},
		{" State-gov", nil, false},
		{"", &Column{}, true}, // blank is always missing
	}
	for _, tt := range tests {
		if got := IsMissing(tt.cell, tt.c); got != tt.want {
			t.Errorf("IsMissing(%q, %v) = %v, want %v", tt.cell, tt.c, got, tt.want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cell string
		want float64
		ok   bool
	}{
		{"42", 42, true},
		{" 42 ", 42, true},
		{"-3.5", -3.5, true},
		{"+7", 7, true},
		{"0", 0, true},
		{"0.25", 0.25, true},
		{".5", 0.5, true},
		{"5.", 5, true},
		{"1e3", 1000, true},
		{"1.5E-2", 0.015, true},
		{"123456789012345678", 123456789012345678, true},
		{"007", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{".", 0, false},
		{"1e", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"0x10", 0, false},
		{"1_000", 0, false},
		{"1,000", 0, false},
		{"12a", 0, false},
		{"1e400", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseNumber(tt.cell)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v, %v", tt.cell, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDecimals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cell string
		n    int
		frac bool
	}{
		{"42", 0, false},
		{"33.0", 1, true},
		{"1.2345", 4, true},
		{"1e5", 0, true},
		{"1.25e-3", 2, true},
	}
	for _, tt := range tests {
		if n, frac := decimals(tt.cell); n != tt.n || frac != tt.frac {
			t.Errorf("decimals(%q) = %d, %v; want %d, %v", tt.cell, n, frac, tt.n, tt.frac)
		}
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cell, layout string
		want         time.Time
		ok           bool
	}{
		{"2024-03-01", "2006-01-02", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{" 2024-03-01 ", "2006-01-02", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"31/01/2020", "02/01/2006", time.Date(2020, 1, 31, 0, 0, 0, 0, time.UTC), true},
		{"31/01/2020", "01/02/2006", time.Time{}, false},
		{"Mar 5, 2021", "Jan 2, 2006", time.Date(2021, 3, 5, 0, 0, 0, 0, time.UTC), true},
		{"yesterday", "2006-01-02", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseTime(tt.cell, tt.layout)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q, %q) = %v, %v; want %v, %v", tt.cell, tt.layout, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseBool(t *testing.T) {
	t.Parallel()
	c := &Column{Kind: Boolean, TrueToken: "yes", FalseToken: "no"}
	tests := []struct {
		cell      string
		value, ok bool
	}{
		{"yes", true, true},
		{" YES", true, true},
		{"no", false, true},
		{"No ", false, true},
		{"maybe", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if v, ok := ParseBool(tt.cell, c); v != tt.value || ok != tt.ok {
			t.Errorf("ParseBool(%q) = %v, %v; want %v, %v", tt.cell, v, ok, tt.value, tt.ok)
		}
	}
}

func TestHotPathsDoNotAllocate(t *testing.T) {
	c := &Column{MissingTokens: []string{"", "?"}}
	cells := []string{" State-gov", "?", "42", "-3.25", "abc", "1e5"}
	n := testing.AllocsPerRun(100, func() {
		for _, s := range cells {
			IsMissing(s, c)
			ParseNumber(s)
		}
	})
	if n != 0 {
		t.Errorf("IsMissing and ParseNumber allocate %v times per run, want 0", n)
	}
}
