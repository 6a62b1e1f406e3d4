package dp

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"synthos.dev/synthos/shared/pii"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// Keys and PII are generated through package pii in the source's format:
// token keys of any inferred form, IBANs (not words) with the source's
// country, national ids in the source's scheme (not US SSNs everywhere),
// and no missing cell in a column without one.
func TestGeneratedColumnsFollowSource(t *testing.T) {
	t.Parallel()
	tab := &table.Table{Columns: []string{"ref", "token", "iban", "nino", "card", "band"}}
	for i := range 300 {
		iban := []byte(fmt.Sprintf("DE00%018d", 370400440532013000+int64(i)*7919))
		pii.IBANFix(iban)
		card := []byte(fmt.Sprintf("4111 1111 1111 %04d", i))
		pii.LuhnFix(card)
		tab.Rows = append(tab.Rows, []string{
			fmt.Sprintf("R-%05d", i+1),
			fmt.Sprintf("%08X", uint32(i)*2654435761),
			string(iban),
			fmt.Sprintf("%c%c%06d%c", "ACEH"[i%4], "BJKL"[i%3], 100000+i*37, 'A'+i%4),
			string(card),
			[]string{"low", "mid", "high"}[i%3],
		})
	}
	p, err := profile.Infer(tab, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]profile.PIIKind{"iban": profile.IBAN, "nino": profile.NationalID, "card": profile.Card} {
		if c := p.Col(name); c.Kind != profile.PII || c.PII != k {
			t.Fatalf("%s profiled as %s/%s, want pii/%s", name, c.Kind, c.PII, k)
		}
	}
	for _, name := range []string{"ref", "token"} {
		if c := p.Col(name); c.Kind != profile.ID {
			t.Fatalf("%s profiled as %s, want id", name, c.Kind)
		}
	}
	m, err := Fit(context.Background(), tab, p, Options{Epsilon: 1, Delta: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	w := writerFunc(func(r []string) error { rows = append(rows, append([]string(nil), r...)); return nil })
	if err := m.Sample(context.Background(), 2000, 0, 1, 5, synth.SampleOptions{}, w); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		re    *regexp.Regexp
		valid func(string) bool
	}{
		{regexp.MustCompile(`^R-[0-9]{5}$`), nil},
		{regexp.MustCompile(`^[0-9A-F]{8}$`), nil},
		{regexp.MustCompile(`^DE[0-9]{20}$`), pii.IsIBAN},
		{regexp.MustCompile(`^[A-Z]{2}[0-9]{6}[A-D]$`), pii.IsNINO},
		{regexp.MustCompile(`^[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}$`), pii.IsCard},
	}
	keys := map[string]bool{}
	for _, r := range rows {
		for j, c := range checks {
			if !c.re.MatchString(r[j]) || c.valid != nil && !c.valid(r[j]) {
				t.Fatalf("column %s (profile %+v): %q not in the source's format", tab.Columns[j], *p.Col(tab.Columns[j]), r[j])
			}
		}
		if keys[r[1]] {
			t.Fatalf("token key %q repeated", r[1])
		}
		keys[r[1]] = true
	}
}
