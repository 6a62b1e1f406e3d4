package gate

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/quality"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		json  string
		check func(Thresholds) bool
		err   bool
	}{
		{"empty object keeps every default", `{}`, func(th Thresholds) bool {
			d := Default()
			return th.MinColumnShapes == d.MinColumnShapes && th.MaxDCRShare == d.MaxDCRShare && th.MaxPIILeakedCells == d.MaxPIILeakedCells
		}, false},
		{"partial override keeps the rest", `{"max_dcr_share": 0.55, "allow_missing": ["dcr_share"]}`, func(th Thresholds) bool {
			return th.MaxDCRShare == 0.55 && th.MinColumnShapes == 0.85 && th.MaxMembershipAUC == 0.60 && len(th.AllowMissing) == 1
		}, false},
		{"integer count", `{"max_pii_leaked_cells": 3}`, func(th Thresholds) bool { return th.MaxPIILeakedCells == 3 }, false},
		{"unknown field", `{"max_dcr_shares": 0.55}`, nil, true},
		{"unknown metric in skip", `{"skip": ["dcr"]}`, nil, true},
		{"unknown metric in allow_missing", `{"allow_missing": ["everything"]}`, nil, true},
		{"share out of range", `{"min_column_shapes": 1.2}`, nil, true},
		{"AUC below one half", `{"max_discriminator_auc": 0.3}`, nil, true},
		{"negative count", `{"max_pii_leaked_cells": -1}`, nil, true},
		{"wrong type", `{"max_dcr_share": "0.6"}`, nil, true},
		{"trailing data", `{} {}`, nil, true},
		{"not JSON", `max_dcr_share = 0.6`, nil, true},
		{"empty input", ``, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, err := Decode(strings.NewReader(tt.json))
			if tt.err {
				if !errors.Is(err, ErrThresholds) {
					t.Errorf("Decode(%s) error = %v, want ErrThresholds", tt.json, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%s): %v", tt.json, err)
			}
			if !tt.check(th) {
				t.Errorf("Decode(%s) = %+v", tt.json, th)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.json"), filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(`{"min_column_shapes": 0.9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"min_colum_shapes": 0.9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if th, err := Load(good); err != nil || th.MinColumnShapes != 0.9 || th.MaxDCRShare != 0.6 {
		t.Errorf("Load(good) = %+v, %v", th, err)
	}
	if _, err := Load(bad); !errors.Is(err, ErrThresholds) || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("Load(bad) error = %v, want ErrThresholds naming the file", err)
	}
	if _, err := Load(filepath.Join(dir, "absent.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(absent) error = %v", err)
	}
}

func TestDefaultValid(t *testing.T) {
	t.Parallel()
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Thresholds{}).Validate(); !errors.Is(err, ErrThresholds) {
		t.Errorf("zero thresholds validate: %v", err)
	}
}

// goodQuality and goodPrivacy are reports every default threshold passes.
func goodQuality() *quality.Report {
	return &quality.Report{
		ColumnShapes: 0.95, ColumnPairTrends: 0.9,
		Pairs:         []quality.PairReport{{A: "a", B: "b", Trend: 0.9}},
		Discriminator: &quality.Discriminator{AUC: 0.55},
		Efficacy:      &quality.Efficacy{Target: "y", Real: 0.9, Synthetic: 0.85, Ratio: 0.85 / 0.9},
	}
}

func goodPrivacy() *privacy.Report {
	return &privacy.Report{
		DCR:        privacy.DCR{Queries: 100, CloserToTrainShare: 0.51},
		Identical:  privacy.Identical{SyntheticShare: 0.004, HoldoutShare: 0.003},
		Membership: privacy.Membership{Members: 50, NonMembers: 50, AUC: 0.52},
		AttributeInference: &privacy.AttributeInference{Columns: []privacy.AttributeRisk{
			{Column: "income", Risk: 0.01}, {Column: "relationship", Risk: 0.02},
		}},
		PII: privacy.PIILeakage{Checked: []string{"email"}},
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		q      func() *quality.Report
		p      func() *privacy.Report
		th     func(*Thresholds)
		pass   bool
		status map[string]Status // metric -> expected status
	}{
		{"all good", goodQuality, goodPrivacy, nil, true, map[string]Status{
			ColumnShapes: StatusPass, DCRShare: StatusPass, IdenticalShare: StatusPass, AttributeInferenceRisk: StatusPass, PIILeakedCells: StatusPass,
		}},
		{"low column shapes", func() *quality.Report { q := goodQuality(); q.ColumnShapes = 0.8; return q }, goodPrivacy, nil, false,
			map[string]Status{ColumnShapes: StatusFail, ColumnPairTrends: StatusPass}},
		{"discriminator AUC over the limit", func() *quality.Report { q := goodQuality(); q.Discriminator.AUC = 0.8; return q }, goodPrivacy, nil, false,
			map[string]Status{DiscriminatorAUC: StatusFail}},
		{"memorising", goodQuality, func() *privacy.Report { p := goodPrivacy(); p.DCR.CloserToTrainShare = 0.7; return p }, nil, false,
			map[string]Status{DCRShare: StatusFail}},
		// Base rate 0.3%: the limit is 0.6%.
		{"identical within twice the base rate", goodQuality, func() *privacy.Report { p := goodPrivacy(); p.Identical.SyntheticShare = 0.0059; return p }, nil, true,
			map[string]Status{IdenticalShare: StatusPass}},
		{"identical above twice the base rate", goodQuality, func() *privacy.Report { p := goodPrivacy(); p.Identical.SyntheticShare = 0.0061; return p }, nil, false,
			map[string]Status{IdenticalShare: StatusFail}},
		// Base rate 0: the floor of 0.1% applies.
		{"identical under the floor", goodQuality, func() *privacy.Report {
			p := goodPrivacy()
			p.Identical = privacy.Identical{SyntheticShare: 0.0009}
			return p
		}, nil, true, map[string]Status{IdenticalShare: StatusPass}},
		{"worst attribute column decides", goodQuality, func() *privacy.Report {
			p := goodPrivacy()
			p.AttributeInference.Columns[1].Risk = 0.2
			return p
		}, nil, false, map[string]Status{AttributeInferenceRisk: StatusFail}},
		{"leaked identifier", goodQuality, func() *privacy.Report { p := goodPrivacy(); p.PII.LeakedCells = 1; return p }, nil, false,
			map[string]Status{PIILeakedCells: StatusFail}},
		{"leak allowed by override", goodQuality, func() *privacy.Report { p := goodPrivacy(); p.PII.LeakedCells = 1; return p },
			func(th *Thresholds) { th.MaxPIILeakedCells = 2 }, true, map[string]Status{PIILeakedCells: StatusPass}},
		{"membership AUC NaN", goodQuality, func() *privacy.Report { p := goodPrivacy(); p.Membership.AUC = math.NaN(); return p }, nil, false,
			map[string]Status{MembershipAUC: StatusFail}},
		{"no privacy report fails the required privacy metrics", goodQuality, func() *privacy.Report { return nil }, nil, false,
			map[string]Status{DCRShare: StatusFail, IdenticalShare: StatusFail, MembershipAUC: StatusFail, PIILeakedCells: StatusFail, AttributeInferenceRisk: StatusMissing}},
		{"no privacy report, allowed", goodQuality, func() *privacy.Report { return nil }, func(th *Thresholds) {
			th.AllowMissing = []string{DCRShare, IdenticalShare, MembershipAUC, PIILeakedCells}
		}, true, map[string]Status{DCRShare: StatusMissing, PIILeakedCells: StatusMissing}},
		{"no quality report", func() *quality.Report { return nil }, goodPrivacy, nil, false,
			map[string]Status{ColumnShapes: StatusFail, DiscriminatorAUC: StatusFail, ColumnPairTrends: StatusMissing, MLEfficacyRatio: StatusMissing}},
		{"optional metrics absent", func() *quality.Report {
			q := goodQuality()
			q.Pairs[0].Skipped = "constant column"
			q.Efficacy = nil
			return q
		}, func() *privacy.Report { p := goodPrivacy(); p.AttributeInference = nil; return p }, nil, true,
			map[string]Status{ColumnPairTrends: StatusMissing, MLEfficacyRatio: StatusMissing, AttributeInferenceRisk: StatusMissing}},
		{"efficacy undefined when the real model scores 0", func() *quality.Report {
			q := goodQuality()
			q.Efficacy.Real, q.Efficacy.Ratio = 0, 0
			return q
		}, goodPrivacy, nil, true, map[string]Status{MLEfficacyRatio: StatusMissing}},
		{"discriminator not run", func() *quality.Report { q := goodQuality(); q.Discriminator = nil; return q }, goodPrivacy, nil, false,
			map[string]Status{DiscriminatorAUC: StatusFail}},
		{"skipped metric", func() *quality.Report { q := goodQuality(); q.Discriminator.AUC = 0.9; return q }, goodPrivacy,
			func(th *Thresholds) { th.Skip = []string{DiscriminatorAUC} }, true, map[string]Status{DiscriminatorAUC: StatusSkipped}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := Default()
			if tt.th != nil {
				tt.th(&th)
			}
			res := Check(tt.q(), tt.p(), th)
			if res.Pass != tt.pass {
				t.Errorf("Pass = %v, want %v; failures %+v", res.Pass, tt.pass, res.Failures())
			}
			if len(res.Reasons) != len(Metrics) {
				t.Errorf("%d reasons, want %d", len(res.Reasons), len(Metrics))
			}
			got := map[string]Reason{}
			for _, r := range res.Reasons {
				got[r.Metric] = r
				if r.Message == "" {
					t.Errorf("%s: empty message", r.Metric)
				}
				if r.Status == StatusPass && r.Value == nil {
					t.Errorf("%s: passed without a value", r.Metric)
				}
			}
			for m, want := range tt.status {
				if got[m].Status != want {
					t.Errorf("%s: status %s, want %s (%s)", m, got[m].Status, want, got[m].Message)
				}
			}
		})
	}
}

func TestCheckInvalidThresholds(t *testing.T) {
	t.Parallel()
	res := Check(goodQuality(), goodPrivacy(), Thresholds{})
	if res.Pass || len(res.Reasons) != 1 || res.Reasons[0].Metric != "thresholds" || res.Reasons[0].Status != StatusFail {
		t.Errorf("invalid thresholds gave %+v", res)
	}
}

func TestIdenticalThreshold(t *testing.T) {
	t.Parallel()
	res := Check(goodQuality(), goodPrivacy(), Default())
	for _, r := range res.Reasons {
		if r.Metric == IdenticalShare && math.Abs(r.Threshold-0.006) > 1e-12 {
			t.Errorf("identical threshold = %v, want 2 × 0.003", r.Threshold)
		}
	}
}

func TestDecodeNamesTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json, field, msg string
	}{
		{`{"max_dcr_shares": 0.55}`, "max_dcr_shares", `max_dcr_shares is not a threshold; did you mean "max_dcr_share"?`},
		{`{"skip": ["dcr"]}`, "skip", `skip names "dcr", which is not a metric; did you mean "dcr_share"?`},
		{`{"skip": ["dcr_shar"]}`, "skip", `skip names "dcr_shar", which is not a metric; did you mean "dcr_share"?`},
		{`{"max_dcr_share": 1.5}`, "max_dcr_share", "max_dcr_share is 1.5; use a value from 0.5 to 1"},
		{`{"min_ml_efficacy_ratio": -1}`, "min_ml_efficacy_ratio", "min_ml_efficacy_ratio is -1; use a value of at least 0"},
		{`{"max_pii_leaked_cells": -1}`, "max_pii_leaked_cells", "max_pii_leaked_cells is -1; use 0 or more"},
		{`{"max_dcr_share": "0.6"}`, "max_dcr_share", "max_dcr_share must be a number"},
		{`[1]`, "", "thresholds must be a JSON object"},
		{`{} {}`, "", "thresholds must be one JSON object, with nothing after it"},
	}
	for _, tt := range tests {
		_, err := Decode(strings.NewReader(tt.json))
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Field != tt.field || ie.Error() != tt.msg || !errors.Is(err, ErrThresholds) {
			t.Errorf("Decode(%s) error = %#v (%v), want field %q and message %q", tt.json, ie, err, tt.field, tt.msg)
		}
	}
}
