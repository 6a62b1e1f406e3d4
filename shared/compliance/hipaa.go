package compliance

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Safe Harbor statuses of a column or a category.
const (
	Present     = "present"     // an identifier of the category is in the output
	Transformed = "transformed" // the column is there, its values are not identifiers (replaced, generalised)
	Absent      = "absent"      // no column of the category
	Review      = "review"      // free text: could not be verified automatically
)

// Category is one of the 18 identifier categories of 45 CFR
// 164.514(b)(2)(i), (A) to (R).
type Category struct {
	Ref      string   `json:"ref"` // "(A)" … "(R)"
	Name     string   `json:"name"`
	Status   string   `json:"status"`
	Columns  []string `json:"columns,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
}

var safeHarbor = [18][2]string{
	{"(A)", "Names"},
	{"(B)", "Geographic subdivisions smaller than a state (street, city, county, precinct, ZIP code; the initial three ZIP digits are allowed unless the area holds 20,000 people or fewer)"},
	{"(C)", "All elements of dates (except year) directly related to an individual, and all ages over 89"},
	{"(D)", "Telephone numbers"},
	{"(E)", "Fax numbers"},
	{"(F)", "Email addresses"},
	{"(G)", "Social security numbers"},
	{"(H)", "Medical record numbers"},
	{"(I)", "Health plan beneficiary numbers"},
	{"(J)", "Account numbers"},
	{"(K)", "Certificate/license numbers"},
	{"(L)", "Vehicle identifiers and serial numbers, including license plate numbers"},
	{"(M)", "Device identifiers and serial numbers"},
	{"(N)", "Web Universal Resource Locators (URLs)"},
	{"(O)", "Internet Protocol (IP) address numbers"},
	{"(P)", "Biometric identifiers, including finger and voice prints"},
	{"(Q)", "Full face photographic images and any comparable images"},
	{"(R)", "Any other unique identifying number, characteristic, or code"},
}

// RestrictedZIP3 are the three-digit ZIP prefixes whose areas held 20,000
// people or fewer in the 2000 Census, per the HHS de-identification
// guidance: Safe Harbor requires them to be written 000.
var RestrictedZIP3 = []string{"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884", "890", "893"}

// ColumnCheck is the Safe Harbor check of one output column.
type ColumnCheck struct {
	Column   string `json:"column"`
	Ref      string `json:"ref,omitempty"` // the category, "" when the column is no identifier
	Status   string `json:"status"`
	Evidence string `json:"evidence"`
}

// SafeHarbor is the Safe Harbor method's check.
type SafeHarbor struct {
	Verdict    string        `json:"verdict"`
	Summary    string        `json:"summary"`
	Categories []Category    `json:"categories"`
	Columns    []ColumnCheck `json:"columns"`
}

// ExpertPack is the evidence an expert needs for an Expert Determination
// (164.514(b)(1)): the measured risks, how they were measured, and a
// signature block the expert completes.
type ExpertPack struct {
	Verdict   string             `json:"verdict"`
	Method    string             `json:"method"`
	Risks     []Criterion        `json:"risks"`
	Leakage   privacy.PIILeakage `json:"pii_leakage"`
	DP        *DPGuarantee       `json:"dp,omitempty"`
	Signature []string           `json:"signature_fields"`
}

// HIPAASection is the HIPAA part.
type HIPAASection struct {
	Verdict      string     `json:"verdict"`
	Summary      string     `json:"summary"`
	SafeHarbor   SafeHarbor `json:"safe_harbor"`
	Expert       ExpertPack `json:"expert_determination"`
	HumanActions []string   `json:"human_actions"`
}

var (
	reZIP5   = regexp.MustCompile(`^\d{5}(-\d{4})?$`)
	reZIP3   = regexp.MustCompile(`^\d{3}$`)
	nameTok  = regexp.MustCompile(`[a-z0-9]+`)
	reEmail  = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	reSSN    = regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`)
	rePhone  = regexp.MustCompile(`(\+?1[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b`)
	reURL    = regexp.MustCompile(`\bhttps?://[^\s]+|\bwww\.[^\s]+`)
	reIPv4   = regexp.MustCompile(`\b(\d{1,3}\.){3}\d{1,3}\b`)
	ageNames = []string{"age", "age_years", "ageyears", "patient_age", "age_at_visit"}
)

// tokens splits a column name into lower-case words: "PatientZIP" and
// "patient_zip" give the same words.
func tokens(name string) []string {
	var b strings.Builder
	for i, r := range name {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return nameTok.FindAllString(strings.ToLower(b.String()), -1)
}

func hasTok(toks []string, words ...string) bool {
	for _, t := range toks {
		if slices.Contains(words, t) {
			return true
		}
	}
	return false
}

// category decides which Safe Harbor category a column belongs to (an index
// into safeHarbor, or -1), from its profiled kind and its name.
//
// Names alone place a column in categories (D) to (R) only when its values
// can identify: an id, PII or free-text column, or one whose values are
// mostly distinct. German credit's "telephone" (yes/none) is no phone number.
func category(c *profile.Column, rows int) int {
	t := tokens(c.Name)
	switch c.PII {
	case profile.PersonName:
		return 0
	case profile.Address:
		return 1
	case profile.Phone:
		if hasTok(t, "fax") {
			return 4
		}
		return 3
	case profile.Email:
		return 5
	case profile.NationalID:
		return 6
	case profile.Card, profile.IBAN:
		return 9
	case profile.URL:
		return 13
	case profile.IP:
		return 14
	}
	switch {
	case hasTok(t, "zip", "zipcode", "postcode", "postal", "city", "county", "street", "address", "precinct", "latitude", "longitude", "lat", "lon", "lng", "geo", "town"):
		return 1
	case c.Kind == profile.Datetime || hasTok(t, "dob", "birthdate", "birthday") || isAge(c):
		return 2
	case !identifying(c, rows):
		return -1
	case hasTok(t, "fax"):
		return 4
	case hasTok(t, "phone", "telephone", "mobile"):
		return 3
	case hasTok(t, "email", "mail"):
		return 5
	case hasTok(t, "ssn", "social"):
		return 6
	case hasTok(t, "mrn") || hasTok(t, "medical") && hasTok(t, "record"):
		return 7
	case hasTok(t, "beneficiary", "member", "policy", "insurance") && (c.Kind == profile.ID || hasTok(t, "id", "number", "no")):
		return 8
	case hasTok(t, "account", "acct", "iban", "card"):
		return 9
	case hasTok(t, "license", "licence", "certificate"):
		return 10
	case hasTok(t, "vin", "vehicle", "plate"):
		return 11
	case hasTok(t, "device", "serial", "imei", "mac", "udid"):
		return 12
	case hasTok(t, "url", "website", "homepage"):
		return 13
	case hasTok(t, "ip"):
		return 14
	case hasTok(t, "fingerprint", "voiceprint", "biometric", "retina", "iris"):
		return 15
	case hasTok(t, "photo", "image", "face", "picture", "portrait"):
		return 16
	case c.Kind == profile.ID:
		return 17
	}
	return -1
}

func identifying(c *profile.Column, rows int) bool {
	switch c.Kind {
	case profile.ID, profile.PII, profile.Text:
		return true
	}
	n := rows - c.Missing
	return n > 0 && c.Distinct*2 > n
}

func isAge(c *profile.Column) bool {
	return c.Kind == profile.Numeric && slices.Contains(ageNames, strings.ToLower(strings.Join(tokens(c.Name), "_")))
}

// checkColumn decides the status of one output column of category cat.
func checkColumn(cat int, c *profile.Column, out *table.Table, leaked map[string]privacy.PIIColumn) ColumnCheck {
	cc := ColumnCheck{Column: c.Name, Ref: safeHarbor[cat][0]}
	idx := out.Col(c.Name)
	if idx < 0 {
		cc.Status, cc.Evidence = Absent, "the column is not in the output"
		return cc
	}
	var cells []string
	for _, row := range out.Rows {
		if idx < len(row) && !profile.IsMissing(row[idx], c) {
			cells = append(cells, strings.TrimSpace(row[idx]))
		}
	}
	if len(cells) == 0 {
		cc.Status, cc.Evidence = Transformed, "every cell is empty or suppressed"
		return cc
	}
	suppressed := 0
	for _, v := range cells {
		if v == "*" {
			suppressed++
		}
	}
	if suppressed == len(cells) {
		cc.Status, cc.Evidence = Transformed, "every cell is suppressed (*)"
		return cc
	}
	t := tokens(c.Name)
	switch {
	case cat == 1 && hasTok(t, "zip", "zipcode", "postcode", "postal"):
		var five, restricted int
		for _, v := range cells {
			switch {
			case reZIP5.MatchString(v):
				five++
			case reZIP3.MatchString(v) && slices.Contains(RestrictedZIP3, v):
				restricted++
			}
		}
		switch {
		case five > 0:
			cc.Status, cc.Evidence = Present, fmt.Sprintf("%d of %d cells are full ZIP codes (5 digits)", five, len(cells))
		case restricted > 0:
			cc.Status, cc.Evidence = Present, fmt.Sprintf("%d cells hold a restricted ZIP-3 prefix (an area of 20,000 people or fewer) that must be written 000", restricted)
		default:
			cc.Status, cc.Evidence = Transformed, "ZIP codes are cut to their first three digits, restricted prefixes written 000"
		}
		return cc
	case cat == 2 && isAge(c):
		over := 0
		for _, v := range cells {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f > 89 {
				over++
			}
		}
		if over > 0 {
			cc.Status, cc.Evidence = Present, fmt.Sprintf("%d of %d ages are over 89 (Safe Harbor allows them only as one category of 90 or older)", over, len(cells))
		} else {
			cc.Status, cc.Evidence = Transformed, "no age over 89"
		}
		return cc
	case cat == 2 && c.Kind == profile.Datetime:
		precise := 0
		for _, v := range cells {
			if len(v) > 4 || !allDigits(v) {
				precise++
			}
		}
		if precise > 0 {
			cc.Status, cc.Evidence = Present, fmt.Sprintf("%d of %d dates are more precise than the year (format %q)", precise, len(cells), c.Format)
		} else {
			cc.Status, cc.Evidence = Transformed, "dates are reduced to the year"
		}
		return cc
	case cat == 2:
		cc.Status, cc.Evidence = Present, "a birth date column"
		return cc
	case cat == 1:
		cc.Status, cc.Evidence = Present, fmt.Sprintf("%d cells name a geographic unit smaller than a state", len(cells)-suppressed)
		return cc
	}
	if c.Kind == profile.PII || c.Kind == profile.ID {
		if l, ok := leaked[c.Name]; ok && l.LeakedCells > 0 {
			cc.Status, cc.Evidence = Present, fmt.Sprintf("%d output cells hold %d real values of the training column (found in %s)", l.LeakedCells, l.LeakedValues, strings.Join(l.FoundIn, ", "))
			return cc
		}
		cc.Status, cc.Evidence = Transformed, "values are replaced: no training value of the column appears in the output (PII leakage check)"
		return cc
	}
	cc.Status, cc.Evidence = Present, fmt.Sprintf("a %s column named like a category-%s identifier", c.Kind, safeHarbor[cat][0])
	return cc
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// scanText looks for identifiers in a free-text column.
func scanText(c *profile.Column, out *table.Table) []ColumnCheck {
	idx := out.Col(c.Name)
	if idx < 0 {
		return nil
	}
	found := map[int]int{}
	pats := []struct {
		cat int
		re  *regexp.Regexp
	}{{5, reEmail}, {6, reSSN}, {3, rePhone}, {13, reURL}, {14, reIPv4}}
	for _, row := range out.Rows {
		if idx >= len(row) {
			continue
		}
		for _, p := range pats {
			if p.re.MatchString(row[idx]) {
				found[p.cat]++
			}
		}
	}
	var out2 []ColumnCheck
	for _, p := range pats {
		if n := found[p.cat]; n > 0 {
			out2 = append(out2, ColumnCheck{Column: c.Name, Ref: safeHarbor[p.cat][0], Status: Present,
				Evidence: fmt.Sprintf("%d free-text cells hold a pattern of %s", n, strings.ToLower(safeHarbor[p.cat][1]))})
		}
	}
	out2 = append(out2, ColumnCheck{Column: c.Name, Ref: safeHarbor[0][0], Status: Review,
		Evidence: "free text may hold names and other identifiers that patterns cannot find: a person must review it"})
	return out2
}

func hipaa(train, out *table.Table, p *profile.Profile, leak privacy.PIILeakage, crit *privacy.Criteria, dp *DPGuarantee) *HIPAASection {
	leaked := map[string]privacy.PIIColumn{}
	for _, c := range leak.Columns {
		leaked[c.Column] = c
	}
	sh := SafeHarbor{}
	for i := range p.Columns {
		c := &p.Columns[i]
		if c.Kind == profile.Text {
			sh.Columns = append(sh.Columns, scanText(c, out)...)
			continue
		}
		cat := category(c, p.Rows)
		if cat < 0 {
			sh.Columns = append(sh.Columns, ColumnCheck{Column: c.Name, Status: Absent,
				Evidence: fmt.Sprintf("a %s column matching none of the 18 categories", c.Kind)})
			continue
		}
		sh.Columns = append(sh.Columns, checkColumn(cat, c, out, leaked))
	}
	rank := map[string]int{Absent: 0, Transformed: 1, Review: 2, Present: 3}
	present, review := 0, 0
	for _, s := range safeHarbor {
		cat := Category{Ref: s[0], Name: s[1], Status: Absent}
		for _, cc := range sh.Columns {
			if cc.Ref != s[0] {
				continue
			}
			cat.Columns = append(cat.Columns, cc.Column)
			cat.Evidence = append(cat.Evidence, cc.Column+": "+cc.Evidence)
			if rank[cc.Status] > rank[cat.Status] {
				cat.Status = cc.Status
			}
		}
		if len(cat.Columns) == 0 {
			cat.Evidence = []string{"no column of this category"}
		}
		switch cat.Status {
		case Present:
			present++
		case Review:
			review++
		}
		sh.Categories = append(sh.Categories, cat)
	}
	h := &HIPAASection{}
	switch {
	case present > 0:
		sh.Verdict = RisksFound
		sh.Summary = fmt.Sprintf("%d of the 18 categories are present in the output: Safe Harbor is not met.", present)
		h.HumanActions = append(h.HumanActions, "Remove or generalise the present identifiers (synthos anonymize: drop, ZIP-3, dates to year, ages top-coded at 90) or rely on an Expert Determination.")
	default:
		sh.Verdict = ReadyForSignOff
		sh.Summary = "No identifier of the 18 categories was found in the output by the automated checks."
	}
	if review > 0 {
		h.HumanActions = append(h.HumanActions, "Review the free-text columns marked review for names and other identifiers.")
	}
	h.HumanActions = append(h.HumanActions, "The covered entity confirms it has no actual knowledge that the remaining information could identify an individual (164.514(b)(2)(ii)).")

	risks := criteria(crit, DefaultMaxRisk)
	ed := ExpertPack{Risks: risks, Leakage: leak, DP: dp,
		Method:    crit.Method + ". Singling out: predicates learnt from the output, checked on the training rows and on the holdout; linkability: two disjoint column sets of a target matched to the output; inference: a secret column guessed from the others by the nearest output row. Each risk is (attack rate - control rate)/(1 - control rate) with Wilson intervals. PII leakage: every training identifier value searched verbatim in the output.",
		Signature: []string{"Expert name", "Qualifications (statistical and scientific principles for rendering information not individually identifiable)", "Anticipated recipients and their reasonably available information", "Determination: the risk is very small that the information could be used, alone or in combination, to identify an individual", "Methods and results documented (this pack)", "Date", "Signature"},
	}
	ed.Verdict = ReadyForSignOff
	for _, r := range risks {
		if !r.Met {
			ed.Verdict = RisksFound
		}
	}
	if leak.LeakedCells > 0 {
		ed.Verdict = RisksFound
	}
	h.SafeHarbor, h.Expert = sh, ed
	switch {
	case sh.Verdict == ReadyForSignOff:
		h.Verdict = ReadyForSignOff
		h.Summary = "Safe Harbor's identifier checks pass; the covered entity's attestation is still required."
	case ed.Verdict == ReadyForSignOff:
		h.Verdict = ReadyForSignOff
		h.Summary = "Safe Harbor is not met, but the measured risks support an Expert Determination: a qualified expert must review and sign the evidence pack."
		h.HumanActions = append(h.HumanActions, "A qualified expert reviews the evidence pack, documents the methods and results, and signs the determination (164.514(b)(1)).")
	default:
		h.Verdict = RisksFound
		h.Summary = "Neither path is open as measured: identifiers remain and the measured risks are too high for an Expert Determination."
	}
	return h
}
