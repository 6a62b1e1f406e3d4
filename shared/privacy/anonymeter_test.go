package privacy

import (
	"context"
	"math"
	"testing"

	"synthos.dev/synthos/shared/table"
)

// TestWilson checks the Wilson estimate against values worked out by hand:
// z = 1.959964, z² = 3.841459; 250 of 500 gives (250 + 1.920729) /
// 503.841459 = 0.5 and error z/503.84·√(125 + 0.96) = 0.043659.
func TestWilson(t *testing.T) {
	z := math.Sqrt2 * math.Erfinv(0.95)
	r := wilson(250, 500, z)
	if math.Abs(r.Value-0.5) > 1e-9 || math.Abs(r.Error-0.043659) > 1e-5 {
		t.Fatalf("wilson(250, 500) = %+v, want 0.5 ± 0.043659", r)
	}
	// 0 of 500: (0 + 1.920729) / 503.841459 = 0.003812.
	if r := wilson(0, 500, z); math.Abs(r.Value-0.003812) > 1e-6 {
		t.Fatalf("wilson(0, 500) = %+v, want 0.003812", r)
	}
	// Residual risk: attack 0.6, control 0.2 → (0.6-0.2)/0.8 = 0.5.
	risk := residualRisk(Rate{Value: 0.6}, Rate{Value: 0.2})
	if math.Abs(risk.Value-0.5) > 1e-12 || risk.Low != risk.Value || risk.High != risk.Value {
		t.Fatalf("residualRisk = %+v, want 0.5 with a zero-width interval", risk)
	}
	if risk := residualRisk(Rate{Value: 0.1}, Rate{Value: 0.3}); risk.Value != 0 {
		t.Fatalf("residualRisk below control = %+v, want 0", risk)
	}
}

// TestAttacksAdult runs the three attacks on Adult against a verbatim copy
// of the training rows, which must score high on singling out and
// linkability, and against real rows the "model" never saw, whose risk must
// be near zero: an attacker does as well against the control set.
func TestAttacksAdult(t *testing.T) {
	train, holdout, p := adult(t)
	unseen, kept := splitRows(train, len(holdout.Rows), 11)
	tests := []struct {
		name         string
		train, synth *table.Table
		copy         bool
	}{
		{"verbatim copy", train, shuffled(train, 12), true},
		{"unseen real rows", kept, unseen, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Attacks(context.Background(), tc.train, holdout, tc.synth, p, AttackOptions{Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			results := []AttackResult{c.SinglingOutUni, c.SinglingOutMult, c.Linkability, c.InferenceMax}
			for _, r := range results {
				t.Logf("%-30s risk %.3f [%.3f, %.3f] train %.3f control %.3f baseline %.3f n=%d %v",
					r.Attack+" "+r.Columns[0], r.Risk.Value, r.Risk.Low, r.Risk.High, r.Train.Value, r.Control.Value, r.Baseline.Value, r.Train.Attacks, r.Notes)
			}
			if tc.copy {
				for _, r := range results[:3] {
					if r.Risk.Value < 0.9 {
						t.Errorf("%s risk of a copy = %.3f, want ≥ 0.9", r.Attack, r.Risk.Value)
					}
				}
				if c.InferenceMax.Risk.Value < 0.5 {
					t.Errorf("inference risk of a copy = %.3f, want ≥ 0.5", c.InferenceMax.Risk.Value)
				}
				return
			}
			for _, r := range results[:3] {
				if r.Risk.Low > 0 || r.Risk.Value > 0.1 {
					t.Errorf("%s risk of unseen rows = %.3f [%.3f, %.3f], want an interval holding 0",
						r.Attack, r.Risk.Value, r.Risk.Low, r.Risk.High)
				}
			}
			// One interval per secret at 95%: with 15 secrets about one
			// excludes 0 by chance, so the test allows two and bounds the mean.
			excl, sum := 0, 0.0
			for _, r := range c.Inference {
				t.Logf("inference of %s: %.3f [%.3f, %.3f] train %.3f control %.3f", r.Columns[0], r.Risk.Value, r.Risk.Low, r.Risk.High, r.Train.Value, r.Control.Value)
				sum += r.Risk.Value
				if r.Risk.Low > 0 {
					excl++
				}
			}
			if mean := sum / float64(len(c.Inference)); excl > 2 || mean > 0.1 {
				t.Errorf("inference of unseen rows: %d intervals exclude 0 and the mean risk is %.3f, want ≤ 2 and ≤ 0.1", excl, mean)
			}
		})
	}
}

// BenchmarkAttacksAdult times the three attacks on Adult with the default
// number of attacks against a verbatim copy, the slowest case (multivariate
// predicates that single out one of 26,030 distinct rows are rare).
func BenchmarkAttacksAdult(b *testing.B) {
	train, holdout, p := adult(b)
	synth := shuffled(train, 12)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Attacks(context.Background(), train, holdout, synth, p, AttackOptions{Seed: 3}); err != nil {
			b.Fatal(err)
		}
	}
}
