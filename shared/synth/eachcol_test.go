package synth

import (
	"bytes"
	"context"
	"runtime"
	"testing"
)

// TestFitSameOnAnyCoreCount: the per-column parts of a fit (schema,
// encoding, copula marginals) run on every core, and the saved model is
// the same bytes with one core or two, for each model kind.
func TestFitSameOnAnyCoreCount(t *testing.T) {
	train, _ := adult(t)
	p := adultProfile()
	for _, kind := range []string{KindCopula, KindTree} {
		var saved [2][]byte
		for i, procs := range []int{1, 2} {
			prev := runtime.GOMAXPROCS(procs)
			m, err := Fit(context.Background(), train, p, FitOptions{Kind: kind, Seed: 5})
			runtime.GOMAXPROCS(prev)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := Save(&b, m); err != nil {
				t.Fatal(err)
			}
			saved[i] = b.Bytes()
		}
		if !bytes.Equal(saved[0], saved[1]) {
			t.Errorf("%s: the model fitted on 1 core differs from the one on 2", kind)
		}
	}
}
