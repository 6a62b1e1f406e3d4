package report

import (
	"fmt"
	"math"

	"synthos.dev/synthos/shared/gate"
	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/quality"
)

// Level grades a verdict.
type Level string

// Levels, from best to worst; LevelUnknown when the metric was not measured.
const (
	LevelGood    Level = "good"
	LevelFair    Level = "fair"
	LevelPoor    Level = "poor"
	LevelUnknown Level = "unknown"
)

// Verdict is one aspect of the evaluation in plain language: Title is a
// word or two ("Faithful"), Text a sentence ending with the number it rests
// on.
type Verdict struct {
	Aspect string `json:"aspect"` // fidelity, realism, utility, distance, copies, membership, attributes, identifiers
	Level  Level  `json:"level"`
	Title  string `json:"title"`
	Text   string `json:"text"`
}

// String is the verdict as one line: "Faithful: synthetic columns ...".
func (v Verdict) String() string { return v.Title + ": " + v.Text }

// grade returns LevelGood when x is on the good side of good, LevelFair
// when it is on the good side of the gate's limit, else LevelPoor. higher
// says whether larger values are better.
func grade(x, good, limit float64, higher bool) Level {
	if !higher {
		x, good, limit = -x, -good, -limit
	}
	switch {
	case math.IsNaN(x):
		return LevelPoor
	case x >= good:
		return LevelGood
	case x >= limit:
		return LevelFair
	default:
		return LevelPoor
	}
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// verdicts reads the reports against the gate's thresholds: "poor" is
// exactly what the gate fails, "good" is a margin inside it.
func verdicts(q *quality.Report, p *privacy.Report, t gate.Thresholds) []Verdict {
	var vs []Verdict
	if q == nil {
		// Only a conditional job whose conditions no real row meets has no
		// quality report (see conditional).
		vs = append(vs, Verdict{"fidelity", LevelUnknown, "Fidelity not measured", "no real row meets the job's conditions, so there is no real distribution to compare with"})
	}
	if q != nil {
		l := worse(grade(q.ColumnShapes, 0.9, t.MinColumnShapes, true), levelOr(q, t))
		title := map[Level]string{LevelGood: "Faithful", LevelFair: "Mostly faithful", LevelPoor: "Unfaithful"}[l]
		text := map[Level]string{
			LevelGood: "synthetic columns match the real ones closely",
			LevelFair: "synthetic columns follow the real ones, with visible differences",
			LevelPoor: "synthetic columns differ markedly from the real ones",
		}[l]
		vs = append(vs, Verdict{"fidelity", l, title, fmt.Sprintf("%s (Column Shapes %s, Column Pair Trends %s)", text, pct(q.ColumnShapes), pct(q.ColumnPairTrends))})

		if d := q.Discriminator; d != nil {
			l := grade(d.AUC, 0.6, t.MaxDiscriminatorAUC, false)
			v := map[Level][2]string{
				LevelGood: {"Realistic", "a classifier can barely tell synthetic rows from real ones"},
				LevelFair: {"Mostly realistic", "a classifier tells synthetic rows from real ones somewhat better than chance"},
				LevelPoor: {"Detectable", "a classifier tells synthetic rows from real ones easily"},
			}[l]
			vs = append(vs, Verdict{"realism", l, v[0], fmt.Sprintf("%s (discriminator AUC %.2f, ideal 0.50)", v[1], d.AUC)})
		} else {
			vs = append(vs, Verdict{"realism", LevelUnknown, "Realism not measured", "the discriminator was not run"})
		}

		if e := q.Efficacy; e != nil && e.Real > 0 {
			l := grade(e.Ratio, 0.95, t.MinMLEfficacyRatio, true)
			v := map[Level][2]string{
				LevelGood: {"Useful", "a model trained on synthetic rows predicts %s on real data as well as one trained on real rows"},
				LevelFair: {"Mostly useful", "a model trained on synthetic rows predicts %s on real data a little worse than one trained on real rows"},
				LevelPoor: {"Of limited use", "a model trained on synthetic rows predicts %s on real data much worse than one trained on real rows"},
			}[l]
			vs = append(vs, Verdict{"utility", l, v[0], fmt.Sprintf(v[1]+" (%s %.3f vs %.3f, ratio %s)", e.Target, e.Metric, e.Synthetic, e.Real, pct(e.Ratio))})
		} else {
			vs = append(vs, Verdict{"utility", LevelUnknown, "Utility not measured", "ML efficacy needs a target column and a holdout"})
		}
	}
	if p == nil {
		return append(vs, Verdict{"distance", LevelUnknown, "Privacy not measured", "privacy is measured against a holdout of real records the model never saw; none was given"})
	}

	l := grade(math.Abs(p.DCR.CloserToTrainShare-0.5), 0.03, t.MaxDCRShare-0.5, false)
	v := map[Level][2]string{
		LevelGood: {"Safe", "synthetic rows are no closer to training records than unseen records are"},
		LevelFair: {"Mostly safe", "synthetic rows lean slightly towards training records"},
		LevelPoor: {"Memorising", "synthetic rows sit closer to training records than unseen records do"},
	}[l]
	if p.DCR.CloserToTrainShare < 0.5-(t.MaxDCRShare-0.5) {
		v = [2]string{"Safe, but distant", "synthetic rows are farther from training records than unseen records are, which is safe but may mean lost detail"}
		l = LevelFair
	}
	vs = append(vs, Verdict{"distance", l, v[0], fmt.Sprintf("%s (DCR share %.2f, ideal 0.50)", v[1], p.DCR.CloserToTrainShare)})

	limit := math.Max(p.Identical.HoldoutShare*t.IdenticalFactor, t.IdenticalFloor)
	l = grade(p.Identical.SyntheticShare, math.Max(p.Identical.HoldoutShare, t.IdenticalFloor), limit, false)
	v = map[Level][2]string{
		LevelGood: {"No copies", "exact copies of training rows are no more common than chance"},
		LevelFair: {"Few copies", "exact copies of training rows are slightly more common than chance"},
		LevelPoor: {"Copies", "synthetic rows copy training records more often than chance"},
	}[l]
	vs = append(vs, Verdict{"copies", l, v[0], fmt.Sprintf("%s (%s of synthetic rows vs %s of unseen rows equal a training row)", v[1], pctFine(p.Identical.SyntheticShare), pctFine(p.Identical.HoldoutShare))})

	l = grade(p.Membership.AUC, 0.55, t.MaxMembershipAUC, false)
	v = map[Level][2]string{
		LevelGood: {"Membership hidden", "an attacker cannot tell who was in the training data"},
		LevelFair: {"Membership mostly hidden", "an attacker guesses who was in the training data slightly better than chance"},
		LevelPoor: {"Membership exposed", "an attacker can tell who was in the training data"},
	}[l]
	vs = append(vs, Verdict{"membership", l, v[0], fmt.Sprintf("%s (attack AUC %.2f, ideal 0.50)", v[1], p.Membership.AUC)})

	if ai := p.AttributeInference; ai != nil && len(ai.Columns) > 0 {
		worst := ai.Columns[0]
		for _, c := range ai.Columns[1:] {
			if c.Risk > worst.Risk {
				worst = c
			}
		}
		l := grade(worst.Risk, t.MaxAttributeRisk/2, t.MaxAttributeRisk, false)
		v := map[Level][2]string{
			LevelGood: {"Attributes protected", "sensitive values of training records are no easier to guess than anyone's"},
			LevelFair: {"Attributes mostly protected", "sensitive values of training records are slightly easier to guess than anyone's"},
			LevelPoor: {"Attributes exposed", "sensitive values of training records are easier to guess than anyone's"},
		}[l]
		vs = append(vs, Verdict{"attributes", l, v[0], fmt.Sprintf("%s (highest risk %+.3f, for %s)", v[1], worst.Risk, worst.Column)})
	}

	switch {
	case len(p.PII.Checked) == 0:
		vs = append(vs, Verdict{"identifiers", LevelGood, "No identifiers", "the table has no identifier or personal-data columns that could leak"})
	case p.PII.LeakedCells <= t.MaxPIILeakedCells:
		vs = append(vs, Verdict{"identifiers", LevelGood, "No leaked identifiers", fmt.Sprintf("no real identifier appears in the output (%d columns checked)", len(p.PII.Checked))})
	default:
		vs = append(vs, Verdict{"identifiers", LevelPoor, "Leaked identifiers", fmt.Sprintf("%d synthetic cells hold a real identifier verbatim", p.PII.LeakedCells)})
	}
	return vs
}

// worse returns the worse of two known levels.
func worse(a, b Level) Level {
	rank := map[Level]int{LevelGood: 0, LevelFair: 1, LevelPoor: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// levelOr grades Column Pair Trends, or returns LevelGood (no constraint)
// when no pair was scored.
func levelOr(q *quality.Report, t gate.Thresholds) Level {
	for _, pr := range q.Pairs {
		if pr.Skipped == "" {
			return grade(q.ColumnPairTrends, 0.85, t.MinColumnPairTrends, true)
		}
	}
	return LevelGood
}
