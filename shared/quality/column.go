package quality

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"synthos.dev/synthos/shared/ml"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// missingLabel names the missing category in every discrete view.
const missingLabel = "(missing)"

// column is one scored column of the real and synthetic tables, decoded once
// and shared by every metric.
type column struct {
	name string
	kind profile.Kind
	// continuous columns (numeric, datetime) carry numbers, NaN = missing.
	continuous bool
	real, syn  []float64
	// discrete columns (categorical, boolean) carry codes into labels;
	// code 0 is the missing category.
	realCode, synCode []int32
	labels            []string

	realMissing, synMissing int // includes unparseable cells
	synInvalid              int // non-missing synthetic cells that did not parse
}

// cells returns column ci of t, skipping nothing: t's rows must be at least
// ci+1 wide (checked by prepare).
func cells(t *table.Table, ci int) []string {
	out := make([]string, len(t.Rows))
	for i, r := range t.Rows {
		out[i] = r[ci]
	}
	return out
}

// parseNumbers decodes a numeric or datetime column into float64s (datetimes
// as Unix seconds), NaN for missing or unparseable cells. It returns the
// count of NaNs and of cells that were not missing but did not parse.
func parseNumbers(vals []string, pc *profile.Column) (out []float64, missing, invalid int) {
	ms := ml.NewMissing(pc.MissingTokens)
	out = make([]float64, len(vals))
	for i, v := range vals {
		f, ok := ml.Number(v, pc, ms)
		out[i] = f
		if !ok {
			missing++
			if !ms.Is(v) {
				invalid++
			}
		}
	}
	return out, missing, invalid
}

// encodeDiscrete gives real and synthetic cells codes in one vocabulary:
// 0 is missing, then real labels by first appearance, then labels only the
// synthetic table uses.
func encodeDiscrete(real, syn []string, pc *profile.Column) (rc, sc []int32, labels []string, rMiss, sMiss int) {
	ms := ml.NewMissing(pc.MissingTokens)
	labels = []string{missingLabel}
	index := map[string]int32{}
	enc := func(vals []string) ([]int32, int) {
		out := make([]int32, len(vals))
		miss := 0
		for i, v := range vals {
			if ms.Is(v) {
				miss++
				continue
			}
			l := ml.Label(pc.Kind, v)
			c, ok := index[l]
			if !ok {
				c = int32(len(labels))
				index[l] = c
				labels = append(labels, l)
			}
			out[i] = c
		}
		return out, miss
	}
	rc, rMiss = enc(real)
	sc, sMiss = enc(syn)
	return rc, sc, labels, rMiss, sMiss
}

// scored reports whether a kind takes part in fidelity metrics.
func scored(k profile.Kind) bool {
	switch k {
	case profile.Numeric, profile.Datetime, profile.Categorical, profile.Boolean:
		return true
	}
	return false
}

// Exclusion records a column left out of the metrics, and why.
type Exclusion struct {
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// prepared is both tables decoded column by column.
type prepared struct {
	cols     []*column
	excluded []Exclusion
	nReal    int
	nSyn     int
}

// sampleRows returns up to max rows of t chosen without replacement with rng
// (all rows, in order, when max <= 0 or t is small enough).
func sampleRows(rows [][]string, max int, rng *rand.Rand) [][]string {
	if max <= 0 || len(rows) <= max {
		return rows
	}
	idx := rng.Perm(len(rows))[:max]
	slices.Sort(idx)
	out := make([][]string, max)
	for i, j := range idx {
		out[i] = rows[j]
	}
	return out
}

// checkTable validates t's shape and returns the index of each profiled
// column in it.
func checkTable(what string, t *table.Table, p *profile.Profile) ([]int, error) {
	if t == nil {
		return nil, fmt.Errorf("%s table is nil: %w", what, ErrInput)
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("%s table has no rows: %w", what, ErrInput)
	}
	idx := make([]int, len(p.Columns))
	for i, pc := range p.Columns {
		idx[i] = t.Col(pc.Name)
		if idx[i] < 0 && scored(pc.Kind) {
			return nil, fmt.Errorf("%s table has no column %q: %w", what, pc.Name, ErrSchema)
		}
	}
	for r, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return nil, fmt.Errorf("%s table row %d has %d cells, want %d: %w", what, r, len(row), len(t.Columns), ErrSchema)
		}
	}
	return idx, nil
}

// prepare decodes the profiled columns of real and syn (after sampling each
// to at most maxRows rows).
func prepare(real, syn *table.Table, p *profile.Profile, maxRows int, seed uint64) (*prepared, error) {
	if p == nil || len(p.Columns) == 0 {
		return nil, fmt.Errorf("profile is nil or has no columns: %w", ErrInput)
	}
	ri, err := checkTable("real", real, p)
	if err != nil {
		return nil, err
	}
	si, err := checkTable("synthetic", syn, p)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	rt := &table.Table{Columns: real.Columns, Rows: sampleRows(real.Rows, maxRows, rng)}
	st := &table.Table{Columns: syn.Columns, Rows: sampleRows(syn.Rows, maxRows, rng)}
	out := &prepared{nReal: len(rt.Rows), nSyn: len(st.Rows)}
	for i := range p.Columns {
		pc := &p.Columns[i]
		if !scored(pc.Kind) {
			out.excluded = append(out.excluded, Exclusion{Column: pc.Name, Reason: fmt.Sprintf("kind %q has no distribution to compare", pc.Kind)})
			continue
		}
		c := &column{name: pc.Name, kind: pc.Kind}
		rv, sv := cells(rt, ri[i]), cells(st, si[i])
		switch pc.Kind {
		case profile.Numeric, profile.Datetime:
			c.continuous = true
			c.real, c.realMissing, _ = parseNumbers(rv, pc)
			c.syn, c.synMissing, c.synInvalid = parseNumbers(sv, pc)
		default:
			c.realCode, c.synCode, c.labels, c.realMissing, c.synMissing = encodeDiscrete(rv, sv, pc)
		}
		out.cols = append(out.cols, c)
	}
	if len(out.cols) == 0 {
		return nil, fmt.Errorf("profile has no numeric, datetime, categorical or boolean column: %w", ErrInput)
	}
	return out, nil
}
