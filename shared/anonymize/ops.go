package anonymize

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/brianvoe/gofakeit/v7"

	"synthos.dev/synthos/shared/profile"
)

// Operators.
const (
	OpKeep       = "keep"
	OpDrop       = "drop"
	OpRedact     = "redact"     // the cell becomes Suppressed
	OpMask       = "mask"       // letters and digits become '*' but the last KeepLast
	OpPseudonym  = "pseudonym"  // keyed HMAC-SHA-256: same value, same pseudonym, in every table
	OpToken      = "token"      // Tink AES-SIV: reversible with the keyring
	OpSurrogate  = "surrogate"  // a realistic fake value seeded by the keyed hash
	OpDateShift  = "date_shift" // shifted by a per-entity number of days
	OpGeneralize = "generalize" // ranges, month/year, ZIP-3, category hierarchy
	OpTopCode    = "top_code"
	OpBottomCode = "bottom_code"
	OpScan       = "scan" // free text: entities replaced by their kind
)

// Ops lists the operators a rule may name ("" is keep).
var Ops = []string{"", OpKeep, OpDrop, OpRedact, OpMask, OpPseudonym, OpToken, OpSurrogate, OpDateShift, OpGeneralize, OpTopCode, OpBottomCode, OpScan}

// Suppressed is what a suppressed or redacted cell is written as.
const Suppressed = "*"

// Rule says how one column is transformed.
type Rule struct {
	Op string `json:"op"`
	// KeepLast is how many trailing characters mask keeps (default 4).
	KeepLast int `json:"keep_last,omitempty"`
	// Kind of surrogate: name, first_name, last_name, email, phone,
	// address, street, city, ssn, company, username (default: from the
	// column's PII kind, else name).
	Kind string `json:"kind,omitempty"`
	// Width generalises numbers into ranges of this width.
	Width float64 `json:"width,omitempty"`
	// Date generalises dates to "month" or "year".
	Date string `json:"date,omitempty"`
	// ZIP3 generalises ZIP codes to their first three digits, writing the
	// HIPAA restricted prefixes as 000.
	ZIP3 bool `json:"zip3,omitempty"`
	// Hierarchy generalises categories: value -> parent ("*" if absent).
	Hierarchy map[string]string `json:"hierarchy,omitempty"`
	// Top and Bottom are the thresholds of top and bottom coding: values
	// above Top are written "Top+", below Bottom "<=Bottom".
	Top    *float64 `json:"top,omitempty"`
	Bottom *float64 `json:"bottom,omitempty"`
	// MaxShiftDays bounds date shifting (default 365); Layout is the dates'
	// Go layout (default: the profiled format).
	MaxShiftDays int    `json:"max_shift_days,omitempty"`
	Layout       string `json:"layout,omitempty"`
}

// restrictedZIP3 are the ZIP-3 prefixes of areas of 20,000 people or fewer
// (2000 Census, HHS guidance); compliance.RestrictedZIP3 checks the same
// list, this package writes them 000.
var restrictedZIP3 = []string{"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884", "890", "893"}

// cellOp transforms one cell; entity is the row's entity key (date shift).
type cellOp func(cell, entity string) string

// hasher computes keyed HMAC-SHA-256; not safe for concurrent use.
type hasher struct {
	h   hash.Hash
	sum []byte
}

func newHasher(key []byte) *hasher { return &hasher{h: hmac.New(sha256.New, key)} }

func (h *hasher) mac(parts ...string) []byte {
	h.h.Reset()
	for i, p := range parts {
		if i > 0 {
			h.h.Write([]byte{0})
		}
		h.h.Write([]byte(p))
	}
	h.sum = h.h.Sum(h.sum[:0])
	return h.sum
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// memoSize bounds the per-column memo of keyed operators: columns repeat
// values (countries, employers), and a bounded memo keeps memory flat.
const memoSize = 4096

// memo caches f's results for repeated values; it is emptied when full.
func memo(f cellOp) cellOp {
	m := make(map[string]string, memoSize)
	return func(s, e string) string {
		if v, ok := m[s]; ok {
			return v
		}
		v := f(s, e)
		if len(m) >= memoSize {
			clear(m)
		}
		m[s] = v
		return v
	}
}

// compile builds the operator of rule r for column c.
func compile(r Rule, c *profile.Column, k *Keyring, domain string) (cellOp, error) {
	f, err := compileOp(r, c, k, domain)
	if err == nil && (r.Op == OpPseudonym || r.Op == OpToken || r.Op == OpSurrogate) {
		f = memo(f)
	}
	return f, err
}

func compileOp(r Rule, c *profile.Column, k *Keyring, domain string) (cellOp, error) {
	needKey := func() error {
		if k == nil {
			return fmt.Errorf("operator %s needs a keyring", r.Op)
		}
		return nil
	}
	switch r.Op {
	case OpKeep, "":
		return func(s, _ string) string { return s }, nil
	case OpRedact:
		return func(string, string) string { return Suppressed }, nil
	case OpMask:
		keep := r.KeepLast
		if keep == 0 {
			keep = 4
		}
		return func(s, _ string) string { return mask(s, keep) }, nil
	case OpPseudonym:
		if err := needKey(); err != nil {
			return nil, err
		}
		h := newHasher(k.hmacKey())
		buf := make([]byte, 0, 32)
		return func(s, _ string) string {
			buf = append(buf[:0], "ps_"...)
			return string(b32.AppendEncode(buf, h.mac("pseudonym", strings.TrimSpace(s))[:15]))
		}, nil
	case OpToken:
		if err := needKey(); err != nil {
			return nil, err
		}
		return func(s, _ string) string {
			ct, err := k.siv.EncryptDeterministically([]byte(s), []byte(domain))
			if err != nil {
				return Suppressed
			}
			return tokenPrefix + base64.RawURLEncoding.EncodeToString(ct)
		}, nil
	case OpSurrogate:
		if err := needKey(); err != nil {
			return nil, err
		}
		kind := r.Kind
		if kind == "" {
			kind = surrogateKind(c)
		}
		gen, ok := surrogates[kind]
		if !ok {
			return nil, fmt.Errorf("unknown surrogate kind %q (want one of %s)", kind, strings.Join(surrogateKinds(), ", "))
		}
		h := newHasher(k.hmacKey())
		return func(s, _ string) string {
			seed := binary.BigEndian.Uint64(h.mac("surrogate", kind, strings.TrimSpace(s)))
			return gen(gofakeit.New(seed))
		}, nil
	case OpDateShift:
		if err := needKey(); err != nil {
			return nil, err
		}
		layout := r.Layout
		if layout == "" && c != nil {
			layout = c.Format
		}
		if layout == "" {
			return nil, fmt.Errorf("date_shift needs a layout (the column is not profiled as a date)")
		}
		maxDays := r.MaxShiftDays
		if maxDays == 0 {
			maxDays = 365
		}
		h := newHasher(k.hmacKey())
		return func(s, entity string) string {
			t, ok := profile.ParseTime(strings.TrimSpace(s), layout)
			if !ok {
				return Suppressed
			}
			d := int(binary.BigEndian.Uint64(h.mac("shift", entity))%uint64(2*maxDays)) - maxDays
			if d >= 0 {
				d++ // never 0: every date moves
			}
			return t.AddDate(0, 0, d).Format(layout)
		}, nil
	case OpGeneralize:
		return generalizer(r, c)
	case OpTopCode, OpBottomCode:
		th := r.Top
		if r.Op == OpBottomCode {
			th = r.Bottom
		}
		if th == nil {
			return nil, fmt.Errorf("%s needs a threshold (top or bottom)", r.Op)
		}
		t := *th
		label := strconv.FormatFloat(t, 'f', -1, 64)
		top := r.Op == OpTopCode
		return func(s, _ string) string {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return s
			}
			if top && v > t {
				return label + "+"
			}
			if !top && v < t {
				return "<=" + label
			}
			return s
		}, nil
	case OpScan:
		return func(s, _ string) string { out, _ := Redact(s); return out }, nil
	}
	return nil, fmt.Errorf("unknown operator %q", r.Op)
}

func mask(s string, keep int) string {
	b := []byte(s)
	kept := 0
	for i := len(b) - 1; i >= 0; i-- {
		c := b[i]
		if c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z' {
			if kept < keep {
				kept++
				continue
			}
			b[i] = '*'
		}
	}
	return string(b)
}

var surrogates = map[string]func(f *gofakeit.Faker) string{
	"name":       func(f *gofakeit.Faker) string { return f.Name() },
	"first_name": func(f *gofakeit.Faker) string { return f.FirstName() },
	"last_name":  func(f *gofakeit.Faker) string { return f.LastName() },
	"email":      func(f *gofakeit.Faker) string { return f.Email() },
	"phone":      func(f *gofakeit.Faker) string { return f.PhoneFormatted() },
	"address": func(f *gofakeit.Faker) string {
		a := f.Address()
		return a.Street + ", " + a.City + ", " + a.State + " " + a.Zip
	},
	"street":   func(f *gofakeit.Faker) string { return f.Street() },
	"city":     func(f *gofakeit.Faker) string { return f.City() },
	"ssn":      func(f *gofakeit.Faker) string { s := f.SSN(); return s[:3] + "-" + s[3:5] + "-" + s[5:] },
	"company":  func(f *gofakeit.Faker) string { return f.Company() },
	"username": func(f *gofakeit.Faker) string { return f.Username() },
	"ip":       func(f *gofakeit.Faker) string { return f.IPv4Address() },
	"url":      func(f *gofakeit.Faker) string { return f.URL() },
}

func surrogateKinds() []string {
	var out []string
	for k := range surrogates {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func surrogateKind(c *profile.Column) string {
	if c == nil {
		return "name"
	}
	switch c.PII {
	case profile.Email:
		return "email"
	case profile.Phone:
		return "phone"
	case profile.Address:
		return "address"
	case profile.NationalID:
		return "ssn"
	case profile.IP:
		return "ip"
	case profile.URL:
		return "url"
	}
	return "name"
}

func generalizer(r Rule, c *profile.Column) (cellOp, error) {
	switch {
	case r.ZIP3:
		return func(s, _ string) string {
			s = strings.TrimSpace(s)
			if len(s) < 3 || !allDigits(s[:3]) {
				return Suppressed
			}
			if slices.Contains(restrictedZIP3, s[:3]) {
				return "000"
			}
			return s[:3]
		}, nil
	case r.Date != "":
		layout := r.Layout
		if layout == "" && c != nil {
			layout = c.Format
		}
		out := map[string]string{"month": "2006-01", "year": "2006"}[r.Date]
		if out == "" || layout == "" {
			return nil, fmt.Errorf("generalize date %q needs month or year and a date column", r.Date)
		}
		return func(s, _ string) string {
			t, ok := profile.ParseTime(strings.TrimSpace(s), layout)
			if !ok {
				return Suppressed
			}
			return t.Format(out)
		}, nil
	case r.Width > 0:
		w := r.Width
		integer := c == nil || c.Integer
		return func(s, _ string) string {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(v) {
				return s
			}
			lo := math.Floor(v/w) * w
			if integer && w == math.Trunc(w) {
				return strconv.FormatFloat(lo, 'f', -1, 64) + "-" + strconv.FormatFloat(lo+w-1, 'f', -1, 64)
			}
			return strconv.FormatFloat(lo, 'f', -1, 64) + "-" + strconv.FormatFloat(lo+w, 'f', -1, 64)
		}, nil
	case r.Hierarchy != nil:
		return func(s, _ string) string {
			if p, ok := r.Hierarchy[strings.TrimSpace(s)]; ok {
				return p
			}
			return Suppressed
		}, nil
	}
	return nil, fmt.Errorf("generalize needs one of width, date, zip3 or hierarchy")
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
