package synth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Token keys (hexadecimal, upper-case hexadecimal, mixed alphanumeric) are
// inferred by profile and were once rejected by the models ("id format
// "hex:16" has no %d verb"): a table keyed by them must go through every
// model, with fresh keys in the source's format (length, case, alphabet),
// unique, and never a training key.
func TestTokenKeys(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	token := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	tab := &table.Table{Columns: []string{"session_id", "trace_id", "api_key", "amount", "plan"}}
	for i := range 400 {
		tab.Rows = append(tab.Rows, []string{
			token("0123456789abcdef", 16),
			token("0123456789ABCDEF", 12),
			token("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 20),
			fmt.Sprintf("%d.%02d", 10+i%90, i%100),
			[]string{"free", "pro", "team"}[i%3],
		})
	}
	p, err := profile.Infer(tab, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*regexp.Regexp{
		"session_id": regexp.MustCompile(`^[0-9a-f]{16}$`),
		"trace_id":   regexp.MustCompile(`^[0-9A-F]{12}$`),
		"api_key":    regexp.MustCompile(`^[0-9A-Za-z]{20}$`),
	}
	for name := range want {
		if c := p.Col(name); c.Kind != profile.ID {
			t.Fatalf("%s profiled as %s (%s), want id", name, c.Kind, c.IDFormat)
		}
	}
	train := map[string]bool{}
	for _, r := range tab.Rows {
		for _, v := range r[:3] {
			train[v] = true
		}
	}
	for _, kind := range []string{KindTree, KindCopula} {
		m, err := Fit(context.Background(), tab, p, FitOptions{Kind: kind, Seed: 3})
		if err != nil {
			t.Fatalf("%s: fit: %v", kind, err)
		}
		var out collect
		if err := m.Sample(context.Background(), 3000, 0, 1, 9, SampleOptions{}, &out); err != nil {
			t.Fatalf("%s: sample: %v", kind, err)
		}
		for j, name := range tab.Columns[:3] {
			seen := map[string]bool{}
			for _, r := range out.rows {
				v := r[j]
				if !want[name].MatchString(v) {
					t.Fatalf("%s: %s key %q not in the source format %s (profile %q)", kind, name, v, want[name], p.Col(name).IDFormat)
				}
				if seen[v] || train[v] {
					t.Fatalf("%s: %s key %q repeated or copied from training", kind, name, v)
				}
				seen[v] = true
			}
		}
	}
}
