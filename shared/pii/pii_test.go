package pii

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/brianvoe/gofakeit/v7"
)

func TestInferIDFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vals []string
		want string
	}{
		{[]string{"550e8400-e29b-41d4-a716-446655440000", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}, "uuid"},
		{[]string{"CUST-000001", "CUST-000002", "CUST-000107"}, "CUST-%06d"},
		{[]string{"A1", "A2", "A10"}, "A%d"},
		{[]string{"ORD10", "ORD11", "ORD12"}, "ORD%d"},
		{[]string{"7", "8", "123"}, "%d"},
		{[]string{"00017", "00234", "99999"}, "%05d"},
		{[]string{"50%-1", "50%-2"}, "50%%-%d"},
		{[]string{"a3f9", "0b1c", "ffff"}, "hex:4"},
		{[]string{"A3F9", "0B1C", "FFFF"}, "re:[0-9A-F]{4}"},
		{[]string{"x7Kq2", "pL9za", "Q0w1e"}, "re:[A-Za-z][0-9A-Z][0-9A-Za-z][0-9a-z]{2}"},
		{[]string{"AB12cd", "XY34ef"}, "re:[A-Z]{2}[0-9]{2}[a-z]{2}"},
		{[]string{"007", "0123"}, "re:[0-9]{3,4}"}, // padded to different widths: random tokens
		{[]string{"a-b", "c-d"}, ""},
	}
	for _, tt := range tests {
		if got := InferIDFormat(tt.vals); got != tt.want {
			t.Errorf("InferIDFormat(%q) = %q, want %q", tt.vals, got, tt.want)
		}
		if tt.want != "" && !ValidIDFormat(tt.want) {
			t.Errorf("inferred format %q does not parse", tt.want)
		}
	}
}

func TestValidIDFormat(t *testing.T) {
	t.Parallel()
	checkValidator(t, "ValidIDFormat", ValidIDFormat, []validatorCase{
		{"uuid", true},
		{"%d", true},
		{"%06d", true},
		{"CUST-%06d", true},
		{"50%%-%d", true},
		{"hex:32", true},
		{"alnum:8", true},
		{"re:[A-Z]{3}-[0-9a-f]{8}", true},
		{"re:(a|b)", false},
		{"re:[a-z]+", false},
		{"", false},
		{"CUST", false},
		{"%s", false},
		{"%d-%d", false},
		{"%0d", false},
		{"hex:0", false},
		{"alnum:x", false},
		{"100%", false},
	})
}

// Every id format generates values that match its own description (and
// the regular expression it states), are unique where the space allows,
// and numbered keys start above the training keys.
func TestIDFormatAppend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		format string
		re     string
		train  []string
		first  string
	}{
		{"uuid", `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, nil, ""},
		{"%d", `^[0-9]+$`, []string{"5", "17"}, "18"},
		{"CUST-%06d", `^CUST-[0-9]{6}$`, []string{"CUST-000041"}, "CUST-000042"},
		{"50%%-%d", `^50%-[0-9]+$`, nil, "50%-1"},
		{"hex:16", `^[0-9a-f]{16}$`, nil, ""},
		{"alnum:12", `^[0-9A-Za-z]{12}$`, nil, ""},
		{"re:[0-9A-F]{4}", `^[0-9A-F]{4}$`, nil, ""},
		{"re:[A-Z]{2}-[a-z0-9]{6,9}", `^[A-Z]{2}-[a-z0-9]{6,9}$`, nil, ""},
	}
	for _, tt := range tests {
		id, err := ParseIDFormat(tt.format)
		if err != nil {
			t.Fatalf("ParseIDFormat(%q): %v", tt.format, err)
		}
		id.Continue(tt.train)
		id.Seed(7)
		re := regexp.MustCompile(tt.re)
		rng := rand.New(rand.NewPCG(1, 2))
		seen := map[string]bool{}
		const n = 5000
		for row := range int64(n) {
			v := string(id.Append(nil, row, rng))
			if !re.MatchString(v) {
				t.Fatalf("%s row %d: %q does not match %s", tt.format, row, v, tt.re)
			}
			if row == 0 && tt.first != "" && v != tt.first {
				t.Errorf("%s: first key %q, want %q", tt.format, v, tt.first)
			}
			if len(id.Token) > 0 && !id.Token.Matches(v) {
				t.Errorf("%s: %q does not match its pattern %s", tt.format, v, id.Token)
			}
			seen[v] = true
		}
		if len(seen) != n {
			t.Errorf("%s: %d distinct keys in %d rows", tt.format, len(seen), n)
		}
	}
}

func TestPatternRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		`[0-9]{3}-[0-9]{2}-[0-9]{4}`,
		`\([0-9]{3}\) [0-9]{3}-[0-9]{4}`,
		`GB[0-9]{2}[A-Z]{4}[0-9]{14}`,
		`[0-9A-Z_a-z]{8,12}`,
		`x?[a-f]`,
		`\+44 [0-9]{4} [0-9]{6}`,
	} {
		p, err := ParsePattern(s)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", s, err)
		}
		if got := p.String(); got != s {
			t.Errorf("ParsePattern(%q).String() = %q", s, got)
		}
		re := regexp.MustCompile("^" + s + "$")
		rng := rand.New(rand.NewPCG(3, 4))
		for range 200 {
			if v := p.Append(nil, rng); !re.Match(v) || !p.Matches(string(v)) {
				t.Fatalf("%s generated %q", s, v)
			}
		}
	}
	for _, bad := range []string{"", "a+", "(ab)", "[a-", "a{3", "a{0}", "\\w", "[^a]", "a|b", "."} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q) accepted", bad)
		}
	}
}

// Each kind generates values its own detector accepts, in the layout of the
// source: cards pass Luhn, IBANs mod 97 with the source's country, national
// ids follow the source's scheme (US SSN or UK NINO), not one country's.
func TestSpecAppend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind  Kind
		train []string
		check func(string) bool
		re    string
	}{
		{Card, []string{"4111 1111 1111 1111", "5500 0055 5555 5559"}, IsCard, `^[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}$`},
		{Card, []string{"4111111111111111"}, IsCard, `^[0-9]{16}$`},
		{IBAN, []string{"DE89370400440532013000", "DE44500105175407324931"}, IsIBAN, `^DE[0-9]{20}$`},
		{IBAN, []string{"GB82WEST12345698765432"}, IsIBAN, `^GB[0-9]{2}[A-Z]{4}[0-9]{14}$`},
		{NationalID, []string{"123-45-6789", "234-56-7890"}, func(s string) bool { return IsSSN(s, false) }, `^[0-9]{3}-[0-9]{2}-[0-9]{4}$`},
		{NationalID, []string{"AB123456C", "CE654321A"}, IsNINO, `^[A-Z]{2}[0-9]{6}[A-D]$`},
		{NationalID, []string{"12.345.678-9"}, nil, `^[0-9]{2}\.[0-9]{3}\.[0-9]{3}-[0-9]$`},
		{Phone, []string{"+44 20 7946 0958"}, func(s string) bool { return IsPhone(s, false) }, `^\+[0-9]{2} [0-9]{2} [0-9]{4} [0-9]{4}$`},
		{Email, nil, IsEmail, ""},
		{URL, nil, IsURL, ""},
		{IP, nil, IsIP, ""},
	}
	for _, tt := range tests {
		s, err := NewSpec(tt.kind, InferPattern(tt.train, tt.kind))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		f := gofakeit.NewFaker(rand.NewPCG(7, 8), false)
		var re *regexp.Regexp
		if tt.re != "" {
			re = regexp.MustCompile(tt.re)
		}
		for range 2000 {
			v := string(s.Append(nil, rng, f))
			if tt.check != nil && !tt.check(v) {
				t.Fatalf("%s %q: generated %q fails its check", tt.kind, tt.train, v)
			}
			if re != nil && !re.MatchString(v) {
				t.Fatalf("%s %q: generated %q not in the source layout %s", tt.kind, tt.train, v, tt.re)
			}
		}
	}
}

func TestChecksums(t *testing.T) {
	t.Parallel()
	b := []byte("4111 1111 1111 1110")
	LuhnFix(b)
	if string(b) != "4111 1111 1111 1111" || !LuhnValid(string(b)) {
		t.Errorf("LuhnFix = %q", b)
	}
	ib := []byte("GB00 WEST 1234 5698 7654 32")
	IBANFix(ib)
	if string(ib) != "GB82 WEST 1234 5698 7654 32" || !IBANValid(string(ib)) {
		t.Errorf("IBANFix = %q", ib)
	}
	if LuhnValid("7") || IBANValid("GB8") {
		t.Error("too-short values pass")
	}
}

func BenchmarkIDFormatAppend(b *testing.B) {
	for _, f := range []string{"CUST-%06d", "hex:16", "re:[A-Z]{3}[0-9]{5}", "uuid"} {
		b.Run(f, func(b *testing.B) {
			id, _ := ParseIDFormat(f)
			id.Seed(1)
			rng := rand.New(rand.NewPCG(1, 2))
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				buf = id.Append(buf[:0], int64(i), rng)
			}
		})
	}
}
