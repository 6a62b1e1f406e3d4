// Package compliance turns what Synthos measures about one output table
// (synthetic or de-identified real rows) into the evidence a Data Protection
// Officer, a HIPAA privacy officer or a CCPA counsel files: a report per job
// with one section per regime, in JSON for machines and one self-contained
// HTML page (printable to PDF by the browser) for people.
//
//   - GDPR: the three anonymisation criteria of the Article 29 Working
//     Party's Opinion 05/2014 (singling out, linkability, inference),
//     measured by privacy.Attacks against the holdout; the differential
//     privacy guarantee where the model has one; and the processing record
//     (who ran what, when, on which dataset, with which settings), linked to
//     the job's audit record.
//   - HIPAA: Safe Harbor's 18 identifier categories (45 CFR
//     164.514(b)(2)(i)) checked column by column, each present, transformed
//     or absent with its evidence; and an Expert Determination
//     (164.514(b)(1)) evidence pack: the measured risks and their method,
//     for a qualified expert to review and sign.
//   - CCPA: the conditions of deidentified information (Cal. Civ. Code
//     1798.140(m)) as a checklist of what Synthos measured and what the
//     business must attest.
//
// A verdict is given per regime, with the plain list of what a human must
// still do. The report never says "compliant": each regime needs a human's
// attestation (a DPO's assessment, a covered entity's lack of actual
// knowledge or an expert's signature, a business's public commitment and
// contracts), so the best verdict is "ready for sign-off".
package compliance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Version is the version of the Report JSON layout.
const Version = 1

// Regimes.
const (
	GDPR  = "gdpr"
	HIPAA = "hipaa"
	CCPA  = "ccpa"
)

// AllRegimes is the default policy: every regime.
var AllRegimes = []string{GDPR, HIPAA, CCPA}

// Verdicts. None of them says "compliant": every regime needs a human's
// attestation, which the report lists.
const (
	// ReadyForSignOff: every measured condition holds; a human must still
	// attest what cannot be measured.
	ReadyForSignOff = "ready_for_sign_off"
	// RisksFound: a measured condition fails; the output must not be
	// treated as anonymous / de-identified until it is fixed.
	RisksFound = "risks_found"
	// NotAssessed: the evidence needed is missing (no holdout).
	NotAssessed = "not_assessed"
)

// ErrInput means Build was given unusable inputs.
var ErrInput = errs.New(errs.InvalidArgument, "compliance: invalid input")

// DefaultMaxRisk is the highest residual risk (point estimate) of a GDPR
// criterion that still counts as met. Anonymeter's authors leave the
// threshold to the assessor; 0.1 means the synthetic data adds at most a
// tenth of what an attacker could still gain over the control set.
const DefaultMaxRisk = 0.10

// Inputs are what Build assesses.
type Inputs struct {
	// Train are the real rows the output was made from; Holdout real rows
	// set aside (the control set of the attacks); Output the table
	// released (synthetic or de-identified rows).
	Train, Holdout, Output *table.Table
	// Profile describes the columns; nil infers it from Train.
	Profile *profile.Profile
	// Regimes lists the regimes that apply (the tenant's policy); empty
	// means AllRegimes.
	Regimes []string
	// Attacks tune the GDPR attacks.
	Attacks privacy.AttackOptions
	// MaxRisk is the GDPR criterion threshold; 0 means DefaultMaxRisk.
	MaxRisk float64
	// Record is the processing record, filled by the caller (it knows who
	// ran the job and its audit record).
	Record Processing
	// DP is the differential-privacy guarantee of the model, nil when it
	// has none.
	DP *DPGuarantee
}

// Processing is the record of processing (GDPR Art. 30 style): who did what,
// when, to which dataset, with which settings.
type Processing struct {
	Actor     string            `json:"actor"`                 // "key:<id>", "cli:<user>"
	Tenant    string            `json:"tenant,omitempty"`      //
	Job       string            `json:"job,omitempty"`         //
	Operation string            `json:"operation"`             // "synthetic generation" or "de-identification"
	Dataset   string            `json:"dataset"`               // the source dataset's id or file name
	At        time.Time         `json:"at"`                    // when the processing ran
	Settings  map[string]string `json:"settings,omitempty"`    // model, seed, epsilon, k, l, key version...
	Purpose   string            `json:"purpose,omitempty"`     // what the customer declared, if anything
	Audit     *AuditLink        `json:"audit,omitempty"`       // the audit record of the job
	Rows      map[string]int    `json:"rows,omitempty"`        // train, holdout, output
	Digests   map[string]string `json:"sha256,omitempty"`      // of the input files, when known
	Notes     []string          `json:"notes,omitempty"`       //
	KeyInfo   string            `json:"key_version,omitempty"` // pseudonym/token key version used (anonymisation)
}

// AuditLink points at the audit record of the processing. Proof holds the
// record's inclusion proof once the audit log provides one.
type AuditLink struct {
	EventID string `json:"event_id"`
	Action  string `json:"action"`
	Seq     int64  `json:"seq,omitempty"`
	Proof   string `json:"proof,omitempty"`
}

// DPGuarantee is a differential-privacy guarantee of the model.
type DPGuarantee struct {
	Epsilon    float64 `json:"epsilon"`
	Delta      float64 `json:"delta"`
	Mechanism  string  `json:"mechanism"`
	Accounting string  `json:"accounting"`
}

// Report is the compliance evidence of one output table.
type Report struct {
	Version    int                `json:"version"`
	CreatedAt  time.Time          `json:"created_at"`
	Regimes    []string           `json:"regimes"`
	Processing Processing         `json:"processing"`
	Criteria   *privacy.Criteria  `json:"criteria,omitempty"`
	Leakage    privacy.PIILeakage `json:"pii_leakage"`
	GDPR       *GDPRSection       `json:"gdpr,omitempty"`
	HIPAA      *HIPAASection      `json:"hipaa,omitempty"`
	CCPA       *CCPASection       `json:"ccpa,omitempty"`
	// HumanActions is everything a person must still do, across regimes.
	HumanActions []string `json:"human_actions"`
	Notes        []string `json:"notes,omitempty"`
}

// Criterion is one GDPR criterion with its measured risk.
type Criterion struct {
	Name     string                 `json:"name"`
	Met      bool                   `json:"met"`
	Risk     privacy.Risk           `json:"risk"`
	Evidence []privacy.AttackResult `json:"evidence"`
	Reading  string                 `json:"reading"`
}

// GDPRSection is the GDPR part.
type GDPRSection struct {
	Verdict      string       `json:"verdict"`
	Summary      string       `json:"summary"`
	MaxRisk      float64      `json:"max_risk"`
	Criteria     []Criterion  `json:"criteria"`
	DP           *DPGuarantee `json:"dp,omitempty"`
	HumanActions []string     `json:"human_actions"`
}

// CheckItem is one condition of a checklist.
type CheckItem struct {
	Condition string `json:"condition"`
	Reference string `json:"reference"`
	// Measured is what Synthos measured for it; empty when the condition
	// can only be attested.
	Measured string `json:"measured,omitempty"`
	// Status: "met", "not_met", or "attestation_required".
	Status string `json:"status"`
	Attest string `json:"attest,omitempty"` // what the customer must attest
}

// CCPASection is the CCPA part.
type CCPASection struct {
	Verdict      string      `json:"verdict"`
	Summary      string      `json:"summary"`
	Checklist    []CheckItem `json:"checklist"`
	HumanActions []string    `json:"human_actions"`
}

// Build assesses in against the regimes that apply.
func Build(ctx context.Context, in Inputs) (*Report, error) {
	if in.Train == nil || in.Output == nil || in.Holdout == nil {
		return nil, fmt.Errorf("compliance.Build: train, holdout and output tables are required (the holdout is the control set of the attacks): %w", ErrInput)
	}
	regimes := in.Regimes
	if len(regimes) == 0 {
		regimes = AllRegimes
	}
	for _, r := range regimes {
		if !slices.Contains(AllRegimes, r) {
			return nil, fmt.Errorf("compliance.Build: unknown regime %q (want %s): %w", r, strings.Join(AllRegimes, ", "), ErrInput)
		}
	}
	maxRisk := in.MaxRisk
	if maxRisk == 0 {
		maxRisk = DefaultMaxRisk
	}
	if !(maxRisk > 0 && maxRisk < 1) {
		return nil, fmt.Errorf("compliance.Build: MaxRisk %v not in (0, 1): %w", maxRisk, ErrInput)
	}
	p := in.Profile
	if p == nil {
		var err error
		if p, err = profile.Infer(in.Train, profile.Options{}); err != nil {
			return nil, fmt.Errorf("compliance.Build: profile: %w", err)
		}
	}
	rep := &Report{Version: Version, CreatedAt: time.Now().UTC(), Regimes: regimes, Processing: in.Record}
	if rep.Processing.Rows == nil {
		rep.Processing.Rows = map[string]int{"train": len(in.Train.Rows), "holdout": len(in.Holdout.Rows), "output": len(in.Output.Rows)}
	}
	crit, err := privacy.Attacks(ctx, in.Train, in.Holdout, in.Output, p, in.Attacks)
	if err != nil {
		return nil, fmt.Errorf("compliance.Build: %w", err)
	}
	rep.Criteria = crit
	rep.Leakage = privacy.Leakage(in.Train, in.Holdout, in.Output, p)
	for _, r := range regimes {
		switch r {
		case GDPR:
			rep.GDPR = gdpr(crit, maxRisk, in.DP, rep.Leakage, in.Record)
			rep.HumanActions = append(rep.HumanActions, prefixed("GDPR", rep.GDPR.HumanActions)...)
		case HIPAA:
			rep.HIPAA = hipaa(in.Train, in.Output, p, rep.Leakage, crit, in.DP)
			rep.HumanActions = append(rep.HumanActions, prefixed("HIPAA", rep.HIPAA.HumanActions)...)
		case CCPA:
			rep.CCPA = ccpa(crit, maxRisk, rep.Leakage)
			rep.HumanActions = append(rep.HumanActions, prefixed("CCPA", rep.CCPA.HumanActions)...)
		}
	}
	return rep, nil
}

func prefixed(p string, xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = p + ": " + x
	}
	return out
}

// criteria reads the three attacks as the three GDPR criteria. Singling out
// takes the worse of the univariate and multivariate attacks; inference the
// secret with the strongest evidence of risk (see strongest).
func criteria(c *privacy.Criteria, maxRisk float64) []Criterion {
	worse := func(a, b privacy.AttackResult) privacy.Risk {
		if b.Risk.Value > a.Risk.Value {
			return b.Risk
		}
		return a.Risk
	}
	mk := func(name string, risk privacy.Risk, ev []privacy.AttackResult, what string) Criterion {
		cr := Criterion{Name: name, Risk: risk, Evidence: ev, Met: risk.Value <= maxRisk}
		if cr.Met {
			cr.Reading = fmt.Sprintf("risk %.3f (%.0f%% interval %.3f–%.3f) is within %.2f: an attacker %s no better against the people the data came from than against people it never saw",
				risk.Value, c.Confidence*100, risk.Low, risk.High, maxRisk, what)
		} else {
			cr.Reading = fmt.Sprintf("risk %.3f (%.0f%% interval %.3f–%.3f) exceeds %.2f: the output lets an attacker %s better for the people it came from than for others",
				risk.Value, c.Confidence*100, risk.Low, risk.High, maxRisk, what)
		}
		return cr
	}
	return []Criterion{
		mk("singling out", worse(c.SinglingOutUni, c.SinglingOutMult), []privacy.AttackResult{c.SinglingOutUni, c.SinglingOutMult}, "isolates a person"),
		mk("linkability", c.Linkability.Risk, []privacy.AttackResult{c.Linkability}, "links two records of a person"),
		mk("inference", strongest(c.Inference).Risk, c.Inference, "infers a person's attribute"),
	}
}

// strongest returns the inference result whose interval's lower bound is
// highest; among intervals that all reach 0, the one whose estimate is
// largest relative to its interval's width. The highest point estimate over
// a dozen secrets is biased upwards by chance where the control rate is near
// 1 (insurance, 268 holdout rows never trained on: smoker 0.14 [0.00, 0.49]);
// these rules pick the secret the data most clearly show at risk.
//
// Secrets whose attack did no better than random guessing on the training
// rows (Weak: Anonymeter's "results cannot be trusted") are passed over
// unless every secret's is.
func strongest(rs []privacy.AttackResult) privacy.AttackResult {
	var trusted []privacy.AttackResult
	for _, r := range rs {
		if !r.Weak {
			trusted = append(trusted, r)
		}
	}
	if len(trusted) > 0 {
		rs = trusted
	}
	score := func(r privacy.AttackResult) float64 {
		if w := r.Risk.High - r.Risk.Low; w > 0 {
			return r.Risk.Value / w
		}
		return r.Risk.Value
	}
	var best privacy.AttackResult
	for i, r := range rs {
		if i == 0 || r.Risk.Low > best.Risk.Low || r.Risk.Low == best.Risk.Low && score(r) > score(best) {
			best = r
		}
	}
	return best
}

func gdpr(c *privacy.Criteria, maxRisk float64, dp *DPGuarantee, leak privacy.PIILeakage, rec Processing) *GDPRSection {
	s := &GDPRSection{MaxRisk: maxRisk, Criteria: criteria(c, maxRisk), DP: dp}
	met := true
	for _, cr := range s.Criteria {
		met = met && cr.Met
	}
	switch {
	case !met || leak.LeakedCells > 0:
		s.Verdict = RisksFound
		s.Summary = "At least one anonymisation criterion fails or real identifiers appear in the output: treat the output as personal data."
		s.HumanActions = append(s.HumanActions, "Do not release the output as anonymous data; fix the failing criteria (a dp model, a smaller epsilon, or de-identification) and assess again.")
	default:
		s.Verdict = ReadyForSignOff
		s.Summary = "The three criteria of Opinion 05/2014 are met as measured. Whether the output is anonymous information (Recital 26) also depends on the means reasonably likely to be used, which only the controller can judge."
	}
	if leak.LeakedCells > 0 {
		s.HumanActions = append(s.HumanActions, fmt.Sprintf("Remove the %d output cells holding real identifier values (columns: %s).", leak.LeakedCells, leakedCols(leak)))
	}
	if dp == nil {
		s.HumanActions = append(s.HumanActions, "The model gives no differential-privacy guarantee: the assessment rests on the measured attacks alone; consider a dp model for a provable bound.")
	}
	s.HumanActions = append(s.HumanActions,
		"The Data Protection Officer assesses this evidence against the context of the release (recipients, other data they hold, Recital 26) and signs the assessment.",
		"Record the processing that produced the output (training on personal data is processing: Art. 6 legal basis, Art. 30 record) — the processing record below is its starting point.",
		"Decide whether a DPIA (Art. 35) is required for the release, and re-assess when the recipients or the data change.")
	if rec.Audit == nil {
		s.HumanActions = append(s.HumanActions, "This report is not linked to an audit record (it was built outside a job): keep it with the job's records.")
	}
	return s
}

func leakedCols(l privacy.PIILeakage) string {
	var out []string
	for _, c := range l.Columns {
		out = append(out, c.Column)
	}
	return strings.Join(out, ", ")
}

func ccpa(c *privacy.Criteria, maxRisk float64, leak privacy.PIILeakage) *CCPASection {
	crs := criteria(c, maxRisk)
	met := leak.LeakedCells == 0
	var parts []string
	for _, cr := range crs {
		met = met && cr.Met
		parts = append(parts, fmt.Sprintf("%s %.3f", cr.Name, cr.Risk.Value))
	}
	measured := fmt.Sprintf("re-identification risks over the holdout control: %s (threshold %.2f); real identifier cells in the output: %d",
		strings.Join(parts, ", "), maxRisk, leak.LeakedCells)
	status := "met"
	if !met {
		status = "not_met"
	}
	s := &CCPASection{Checklist: []CheckItem{
		{Condition: "The information cannot reasonably be used to infer information about, or otherwise be linked to, a particular consumer or household",
			Reference: "Cal. Civ. Code § 1798.140(m)", Measured: measured, Status: status},
		{Condition: "The business takes reasonable measures to ensure that the information cannot be associated with a consumer or household",
			Reference: "§ 1798.140(m)(1)", Measured: "the measures applied and their measured effect are in this report (model, settings, attacks, PII leakage check)",
			Status: "attestation_required", Attest: "that these measures are maintained for every release, and access to the source data is controlled"},
		{Condition: "The business publicly commits to maintain and use the information in deidentified form and not to attempt to reidentify it",
			Reference: "§ 1798.140(m)(2)", Status: "attestation_required", Attest: "the public commitment (e.g. in the privacy policy) and where it is published"},
		{Condition: "The business contractually obligates any recipient to comply with all provisions of § 1798.140(m)",
			Reference: "§ 1798.140(m)(3)", Status: "attestation_required", Attest: "the contracts with every recipient of the output"},
	}}
	if met {
		s.Verdict = ReadyForSignOff
		s.Summary = "The measurable condition holds; the three conditions on the business must be attested before the output is deidentified information."
	} else {
		s.Verdict = RisksFound
		s.Summary = "The output can still be linked to consumers as measured: it is not deidentified information."
		s.HumanActions = append(s.HumanActions, "Reduce the measured risk (see the GDPR criteria) before treating the output as deidentified.")
	}
	s.HumanActions = append(s.HumanActions,
		"Attest the reasonable measures (§ 1798.140(m)(1)).",
		"Publish the commitment not to re-identify (§ 1798.140(m)(2)).",
		"Put the no-re-identification obligation in every recipient's contract (§ 1798.140(m)(3)).")
	return s
}

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
