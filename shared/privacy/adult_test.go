package privacy

import (
	"context"
	"encoding/json"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// adultOptions are the choices the validation tests and benchmarks share:
// income and relationship are what an attacker wants to learn; age, sex,
// race, education, marital status and native country are what a neighbour
// or an employer knows.
func adultOptions() Options {
	return Options{
		Sensitive: []string{"income", "relationship"},
		Quasi:     []string{"age", "sex", "race", "education", "marital-status", "native-country"},
		Seed:      7,
	}
}

// check is a named predicate on a report, so a failing validation says which
// metric failed to flag what.
type check struct {
	name string
	ok   func(r *Report) bool
}

// TestAdultValidation runs Evaluate on Adult with synthetic tables whose
// privacy is known: real records the model never saw (ideal), the training
// records themselves (worst) and the training records lightly perturbed (an
// overfitted model). Every metric must rate the ideal table near its ideal
// value and flag the copies.
func TestAdultValidation(t *testing.T) {
	train, holdout, p := adult(t)
	// The ideal table: train minus 6,512 random rows, which become the
	// "synthetic" table; they are real and were never trained on.
	unseen, kept := splitRows(train, len(holdout.Rows), 11)
	tests := []struct {
		name   string
		train  *table.Table
		synth  *table.Table
		checks []check
	}{
		{"unseen real rows", kept, unseen, []check{
			{"DCR share within 0.45-0.55", func(r *Report) bool { return between(r.DCR.CloserToTrainShare, 0.45, 0.55) }},
			{"equal-size DCR share within 0.45-0.55", func(r *Report) bool { return between(r.DCR.EqualSizeShare, 0.45, 0.55) }},
			{"DCR median within 20% of holdout's", func(r *Report) bool {
				return between(r.DCR.SyntheticMedian, 0.8*r.DCR.HoldoutMedian, 1.2*r.DCR.HoldoutMedian)
			}},
			{"NNDR median within 0.1 of holdout's", func(r *Report) bool {
				return between(r.NNDR.SyntheticMedian-r.NNDR.HoldoutMedian, -0.1, 0.1)
			}},
			{"identical share within 0.01 of base rate", func(r *Report) bool {
				return between(r.Identical.SyntheticShare-r.Identical.HoldoutShare, -0.01, 0.01)
			}},
			{"MIA AUC within 0.45-0.55", func(r *Report) bool { return between(r.Membership.AUC, 0.45, 0.55) }},
			{"MIA advantage below 0.06", func(r *Report) bool { return r.Membership.Advantage < 0.06 }},
			{"attribute risk within ±0.04", func(r *Report) bool {
				for _, c := range r.AttributeInference.Columns {
					if !between(c.Risk, -0.04, 0.04) {
						return false
					}
				}
				return true
			}},
		}},
		{"copied training rows", train, shuffled(train, 12), []check{
			{"DCR share above 0.95", func(r *Report) bool { return r.DCR.CloserToTrainShare > 0.95 }},
			// Diluted by the subsample: (1 + 6512/26049) / 2 ≈ 0.625.
			{"equal-size DCR share above 0.58", func(r *Report) bool { return r.DCR.EqualSizeShare > 0.58 }},
			{"DCR median 0", func(r *Report) bool { return r.DCR.SyntheticMedian == 0 && r.DCR.HoldoutMedian > 0 }},
			{"NNDR median below 0.05", func(r *Report) bool { return r.NNDR.SyntheticMedian < 0.05 && r.NNDR.HoldoutMedian > 0.3 }},
			{"identical share above 0.99", func(r *Report) bool {
				return r.Identical.SyntheticShare > 0.99 && r.Identical.HoldoutShare < 0.05
			}},
			{"MIA AUC above 0.9", func(r *Report) bool { return r.Membership.AUC > 0.9 }},
			{"MIA advantage above 0.8", func(r *Report) bool { return r.Membership.Advantage > 0.8 }},
			{"attribute risk above 0.05", func(r *Report) bool {
				for _, c := range r.AttributeInference.Columns {
					if c.Risk <= 0.05 {
						return false
					}
				}
				return true
			}},
			{"unique QI combinations match unique training records", func(r *Report) bool {
				return r.KAnonymity.UniqueMatchShare > 0.99
			}},
		}},
		{"perturbed training rows", train, noisy(train, p, 13), []check{
			{"DCR share above 0.7", func(r *Report) bool { return r.DCR.CloserToTrainShare > 0.7 }},
			{"DCR median below holdout's", func(r *Report) bool { return r.DCR.SyntheticMedian < r.DCR.HoldoutMedian }},
			{"NNDR median below holdout's", func(r *Report) bool { return r.NNDR.SyntheticMedian < r.NNDR.HoldoutMedian }},
			{"MIA AUC above 0.55", func(r *Report) bool { return r.Membership.AUC > 0.55 }},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Evaluate(context.Background(), tt.train, holdout, tt.synth, p, adultOptions())
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			js, _ := json.Marshal(r)
			t.Logf("report: %s", js)
			for _, c := range tt.checks {
				if !c.ok(r) {
					t.Errorf("%s: failed", c.name)
				}
			}
		})
	}
}

func between(x, lo, hi float64) bool { return x >= lo && x <= hi }

// adultNoisy returns Adult with the perturbed training rows as the synthetic
// table: 26,049 rows, none an exact copy, the benchmarks' worst case for the
// exact-match shortcut.
func adultNoisy(b *testing.B) (train, holdout, synth *table.Table, p *profile.Profile) {
	train, holdout, p = adult(b)
	return train, holdout, noisy(train, p, 13), p
}

// BenchmarkEvaluate times the whole privacy evaluation on Adult: 26,049
// training rows, 6,512 holdout rows and 26,049 perturbed synthetic rows.
func BenchmarkEvaluate(b *testing.B) {
	train, holdout, synth, p := adultNoisy(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(context.Background(), train, holdout, synth, p, adultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}
