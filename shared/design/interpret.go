package design

import (
	"regexp"
	"strconv"
	"strings"
)

// Brief is what the offline provider reads from a description: the domain,
// the number of rows, the region and the optional features asked for.
type Brief struct {
	Domain string
	PackOptions
}

// keywords map words of a description to a domain; the domain with most
// hits wins, retail on a tie or no hit (the commonest request).
var keywords = map[string][]string{
	"retail":     {"order", "e-commerce", "ecommerce", "shop", "store", "retail", "product", "cart", "purchase", "basket", "customer"},
	"finance":    {"transaction", "bank", "payment", "card", "loan", "credit", "account", "fraud", "ledger", "transfer"},
	"healthcare": {"patient", "hospital", "clinic", "encounter", "diagnos", "admission", "medical", "health", "ehr", "readmission"},
	"saas":       {"saas", "subscription", "mrr", "churn", "seat", "plan", "ticket", "tenant", "trial", "support"},
	"hr":         {"employee", "hr", "salary", "payroll", "staff", "workforce", "hire", "attrition", "leave", "headcount"},
}

var features = map[string][]string{
	"returns":      {"return", "refund"},
	"reviews":      {"review", "rating"},
	"fraud":        {"fraud"},
	"readmissions": {"readmission", "readmitted"},
	"churn":        {"churn", "cancel"},
	"attrition":    {"attrition", "turnover", "left the company", "leaver"},
}

var (
	numberRe = regexp.MustCompile(`(\d[\d,._ ]*\d|\d)\s*(k|m|thousand|million)?\b`)
	wordRe   = regexp.MustCompile(`[a-z][a-z\-]*`)
)

// Interpret reads a description with deterministic heuristics.
func Interpret(desc string) Brief {
	d := strings.ToLower(desc)
	words := wordRe.FindAllString(d, -1)
	var b Brief
	best := 0
	for _, dom := range Domains {
		hits := 0
		for _, w := range words {
			for _, k := range keywords[dom] {
				if strings.HasPrefix(w, k) || w == k {
					hits++
				}
			}
		}
		if hits > best {
			best, b.Domain = hits, dom
		}
	}
	if b.Domain == "" {
		b.Domain = "retail"
	}
	if m := numberRe.FindStringSubmatch(d); m != nil {
		digits := strings.NewReplacer(",", "", "_", "", " ", "", ".", "").Replace(m[1])
		if n, err := strconv.ParseInt(digits, 10, 64); err == nil {
			switch m[2] {
			case "k", "thousand":
				n *= 1000
			case "m", "million":
				n *= 1000000
			}
			b.Rows = n
		}
	}
	switch {
	case hasWord(words, "eu", "europe", "european", "gdpr"):
		b.Region = "eu"
	case hasWord(words, "uk", "british", "britain"):
		b.Region = "uk"
	case hasWord(words, "us", "usa", "american", "states"):
		b.Region = "us"
	}
	for _, f := range []string{"returns", "reviews", "fraud", "readmissions", "churn", "attrition"} {
		for _, k := range features[f] {
			if strings.Contains(d, k) {
				b.Features = append(b.Features, f)
				break
			}
		}
	}
	return b
}

func hasWord(words []string, want ...string) bool {
	for _, w := range words {
		for _, x := range want {
			if w == x {
				return true
			}
		}
	}
	return false
}
