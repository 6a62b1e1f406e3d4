package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"regexp"
	"strings"
)

// Scrubber keeps raw personal data out of audit records, whatever an
// emitter puts in them: a record is kept for seven years in a bucket no one
// can delete from, so an e-mail address, an IP address, a phone or a card
// number in it could never be erased. Each such value (a whole field, or a
// token inside one) becomes "<kind>:<pseudonym>", where the pseudonym is an
// HMAC-SHA256 under a key of the platform's: the same address gives the same
// pseudonym, so records stay linkable (all failures from one address) while
// the address itself is not stored. Without a key the value is only
// redacted ("<kind>:redacted"): an unkeyed hash of an IPv4 address could be
// reversed by trying all 2^32.
type Scrubber struct{ key []byte }

// NewScrubber returns a Scrubber keyed with key (nil: redact only).
func NewScrubber(key []byte) *Scrubber { return &Scrubber{key: append([]byte(nil), key...)} }

// PseudonymKeySecret names the secret (in the secrets adapter) holding the
// pseudonym key; absent, personal data is redacted instead.
const PseudonymKeySecret = "audit-pseudonym-key"

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	// phoneRe: an international number, optionally spaced or dashed.
	phoneRe = regexp.MustCompile(`\+[1-9][0-9 ()\-]{7,18}[0-9]`)
	// digitsRe: a run of 13-19 digits, optionally spaced or dashed in
	// groups: a card number candidate (kept only if it passes Luhn).
	digitsRe = regexp.MustCompile(`\b[0-9](?:[ \-]?[0-9]){12,18}\b`)
	// ipRe finds IPv4 and IPv6 candidates inside text (confirmed by netip).
	ipRe = regexp.MustCompile(`\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}`)
)

// Event returns ev with personal data in Actor, Resource and Details
// pseudonymised. Ids, actions and outcomes pass through.
func (s *Scrubber) Event(ev Event) Event {
	if s == nil {
		s = &Scrubber{}
	}
	ev.Actor = s.Text(ev.Actor)
	ev.Resource = s.Text(ev.Resource)
	if len(ev.Details) > 0 {
		d := make(map[string]string, len(ev.Details))
		for k, v := range ev.Details {
			d[k] = s.Text(v)
		}
		ev.Details = d
	}
	return ev
}

// Text pseudonymises every e-mail address, IP address, international phone
// number and card number in v.
func (s *Scrubber) Text(v string) string {
	if v == "" {
		return v
	}
	v = emailRe.ReplaceAllStringFunc(v, func(m string) string { return s.pseudonym("email", strings.ToLower(m)) })
	v = ipRe.ReplaceAllStringFunc(v, func(m string) string {
		a, err := netip.ParseAddr(m)
		if err != nil {
			return m
		}
		return s.pseudonym("ip", a.Unmap().String())
	})
	v = phoneRe.ReplaceAllStringFunc(v, func(m string) string { return s.pseudonym("phone", onlyDigits(m)) })
	v = digitsRe.ReplaceAllStringFunc(v, func(m string) string {
		d := onlyDigits(m)
		if !luhn(d) {
			return m
		}
		return s.pseudonym("card", d)
	})
	return v
}

func (s *Scrubber) pseudonym(kind, v string) string {
	if len(s.key) == 0 {
		return kind + ":redacted"
	}
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(kind + "\x00" + v))
	return kind + ":" + hex.EncodeToString(m.Sum(nil)[:8])
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func luhn(d string) bool {
	if len(d) < 13 {
		return false
	}
	sum := 0
	for i := range len(d) {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}
