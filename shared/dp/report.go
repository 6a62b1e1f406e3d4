package dp

import (
	"fmt"
	"strings"
)

// Step is one private step of a fit and what it spent.
type Step struct {
	Name string
	// Rho is the zCDP this step spent.
	Rho float64
	// Sigma2 is the discrete Gaussian variance parameter of each count
	// (Gaussian steps); Epsilon is each exponential mechanism round's
	// (selection).
	Sigma2  float64 `json:",omitempty"`
	Epsilon float64 `json:",omitempty"`
	// Count is the number of measurements or rounds.
	Count int
	Note  string `json:",omitempty"`
}

// Report states the privacy guarantee of a fitted model exactly.
type Report struct {
	// Epsilon and Delta: the model, and every table sampled from it, is
	// (Epsilon, Delta)-differentially private with respect to adding or
	// removing one row of the training table.
	Epsilon, Delta float64
	// Rho is the zCDP the measurements spent (the sum over Steps), what a
	// ledger charges. DeltaConversion is the delta of converting Rho to
	// (Epsilon, .); DeltaDomain the probability budget of releasing
	// categories found in the data (0 when every category list is public).
	// Delta = DeltaConversion + DeltaDomain.
	Rho             float64
	DeltaConversion float64
	DeltaDomain     float64
	Steps           []Step
	// Tree lists the 2-way marginals measured, as column-name pairs.
	Tree [][2]string
	// Public lists what the guarantee treats as public input, not protected.
	Public []string
	// Statement is the guarantee in one paragraph, for people.
	Statement string
	// Warnings name columns whose domain the budget could not discover
	// (every category below the release threshold, or no bucket of the
	// bounds grid out of the noise): declaring their domain in the schema
	// costs nothing and fixes them. They are derived from noisy outputs
	// only.
	Warnings []string `json:",omitempty"`
}

// report fills the model's Report from the steps.
func (f *fitter) report() error {
	r := Report{DeltaConversion: f.plan.deltaConv, DeltaDomain: f.plan.deltaDomain, Steps: f.steps, Warnings: f.warnings}
	for _, s := range f.steps {
		r.Rho += s.Rho
	}
	if r.Rho > f.plan.rho*(1+1e-9) {
		return fmt.Errorf("spent rho %v exceeds the budget %v: %w", r.Rho, f.plan.rho, ErrInvalid)
	}
	eps, err := Epsilon(r.Rho, r.DeltaConversion)
	if err != nil {
		return err
	}
	r.Epsilon, r.Delta = eps, r.DeltaConversion+r.DeltaDomain
	m := f.m
	for _, i := range m.Order {
		if p := m.Parent[i]; p >= 0 {
			r.Tree = append(r.Tree, [2]string{m.Attrs[p].Name, m.Attrs[i].Name})
		}
	}
	r.Public = []string{
		"the column names, their kinds, formats, precision and missing-value spellings (the profile, as a schema)",
		"the boolean tokens and the ID formats and PII kinds of generated columns",
	}
	var pub, bounds []string
	for i := range m.Attrs {
		a := &m.Attrs[i]
		if a.PublicLevels {
			pub = append(pub, a.Name)
		}
		if a.isNumber() && f.publicBounds(a) {
			bounds = append(bounds, a.Name)
		}
	}
	if len(m.Gaps) > 0 {
		// The statements are schema; their gaps were measured above.
		var rels []string
		for _, g := range m.Gaps {
			rels = append(rels, g.Relation)
		}
		r.Public = append(r.Public, "the order relations whose gaps were measured: "+strings.Join(rels, ", "))
	}
	if len(bounds) > 0 {
		r.Public = append(r.Public, "the bounds (min, max) declared for "+strings.Join(bounds, ", "))
	}
	if len(pub) > 0 {
		r.Public = append(r.Public, "the category lists declared for "+strings.Join(pub, ", "))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The model and every table sampled from it are (%.4g, %.3g)-differentially private for adding or removing one training row: ", r.Epsilon, r.Delta)
	gaps := ""
	if len(m.Gaps) > 0 {
		gaps = ", noisy histograms of the order relations' gaps"
	}
	fmt.Fprintf(&b, "the measurements are %.6g-zCDP (a noisy row count%s, noisy histograms for the bounds and categories not declared public, then MST: noisy 1-way marginals, a spanning tree of pairs chosen by the exponential mechanism, noisy 2-way marginals on it), converted at delta %.3g with the Canonne–Kamath–Steinke bound", r.Rho, gaps, r.DeltaConversion)
	if r.DeltaDomain > 0 {
		fmt.Fprintf(&b, "; categories were released by Gaussian thresholding, which adds %.3g to delta", r.DeltaDomain)
	}
	b.WriteString(". Keys, PII and free-text columns are generated from the schema alone. Treated as public: ")
	b.WriteString(strings.Join(r.Public, "; "))
	b.WriteString(". Budgets compose by adding rho across jobs on the same data.")
	r.Statement = b.String()
	m.Report = r
	return nil
}
