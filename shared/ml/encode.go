package ml

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// MaxBins is the most bins a feature can have, code 0 (missing) included.
const MaxBins = 64

// FeatureKind says how trees split a feature.
type FeatureKind uint8

const (
	// Ordinal features split at a threshold on their ordered bins; the
	// missing bin goes to whichever side fits better.
	Ordinal FeatureKind = iota
	// Nominal features split into two sets of categories.
	Nominal
)

// Feature describes one encoded column.
type Feature struct {
	Name string
	Kind FeatureKind
	Bins int // codes are 0..Bins-1; 0 is missing
}

// Matrix is a table encoded for the trees: column-major bin codes.
type Matrix struct {
	Rows     int
	Features []Feature
	Codes    [][]uint8 // Codes[f][row]
}

// Encoder maps the profiled columns of a table to features: numbers and
// datetimes to up to MaxBins-1 quantile bins, categories and booleans to
// their MaxBins-2 most frequent values plus one "other" bin. Missing values
// get bin 0. Columns of kind id, text and pii are not features.
type Encoder struct {
	specs []spec
}

type spec struct {
	Feature
	col   profile.Column
	edges []float64        // ordinal: bin k+1 holds edges[k-1] < v <= edges[k]
	cats  map[string]uint8 // nominal: category → code; others map to Bins-1
}

// Features lists the encoder's features in order.
func (e *Encoder) Features() []Feature {
	out := make([]Feature, len(e.specs))
	for i, s := range e.specs {
		out[i] = s.Feature
	}
	return out
}

// FitEncoder learns the bins of every usable column of t that p describes,
// except the excluded ones (typically the target).
func FitEncoder(t *table.Table, p *profile.Profile, exclude ...string) (*Encoder, error) {
	if t == nil || p == nil || len(t.Rows) == 0 {
		return nil, fmt.Errorf("ml.FitEncoder: empty table or nil profile: %w", ErrInput)
	}
	e := &Encoder{}
	for _, pc := range p.Columns {
		if slices.Contains(exclude, pc.Name) {
			continue
		}
		ci := t.Col(pc.Name)
		if ci < 0 {
			return nil, fmt.Errorf("ml.FitEncoder: table has no column %q: %w", pc.Name, ErrInput)
		}
		vals, err := column(t, ci)
		if err != nil {
			return nil, fmt.Errorf("ml.FitEncoder: %w", err)
		}
		s := spec{Feature: Feature{Name: pc.Name}, col: pc}
		switch pc.Kind {
		case profile.Numeric, profile.Datetime:
			s.Kind = Ordinal
			s.edges = quantileEdges(Numbers(vals, &pc), MaxBins-1)
			s.Bins = len(s.edges) + 2
		case profile.Categorical, profile.Boolean:
			s.Kind = Nominal
			s.cats = topCategories(vals, &pc, MaxBins-2)
			s.Bins = len(s.cats) + 2
		default:
			continue
		}
		e.specs = append(e.specs, s)
	}
	if len(e.specs) == 0 {
		return nil, fmt.Errorf("ml.FitEncoder: no usable feature columns: %w", ErrInput)
	}
	return e, nil
}

// Transform encodes t, which must hold every column the encoder was fitted
// on. Values unseen at fit time land in the nearest bin (numbers) or the
// "other" bin (categories).
func (e *Encoder) Transform(t *table.Table) (*Matrix, error) {
	if t == nil {
		return nil, fmt.Errorf("ml.Encoder.Transform: nil table: %w", ErrInput)
	}
	m := &Matrix{Rows: len(t.Rows), Features: e.Features(), Codes: make([][]uint8, len(e.specs))}
	for f, s := range e.specs {
		ci := t.Col(s.Name)
		if ci < 0 {
			return nil, fmt.Errorf("ml.Encoder.Transform: table has no column %q: %w", s.Name, ErrInput)
		}
		vals, err := column(t, ci)
		if err != nil {
			return nil, fmt.Errorf("ml.Encoder.Transform: %w", err)
		}
		codes := make([]uint8, len(vals))
		if s.Kind == Ordinal {
			for i, v := range Numbers(vals, &s.col) {
				if !math.IsNaN(v) {
					codes[i] = 1 + uint8(sort.SearchFloat64s(s.edges, v))
				}
			}
		} else {
			ms := NewMissing(s.col.MissingTokens)
			other := uint8(s.Bins - 1)
			for i, v := range vals {
				if ms.Is(v) {
					continue
				}
				c, ok := s.cats[Label(s.col.Kind, v)]
				if !ok {
					c = other
				}
				codes[i] = c
			}
		}
		m.Codes[f] = codes
	}
	return m, nil
}

// column returns the cells of column ci, failing on a short row.
func column(t *table.Table, ci int) ([]string, error) {
	out := make([]string, len(t.Rows))
	for i, r := range t.Rows {
		if ci >= len(r) {
			return nil, fmt.Errorf("row %d has %d cells: %w", i, len(r), ErrInput)
		}
		out[i] = r[ci]
	}
	return out, nil
}

// quantileEdges returns up to k-1 distinct upper edges so that the values
// split into at most k bins of roughly equal counts: bin j (1-based) holds
// edges[j-2] < v <= edges[j-1], and the last bin everything above.
func quantileEdges(x []float64, k int) []float64 {
	s := make([]float64, 0, len(x))
	for _, v := range x {
		if !math.IsNaN(v) {
			s = append(s, v)
		}
	}
	slices.Sort(s)
	var edges []float64
	for j := 1; j < k && len(s) > 0; j++ {
		e := s[(j*len(s))/k]
		if e < s[len(s)-1] && (len(edges) == 0 || e > edges[len(edges)-1]) {
			edges = append(edges, e)
		}
	}
	return edges
}

// topCategories codes the n most frequent labels 1..n (ties by label).
func topCategories(vals []string, pc *profile.Column, n int) map[string]uint8 {
	ms := NewMissing(pc.MissingTokens)
	counts := map[string]int{}
	for _, v := range vals {
		if !ms.Is(v) {
			counts[Label(pc.Kind, v)]++
		}
	}
	labels := make([]string, 0, len(counts))
	for l := range counts {
		labels = append(labels, l)
	}
	slices.SortFunc(labels, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	if len(labels) > n {
		labels = labels[:n]
	}
	out := make(map[string]uint8, len(labels))
	for i, l := range labels {
		out[l] = uint8(i + 1)
	}
	return out
}

// Missing is how one column spells missing: empty cells and its tokens.
type Missing map[string]struct{}

// NewMissing builds the set of missing spellings from profile tokens.
func NewMissing(tokens []string) Missing {
	m := make(Missing, len(tokens))
	for _, tok := range tokens {
		m[tok] = struct{}{}
		m[strings.TrimSpace(tok)] = struct{}{}
	}
	return m
}

// Is reports whether cell is missing.
func (m Missing) Is(cell string) bool {
	s := strings.TrimSpace(cell)
	if s == "" {
		return true
	}
	if _, ok := m[cell]; ok {
		return true
	}
	_, ok := m[s]
	return ok
}

// Label normalises a discrete cell: booleans compare case-insensitively,
// other labels exactly.
func Label(kind profile.Kind, cell string) string {
	if kind == profile.Boolean {
		return strings.ToLower(strings.TrimSpace(cell))
	}
	return cell
}

// datetimeLayouts are tried, in order, for a datetime column without Format.
var datetimeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02", "01/02/2006"}

// Number parses one numeric or datetime cell (datetimes as Unix seconds).
// ok is false for a missing, unparseable or non-finite cell.
func Number(cell string, pc *profile.Column, ms Missing) (v float64, ok bool) {
	if ms.Is(cell) {
		return math.NaN(), false
	}
	s := strings.TrimSpace(cell)
	if pc.Kind == profile.Datetime {
		layouts := datetimeLayouts
		if pc.Format != "" {
			layouts = []string{pc.Format}
		}
		for _, l := range layouts {
			if t, err := time.Parse(l, s); err == nil {
				return float64(t.Unix()) + float64(t.Nanosecond())/1e9, true
			}
		}
		return math.NaN(), false
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return math.NaN(), false
	}
	return x, true
}

// Numbers parses a numeric or datetime column; NaN marks cells Number
// rejects.
func Numbers(vals []string, pc *profile.Column) []float64 {
	ms := NewMissing(pc.MissingTokens)
	out := make([]float64, len(vals))
	for i, v := range vals {
		out[i], _ = Number(v, pc, ms)
	}
	return out
}
