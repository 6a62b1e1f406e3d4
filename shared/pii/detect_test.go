package pii

import (
	"testing"
)

// validatorCase is one cell and whether a validator should accept it.
type validatorCase struct {
	in   string
	want bool
}

func checkValidator(t *testing.T, name string, f func(string) bool, cases []validatorCase) {
	t.Helper()
	for _, tt := range cases {
		if got := f(tt.in); got != tt.want {
			t.Errorf("%s(%q) = %v, want %v", name, tt.in, got, tt.want)
		}
	}
}

func TestIsCard(t *testing.T) {
	t.Parallel()
	checkValidator(t, "IsCard", IsCard, []validatorCase{
		{"4111111111111111", true},    // Visa test number
		{"4111 1111 1111 1111", true}, // grouped
		{"4111-1111-1111-1111", true},
		{"5500005555555559", true},      // Mastercard test number
		{"378282246310005", true},       // Amex, 15 digits
		{"4222222222222", true},         // 13 digits
		{"6011000990139424", true},      // Discover
		{"4111111111111112", false},     // Luhn fails
		{"411111111111", false},         // 12 digits
		{"41111111111111111111", false}, // 20 digits
		{"4111  1111 1111 1111", false}, // double separator
		{"4111111111111111 ", false},
		{"4111x11111111111", false},
		{"", false},
	})
}

func TestIsIBAN(t *testing.T) {
	t.Parallel()
	checkValidator(t, "IsIBAN", IsIBAN, []validatorCase{
		{"GB82WEST12345698765432", true},
		{"GB82 WEST 1234 5698 7654 32", true},
		{"gb82west12345698765432", true},
		{"DE89370400440532013000", true},
		{"FR1420041010050500013M02606", true},
		{"NL91ABNA0417164300", true},
		{"GB83WEST12345698765432", false}, // check digits wrong
		{"GB82WEST12345698765433", false}, // one digit changed
		{"8282WEST12345698765432", false}, // no country
		{"GB82WEST1234", false},           // too short
		{"GB82-WEST-1234-5698-7654-32", false},
		{"GB82WEST123456987654321234567890123", false}, // too long
	})
}

func TestIsSSN(t *testing.T) {
	t.Parallel()
	dashed := func(s string) bool { return IsSSN(s, false) }
	checkValidator(t, "IsSSN", dashed, []validatorCase{
		{"123-45-6789", true},
		{"001-01-0001", true},
		{"899-99-9999", true},
		{"000-12-3456", false}, // area 000
		{"666-12-3456", false}, // area 666
		{"900-12-3456", false}, // area 9xx
		{"123-00-4567", false}, // group 00
		{"123-45-0000", false}, // serial 0000
		{"123456789", false},   // bare digits need a name hint
		{"123-456-789", false},
		{"12a-45-6789", false},
	})
	bare := func(s string) bool { return IsSSN(s, true) }
	checkValidator(t, "IsSSN(bare)", bare, []validatorCase{
		{"123456789", true},
		{"666456789", false},
		{"12345678", false},
	})
}

func TestIsEmail(t *testing.T) {
	t.Parallel()
	checkValidator(t, "IsEmail", IsEmail, []validatorCase{
		{"ann@example.com", true},
		{"ann.lee+tag@mail.example.co.uk", true},
		{"a_b@sub-domain.io", true},
		{"ann@example", false},
		{"@example.com", false},
		{"ann@", false},
		{"ann@@example.com", false},
		{"ann lee@example.com", false},
		{"ann@exa mple.com", false},
		{"ann@example.c", false},
		{"ann@example.123", false},
		{"ann@-example.com", false},
		{"ann@example..com", false},
		{"ann@example.com.", false},
	})
}

func TestIsURL(t *testing.T) {
	t.Parallel()
	checkValidator(t, "IsURL", IsURL, []validatorCase{
		{"https://example.com", true},
		{"http://example.com/a?b=c#d", true},
		{"HTTPS://Example.COM:8443/x", true},
		{"ftp://files.example.org/pub", true},
		{"www.example.com", true},
		{"http://localhost:8080/", true},
		{"http://[::1]:80/", true},
		{"https://", false},
		{"https://exa mple.com", false},
		{"example.com", false},
		{"mailto:ann@example.com", false},
		{"http://intranet/", false},
	})
}

func TestIsIP(t *testing.T) {
	t.Parallel()
	checkValidator(t, "IsIP", IsIP, []validatorCase{
		{"192.168.0.1", true},
		{"8.8.8.8", true},
		{"::1", true},
		{"2001:db8::ff00:42:8329", true},
		{"fe80::1%eth0", true},
		{"256.1.1.1", false},
		{"1.2.3", false},
		{"1.2.3.4.5", false},
		{"12:30", false},
		{"abc", false},
		{"1.5", false},
	})
}

func TestIsPhone(t *testing.T) {
	t.Parallel()
	plain := func(s string) bool { return IsPhone(s, false) }
	checkValidator(t, "IsPhone", plain, []validatorCase{
		{"(555) 123-4567", true},
		{"555-123-4567", true},
		{"555.123.4567", true},
		{"+1 555 123 4567", true},
		{"+14155550123", true},
		{"+44 20 7946 0958", true},
		{"555-123-4567 x89", true},
		{"555-123-4567 ext. 89", true},
		{"5551234567", false}, // bare digits need a name hint
		{"555-1234", true},
		{"123-45", false},      // too few digits
		{"-5551234567", false}, // a negative number
		{"1234567.89", false},  // a decimal number
		{"555-123-4567 ext", false},
		{"call 555-1234", false},
		{"1+555-123-4567", false},
	})
	bare := func(s string) bool { return IsPhone(s, true) }
	checkValidator(t, "IsPhone(bare)", bare, []validatorCase{
		{"5551234567", true},
		{"12345", false},
	})
}

func TestIsAddress(t *testing.T) {
	t.Parallel()
	strict := func(s string) bool { return IsAddress(s, false) }
	checkValidator(t, "IsAddress", strict, []validatorCase{
		{"123 Main St", true},
		{"123 Main St.", true},
		{"4B Elm Avenue, Springfield, IL 62704", true},
		{"1600 Pennsylvania Ave NW", true},
		{"10 Downing Street", true},
		{"123 Main", false}, // no suffix without a hint
		{"Main Street", false},
		{"123", false},
		{"12 St", false},
		{"1234567 Main St", false},
		{"123-45 Main St", false},
	})
	loose := func(s string) bool { return IsAddress(s, true) }
	checkValidator(t, "IsAddress(loose)", loose, []validatorCase{
		{"123 Main", true},
		{"123 456", false},
	})
}

func TestNameShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in            string
		shaped, known bool
	}{
		{"John Smith", true, true},
		{"Smith, John", true, true},
		{"Mary-Jane O'Neil", true, false},
		{"Zyx Qwv", true, false},
		{"john smith", false, false},
		{"John  Smith", false, false},
		{"John Smith 3rd", false, false},
		{"A B C D E", false, false},
		{"Never-married", true, false},
		{"J", false, false},
	}
	for _, tt := range tests {
		shaped, known := NameShape(tt.in)
		if shaped != tt.shaped || known != tt.known {
			t.Errorf("NameShape(%q) = %v, %v; want %v, %v", tt.in, shaped, known, tt.shaped, tt.known)
		}
	}
}
