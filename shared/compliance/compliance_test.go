package compliance

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/internal/chromiumtest"
	"synthos.dev/synthos/internal/testdata"
	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

func tbl(cols []string, rows ...[]string) *table.Table {
	return &table.Table{Columns: cols, Rows: rows}
}

// TestSafeHarborColumns checks the per-column rules on small tables whose
// answer is known: a full ZIP is present, a ZIP-3 is transformed unless it
// is a restricted prefix, a day-precise date and an age of 95 are present,
// a year and ages up to 89 are not, a generated name without a training
// value is transformed, a leaked one is present.
func TestSafeHarborColumns(t *testing.T) {
	tests := []struct {
		name   string
		col    profile.Column
		cells  []string
		leaked bool
		ref    string
		status string
	}{
		{"zip5", profile.Column{Name: "zip", Kind: profile.Categorical}, []string{"02139", "10001"}, false, "(B)", Present},
		{"zip3", profile.Column{Name: "zip", Kind: profile.Categorical}, []string{"021", "100", "000"}, false, "(B)", Transformed},
		{"zip3 restricted", profile.Column{Name: "PatientZip", Kind: profile.Categorical}, []string{"021", "036"}, false, "(B)", Present},
		{"city", profile.Column{Name: "city", Kind: profile.Categorical}, []string{"Boston"}, false, "(B)", Present},
		{"date", profile.Column{Name: "visit", Kind: profile.Datetime, Format: "2006-01-02"}, []string{"2020-03-04"}, false, "(C)", Present},
		{"year", profile.Column{Name: "visit", Kind: profile.Datetime, Format: "2006"}, []string{"2020", "2021"}, false, "(C)", Transformed},
		{"age over 89", profile.Column{Name: "age", Kind: profile.Numeric}, []string{"40", "95"}, false, "(C)", Present},
		{"age to 89", profile.Column{Name: "Age", Kind: profile.Numeric}, []string{"40", "89"}, false, "(C)", Transformed},
		{"generated name", profile.Column{Name: "name", Kind: profile.PII, PII: profile.PersonName}, []string{"Ann Lee"}, false, "(A)", Transformed},
		{"leaked name", profile.Column{Name: "name", Kind: profile.PII, PII: profile.PersonName}, []string{"Ann Lee"}, true, "(A)", Present},
		{"ssn", profile.Column{Name: "ssn", Kind: profile.PII, PII: profile.NationalID}, []string{"123-45-6789"}, true, "(G)", Present},
		{"mrn", profile.Column{Name: "mrn", Kind: profile.ID}, []string{"A1"}, false, "(H)", Transformed},
		{"other id", profile.Column{Name: "customer_id", Kind: profile.ID}, []string{"C-1"}, false, "(R)", Transformed},
		{"suppressed", profile.Column{Name: "zip", Kind: profile.Categorical}, []string{"*", "*"}, false, "(B)", Transformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rows [][]string
			for _, c := range tt.cells {
				rows = append(rows, []string{c})
			}
			leaked := map[string]privacy.PIIColumn{}
			if tt.leaked {
				leaked[tt.col.Name] = privacy.PIIColumn{Column: tt.col.Name, LeakedCells: 1, LeakedValues: 1, FoundIn: []string{tt.col.Name}}
			}
			cat := category(&tt.col, 0)
			if cat < 0 || safeHarbor[cat][0] != tt.ref {
				t.Fatalf("category of %q = %d, want %s", tt.col.Name, cat, tt.ref)
			}
			cc := checkColumn(cat, &tt.col, tbl([]string{tt.col.Name}, rows...), leaked)
			if cc.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s", cc.Status, cc.Evidence, tt.status)
			}
		})
	}
	if c := category(&profile.Column{Name: "bmi", Kind: profile.Numeric}, 10); c >= 0 {
		t.Errorf("bmi is category %d, want none", c)
	}
	// German credit's telephone is yes/none: no phone number.
	if c := category(&profile.Column{Name: "telephone", Kind: profile.Categorical, Distinct: 2}, 800); c >= 0 {
		t.Errorf("a two-valued telephone column is category %d, want none", c)
	}
	if c := category(&profile.Column{Name: "telephone", Kind: profile.Categorical, Distinct: 700}, 800); c != 3 {
		t.Errorf("a mostly distinct telephone column is category %d, want (D)", c)
	}
}

// TestScanText finds identifiers in free text and always asks for review.
func TestScanText(t *testing.T) {
	c := &profile.Column{Name: "notes", Kind: profile.Text}
	out := tbl([]string{"notes"}, []string{"call 617-555-0101 or write to a.b@example.org"}, []string{"nothing here"})
	got := map[string]string{}
	for _, cc := range scanText(c, out) {
		got[cc.Ref] = cc.Status
	}
	if got["(D)"] != Present || got["(F)"] != Present || got["(A)"] != Review || got["(G)"] != "" {
		t.Fatalf("scan = %v, want phone and email present, names to review, no SSN", got)
	}
}

// insurance returns the insurance train and holdout tables.
func insurance(tb testing.TB) (train, holdout *table.Table) {
	tb.Helper()
	return testdata.Table(tb, "insurance.train.csv"), testdata.Table(tb, "insurance.holdout.csv")
}

// splitRows splits t's rows at random into n rows and the rest.
func splitRows(t *table.Table, n int, seed uint64) (*table.Table, *table.Table) {
	perm := rand.New(rand.NewPCG(seed, 2)).Perm(len(t.Rows))
	a, b := &table.Table{Columns: t.Columns}, &table.Table{Columns: t.Columns}
	for k, i := range perm {
		if k < n {
			a.Rows = append(a.Rows, t.Rows[i])
		} else {
			b.Rows = append(b.Rows, t.Rows[i])
		}
	}
	return a, b
}

var compliant = regexp.MustCompile(`(?i)\bcompliant\b`)

// TestBuildInsurance builds the report for a verbatim copy of the training
// rows (GDPR and CCPA must find risks) and for real rows never trained on
// (they must be ready for sign-off), and checks that neither report claims
// compliance anywhere.
func TestBuildInsurance(t *testing.T) {
	train, holdout := insurance(t)
	unseen, kept := splitRows(train, len(holdout.Rows), 5)
	copyRows, _ := splitRows(train, len(train.Rows), 6)
	tests := []struct {
		name       string
		train, out *table.Table
		want       string
	}{
		{"copy", train, copyRows, RisksFound},
		{"unseen", kept, unseen, ReadyForSignOff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Build(context.Background(), Inputs{Train: tt.train, Holdout: holdout, Output: tt.out,
				Attacks: privacy.AttackOptions{Seed: 1},
				Record:  Processing{Actor: "cli:test", Operation: "synthetic generation", Dataset: "insurance.train.csv", At: time.Now()}})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range r.Criteria.Inference {
				t.Logf("inference %s: %.3f [%.3f, %.3f] %.3f vs %.3f", c.Columns[0], c.Risk.Value, c.Risk.Low, c.Risk.High, c.Train.Value, c.Control.Value)
			}
			for _, c := range r.GDPR.Criteria {
				t.Logf("%s: %.3f [%.3f, %.3f]", c.Name, c.Risk.Value, c.Risk.Low, c.Risk.High)
			}
			if r.GDPR.Verdict != tt.want || r.CCPA.Verdict != tt.want {
				t.Errorf("GDPR %s, CCPA %s; want %s", r.GDPR.Verdict, r.CCPA.Verdict, tt.want)
			}
			// Insurance has no identifier column and no age over 64.
			if r.HIPAA.SafeHarbor.Verdict != ReadyForSignOff {
				t.Errorf("Safe Harbor %s: %+v", r.HIPAA.SafeHarbor.Verdict, r.HIPAA.SafeHarbor.Columns)
			}
			if len(r.HIPAA.SafeHarbor.Categories) != 18 || len(r.HumanActions) == 0 {
				t.Errorf("%d categories and %d human actions, want 18 and some", len(r.HIPAA.SafeHarbor.Categories), len(r.HumanActions))
			}
			var js, page bytes.Buffer
			if err := WriteJSON(&js, r); err != nil {
				t.Fatal(err)
			}
			if err := WriteHTML(&page, r); err != nil {
				t.Fatal(err)
			}
			if !json.Valid(js.Bytes()) {
				t.Error("JSON does not parse")
			}
			for name, b := range map[string][]byte{"json": js.Bytes(), "html": page.Bytes()} {
				if m := compliant.Find(b); m != nil {
					t.Errorf("the %s report says %q", name, m)
				}
			}
		})
	}
}

// TestBuildInputs rejects a missing holdout and an unknown regime.
func TestBuildInputs(t *testing.T) {
	train, holdout := insurance(t)
	for _, in := range []Inputs{
		{Train: train, Output: train},
		{Train: train, Holdout: holdout, Output: train, Regimes: []string{"pipeda"}},
	} {
		if _, err := Build(context.Background(), in); err == nil {
			t.Errorf("Build(%v regimes, holdout %v) succeeded", in.Regimes, in.Holdout != nil)
		}
	}
}

// TestHTMLInChromium opens the page in headless Chromium (as the evaluation
// report's test does): no console message, a verdict per regime, the 18
// Safe Harbor rows and the signature block in the DOM. A page missing a
// verdict must be caught.
func TestHTMLInChromium(t *testing.T) {
	bin := chromiumtest.Binary(t)
	train, holdout := insurance(t)
	r, err := Build(context.Background(), Inputs{Train: train, Holdout: holdout, Output: train,
		Attacks: privacy.AttackOptions{Seed: 1, Attacks: 200},
		Record:  Processing{Actor: "cli:test", Operation: "synthetic generation", Dataset: "insurance", At: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	broken := *r
	broken.Regimes = append(append([]string(nil), r.Regimes...), "extra")
	for _, tt := range []struct {
		name  string
		r     *Report
		clean bool
	}{{"insurance", r, true}, {"verdict missing", &broken, false}} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteHTML(&buf, tt.r); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "compliance.html")
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			dom, console := chromiumtest.LoadFile(t, bin, file, false)
			if !tt.clean {
				if len(console) == 0 || !strings.Contains(dom, `data-verdicts="3/4"`) {
					t.Errorf("the broken page was not caught: console %q", console)
				}
				return
			}
			for _, c := range console {
				t.Errorf("console: %s", c)
			}
			if !strings.Contains(dom, `data-verdicts="3/3"`) {
				t.Error("the script did not find a verdict per regime")
			}
			for _, id := range []string{`id="safe-harbor"`, `id="gdpr-criteria"`, `id="ccpa-checklist"`, `id="signature"`, `id="processing"`} {
				if !strings.Contains(dom, id) {
					t.Errorf("DOM lacks %s", id)
				}
			}
			if n := strings.Count(dom[strings.Index(dom, `id="safe-harbor"`):strings.Index(dom, `id="hipaa-columns"`)], "<tr>"); n != 19 {
				t.Errorf("Safe Harbor table has %d rows, want 18 and a header", n)
			}
		})
	}
}
