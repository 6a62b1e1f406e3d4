package anonymize

import (
	"net"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/brianvoe/gofakeit/v7/data"
)

// Entity kinds the free-text scanner finds.
const (
	EntEmail  = "EMAIL"
	EntPhone  = "PHONE"
	EntSSN    = "SSN"
	EntCard   = "CARD"
	EntIBAN   = "IBAN"
	EntIP     = "IP"
	EntURL    = "URL"
	EntDate   = "DATE"
	EntPerson = "PERSON"
)

// Finding is one entity found in a cell: its kind, byte span and score.
type Finding struct {
	Kind       string
	Start, End int
	Score      float64
}

// recognizer is one pattern in the manner of Microsoft Presidio's pattern
// recognizers: a regular expression with a base score, an optional
// validator that confirms (checksum) or rejects a match, and context words
// that raise the score when they appear shortly before the match.
type recognizer struct {
	kind     string
	re       *regexp.Regexp
	score    float64
	validate func(string) bool
	context  []string
}

// contextBoost is what a context word adds (Presidio's default 0.35), and
// Threshold the score a finding needs.
const (
	contextBoost = 0.35
	Threshold    = 0.5
	contextWords = 5 // words before a match searched for context
)

var recognizers = []recognizer{
	{EntEmail, regexp.MustCompile(`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b`), 1.0, nil, nil},
	{EntURL, regexp.MustCompile(`\b(https?://|www\.)[^\s<>"]+`), 0.6, nil, nil},
	{EntIBAN, regexp.MustCompile(`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b`), 0.5, ibanValid, []string{"iban", "account", "bank"}},
	{EntCard, regexp.MustCompile(`\b(?:\d[ -]?){12,18}\d\b`), 0.3, luhnValid, []string{"card", "visa", "mastercard", "amex", "credit"}},
	{EntSSN, regexp.MustCompile(`\b\d{3}[- ]\d{2}[- ]\d{4}\b`), 0.5, ssnValid, []string{"ssn", "social", "security"}},
	{EntSSN, regexp.MustCompile(`\b\d{9}\b`), 0.05, ssnValid, []string{"ssn", "social", "security"}},
	{EntPhone, regexp.MustCompile(`(?:\+\d{1,3}[ .-]?)?\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b`), 0.4, nil, []string{"phone", "tel", "telephone", "call", "mobile", "cell", "fax", "contact"}},
	{EntIP, regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b`), 0.6, func(s string) bool { return net.ParseIP(s) != nil }, []string{"ip", "address", "host"}},
	{EntDate, regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}\b`), 0.6, nil, []string{"born", "dob", "birth", "date", "admitted", "discharged", "died", "visit"}},
}

var (
	namesOnce   sync.Once
	firstNames  map[string]bool
	lastNames   map[string]bool
	nameContext = []string{"mr", "mrs", "ms", "miss", "dr", "prof", "patient", "name", "named", "dear", "signed", "by", "contact"}
	reCapWords  = regexp.MustCompile(`\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?\b`)
	reWord      = regexp.MustCompile(`[A-Za-z]+`)
)

func loadNames() {
	firstNames, lastNames = map[string]bool{}, map[string]bool{}
	for _, n := range data.Person["first"] {
		firstNames[n] = true
	}
	for _, n := range data.Person["last"] {
		lastNames[n] = true
	}
}

// Scan returns the entities found in s, highest score first where spans
// overlap, in order of position. Person names come from gofakeit's first-
// and last-name vocabularies: a known first name followed by a capitalised
// word, or a known last name after a title, scores 0.6; either alone needs a
// context word.
func Scan(s string) []Finding {
	var out []Finding
	for _, r := range recognizers {
		for _, m := range r.re.FindAllStringIndex(s, -1) {
			match := s[m[0]:m[1]]
			if r.validate != nil && !r.validate(match) {
				continue
			}
			score := r.score
			if hasContext(s[:m[0]], r.context) {
				score += contextBoost
			}
			if score >= Threshold {
				out = append(out, Finding{r.kind, m[0], m[1], min(score, 1)})
			}
		}
	}
	namesOnce.Do(loadNames)
	for _, m := range reCapWords.FindAllStringIndex(s, -1) {
		parts := strings.FieldsFunc(s[m[0]:m[1]], func(r rune) bool { return r == ' ' || r == '-' })
		score := 0.0
		switch {
		case len(parts) == 2 && firstNames[parts[0]] && (lastNames[parts[1]] || firstNames[parts[1]]):
			score = 0.6
		case len(parts) == 2 && firstNames[parts[0]]:
			score = 0.4
		case firstNames[parts[0]] || lastNames[parts[len(parts)-1]]:
			score = 0.2
		}
		if score > 0 && hasContext(s[:m[0]], nameContext) {
			score += contextBoost
		}
		if score >= Threshold {
			out = append(out, Finding{EntPerson, m[0], m[1], min(score, 1)})
		}
	}
	// Overlaps: keep the higher score (then the longer span).
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].End-out[i].Start > out[j].End-out[j].Start
	})
	var kept []Finding
	for _, f := range out {
		clash := false
		for _, k := range kept {
			if f.Start < k.End && k.Start < f.End {
				clash = true
				break
			}
		}
		if !clash {
			kept = append(kept, f)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Start < kept[j].Start })
	return kept
}

// Redact replaces every entity Scan finds in s with its kind in brackets.
func Redact(s string) (string, int) {
	fs := Scan(s)
	if len(fs) == 0 {
		return s, 0
	}
	var b strings.Builder
	at := 0
	for _, f := range fs {
		b.WriteString(s[at:f.Start])
		b.WriteString("[" + f.Kind + "]")
		at = f.End
	}
	b.WriteString(s[at:])
	return b.String(), len(fs)
}

// hasContext reports whether one of words (or a word it begins) is among the last contextWords
// words of before (case-insensitive).
func hasContext(before string, words []string) bool {
	if len(words) == 0 {
		return false
	}
	ws := reWord.FindAllString(before, -1)
	if len(ws) > contextWords {
		ws = ws[len(ws)-contextWords:]
	}
	for _, w := range ws {
		lw := strings.ToLower(w)
		for _, c := range words {
			// A prefix matches inflections ("called", "phones"), as
			// Presidio's lemma-based context does.
			if lw == c || len(c) >= 3 && strings.HasPrefix(lw, c) {
				return true
			}
		}
	}
	return false
}

// The checksums below confirm a match. shared/profile has its own copies
// (unexported); the shared/pii refactoring is to give them one home.

func digitsOf(s string) []byte {
	var d []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			d = append(d, s[i]-'0')
		}
	}
	return d
}

// luhnValid checks a card number's Luhn digit (13 to 19 digits).
func luhnValid(s string) bool {
	d := digitsOf(s)
	if len(d) < 13 || len(d) > 19 {
		return false
	}
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i])
		if (len(d)-1-i)%2 == 1 {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

// ibanValid checks an IBAN's ISO 7064 mod-97 check digits.
func ibanValid(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	r := s[4:] + s[:4]
	mod := 0
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c >= '0' && c <= '9':
			mod = (mod*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			mod = (mod*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return mod == 1
}

// ssnValid applies the SSA's rules: area not 000, 666 or 9xx; group not 00;
// serial not 0000.
func ssnValid(s string) bool {
	d := digitsOf(s)
	if len(d) != 9 {
		return false
	}
	area := int(d[0])*100 + int(d[1])*10 + int(d[2])
	return area != 0 && area != 666 && area < 900 && !(d[3] == 0 && d[4] == 0) && !(d[5] == 0 && d[6] == 0 && d[7] == 0 && d[8] == 0)
}
