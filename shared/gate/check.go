package gate

import (
	"fmt"
	"math"
	"slices"

	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/quality"
)

// Status is the outcome of one metric's check.
type Status string

// Statuses. Only StatusFail fails the gate.
const (
	StatusPass Status = "pass"
	// StatusFail: the value is on the wrong side of the threshold, or a
	// required metric was not measured (Value is then nil).
	StatusFail Status = "fail"
	// StatusMissing: an optional or allowed-missing metric was not
	// measured; the gate passes it and says so.
	StatusMissing Status = "missing"
	// StatusSkipped: the job asked not to check the metric.
	StatusSkipped Status = "skipped"
)

// Operators of Reason.Op.
const (
	AtLeast = ">="
	AtMost  = "<="
)

// Reason is one metric's check.
type Reason struct {
	Metric string `json:"metric"`
	Status Status `json:"status"`
	// Value is the measured value; nil when the metric was not measured or
	// was skipped.
	Value     *float64 `json:"value"`
	Threshold float64  `json:"threshold"`
	Op        string   `json:"op"` // AtLeast or AtMost: Value Op Threshold passes
	// Message says in plain language what the check found.
	Message string `json:"message"`
}

// Result is the gate's decision: Pass is false when any reason failed.
type Result struct {
	Pass    bool     `json:"pass"`
	Reasons []Reason `json:"reasons"`
}

// Failures returns the reasons that failed the gate.
func (r *Result) Failures() []Reason {
	var out []Reason
	for _, x := range r.Reasons {
		if x.Status == StatusFail {
			out = append(out, x)
		}
	}
	return out
}

// measure is one metric taken from the reports: ok is false when the
// reports do not hold it, and why then says what is missing.
type measure struct {
	metric    string
	label     string // a human name: "Column Shapes"
	op        string
	threshold float64
	value     float64
	ok        bool
	why       string
	good, bad string // what a pass and a fail mean
}

// Check holds the reports against the thresholds. q or p may be nil (their
// metrics are then missing; see the package comment for which of those
// fail). Invalid thresholds fail the gate with a "thresholds" reason rather
// than passing anything.
func Check(q *quality.Report, p *privacy.Report, t Thresholds) Result {
	return CheckUnmeasurable(q, p, t, nil)
}

// CheckUnmeasurable is Check for an evaluation in which some metrics cannot
// be measured at all (a conditional job whose condition no real row meets
// has no real distribution to compare with): unmeasurable maps each such
// metric to why, and the metric is reported skipped with that reason
// instead of failing as missing.
func CheckUnmeasurable(q *quality.Report, p *privacy.Report, t Thresholds, unmeasurable map[string]string) Result {
	if err := t.Validate(); err != nil {
		return Result{Reasons: []Reason{{Metric: "thresholds", Status: StatusFail, Message: err.Error()}}}
	}
	res := Result{Pass: true}
	for _, m := range measures(q, p, t) {
		r := judge(m, t)
		if why, ok := unmeasurable[m.metric]; ok && r.Status != StatusSkipped {
			r = Reason{Metric: m.metric, Status: StatusSkipped, Threshold: m.threshold, Op: m.op,
				Message: fmt.Sprintf("%s not checked: %s", m.label, why)}
		}
		if r.Status == StatusFail {
			res.Pass = false
		}
		res.Reasons = append(res.Reasons, r)
	}
	return res
}

// judge turns a measure into a reason under t's skip and missing rules.
func judge(m measure, t Thresholds) Reason {
	r := Reason{Metric: m.metric, Threshold: m.threshold, Op: m.op}
	switch {
	case slices.Contains(t.Skip, m.metric):
		r.Status = StatusSkipped
		r.Message = fmt.Sprintf("%s not checked: skipped by the job's thresholds", m.label)
	case !m.ok:
		if slices.Contains(optional, m.metric) || slices.Contains(t.AllowMissing, m.metric) {
			r.Status = StatusMissing
			r.Message = fmt.Sprintf("%s not measured (%s); allowed", m.label, m.why)
		} else {
			r.Status = StatusFail
			r.Message = fmt.Sprintf("%s not measured (%s); it is required", m.label, m.why)
		}
	case math.IsNaN(m.value):
		r.Status = StatusFail
		r.Message = fmt.Sprintf("%s is not a number", m.label)
	default:
		v := m.value
		r.Value = &v
		pass := v >= m.threshold
		rel := "at least"
		if m.op == AtMost {
			pass, rel = v <= m.threshold, "at most"
		}
		if pass {
			r.Status = StatusPass
			r.Message = fmt.Sprintf("%s %s is %s %s: %s", m.label, fmtValue(v), rel, fmtValue(m.threshold), m.good)
		} else {
			r.Status = StatusFail
			r.Message = fmt.Sprintf("%s %s is not %s %s: %s", m.label, fmtValue(v), rel, fmtValue(m.threshold), m.bad)
		}
	}
	return r
}

func fmtValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

// measures extracts every metric of Metrics from the reports, in order.
func measures(q *quality.Report, p *privacy.Report, t Thresholds) []measure {
	const noQuality, noPrivacy = "no quality report", "no privacy report: a holdout is needed"
	ms := []measure{
		{metric: ColumnShapes, label: "Column Shapes", op: AtLeast, threshold: t.MinColumnShapes,
			good: "synthetic columns follow the real distributions", bad: "synthetic column distributions drift from the real ones"},
		{metric: ColumnPairTrends, label: "Column Pair Trends", op: AtLeast, threshold: t.MinColumnPairTrends,
			good: "relationships between columns are kept", bad: "relationships between columns are lost"},
		{metric: DiscriminatorAUC, label: "Discriminator AUC", op: AtMost, threshold: t.MaxDiscriminatorAUC,
			good: "a classifier can hardly tell synthetic rows from real ones", bad: "a classifier tells synthetic rows from real ones too easily"},
		{metric: MLEfficacyRatio, label: "ML efficacy ratio", op: AtLeast, threshold: t.MinMLEfficacyRatio,
			good: "models trained on synthetic rows keep their skill on real data", bad: "models trained on synthetic rows lose too much skill on real data"},
		{metric: DCRShare, label: "DCR share", op: AtMost, threshold: t.MaxDCRShare,
			good: "synthetic rows are no closer to training records than unseen records are", bad: "synthetic rows sit closer to training records than unseen records do: the model memorises"},
		{metric: IdenticalShare, label: "Identical-row share", op: AtMost,
			good: "copies of training rows are no more common than chance", bad: "synthetic rows copy training records more often than chance"},
		{metric: MembershipAUC, label: "Membership-inference AUC", op: AtMost, threshold: t.MaxMembershipAUC,
			good: "an attacker cannot tell who was in the training data", bad: "an attacker can tell who was in the training data"},
		{metric: AttributeInferenceRisk, label: "Attribute-inference risk", op: AtMost, threshold: t.MaxAttributeRisk,
			good: "sensitive values of training records are no easier to guess than anyone's", bad: "sensitive values of training records are easier to guess than anyone's"},
		{metric: PIILeakedCells, label: "Leaked identifier cells", op: AtMost, threshold: float64(t.MaxPIILeakedCells),
			good: "no real identifier appears in the output", bad: "real identifiers appear verbatim in the output"},
	}
	at := func(metric string) *measure {
		return &ms[slices.IndexFunc(ms, func(m measure) bool { return m.metric == metric })]
	}
	set := func(metric string, v float64) { m := at(metric); m.value, m.ok = v, true }
	missing := func(metric, why string) { at(metric).why = why }

	if q == nil {
		for _, m := range []string{ColumnShapes, ColumnPairTrends, DiscriminatorAUC, MLEfficacyRatio} {
			missing(m, noQuality)
		}
	} else {
		set(ColumnShapes, q.ColumnShapes)
		scored := 0
		for _, pr := range q.Pairs {
			if pr.Skipped == "" {
				scored++
			}
		}
		if scored > 0 {
			set(ColumnPairTrends, q.ColumnPairTrends)
		} else {
			missing(ColumnPairTrends, "no pair of columns has a defined trend score")
		}
		if q.Discriminator != nil {
			set(DiscriminatorAUC, q.Discriminator.AUC)
		} else {
			missing(DiscriminatorAUC, "the discriminator was not run")
		}
		switch {
		case q.Efficacy == nil:
			missing(MLEfficacyRatio, "no target column or no holdout")
		case q.Efficacy.Real <= 0:
			missing(MLEfficacyRatio, fmt.Sprintf("the model trained on real rows scored %.3g, so the ratio is undefined", q.Efficacy.Real))
		default:
			set(MLEfficacyRatio, q.Efficacy.Ratio)
		}
	}

	if p == nil {
		for _, m := range []string{DCRShare, IdenticalShare, MembershipAUC, AttributeInferenceRisk, PIILeakedCells} {
			missing(m, noPrivacy)
		}
		at(IdenticalShare).threshold = t.IdenticalFloor
		return ms
	}
	if p.DCR.Queries > 0 {
		set(DCRShare, p.DCR.CloserToTrainShare)
	} else {
		missing(DCRShare, "no synthetic row was queried")
	}
	at(IdenticalShare).threshold = math.Max(p.Identical.HoldoutShare*t.IdenticalFactor, t.IdenticalFloor)
	set(IdenticalShare, p.Identical.SyntheticShare)
	at(IdenticalShare).good += fmt.Sprintf(" (holdout base rate %s)", fmtValue(p.Identical.HoldoutShare))
	at(IdenticalShare).bad += fmt.Sprintf(" (holdout base rate %s)", fmtValue(p.Identical.HoldoutShare))
	if p.Membership.Members > 0 && p.Membership.NonMembers > 0 {
		set(MembershipAUC, p.Membership.AUC)
	} else {
		missing(MembershipAUC, "the membership attack had no candidates")
	}
	if ai := p.AttributeInference; ai != nil && len(ai.Columns) > 0 {
		worst := ai.Columns[0]
		for _, c := range ai.Columns[1:] {
			if c.Risk > worst.Risk || math.IsNaN(c.Risk) {
				worst = c
			}
		}
		set(AttributeInferenceRisk, worst.Risk)
		at(AttributeInferenceRisk).good += fmt.Sprintf(" (highest: %s)", worst.Column)
		at(AttributeInferenceRisk).bad += fmt.Sprintf(" (worst: %s)", worst.Column)
	} else {
		missing(AttributeInferenceRisk, "no sensitive columns given")
	}
	set(PIILeakedCells, float64(p.PII.LeakedCells))
	if len(p.PII.Checked) == 0 {
		at(PIILeakedCells).good = "the table has no identifier columns that could leak"
	}
	return ms
}
