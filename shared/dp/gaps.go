package dp

import (
	"fmt"
	"math"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/relations"
)

// RelationGap is the distribution of an order relation's gap (target −
// source; seconds for datetimes) measured under DP: quantiles at evenly
// spaced probabilities, read from a noisy histogram. Package model's
// relations repair draws the later column's gap from it, so a private
// model's trips last as long as real ones, not as long as the gap between
// two independently sampled timestamps.
type RelationGap struct {
	Relation  string
	Quantiles []float64
}

// RelationGaps returns the measured gap quantiles by relation (as
// relations.Relation.String writes it); package model reads it through an
// interface.
func (m *Model) RelationGaps() map[string][]float64 {
	if len(m.Gaps) == 0 {
		return nil
	}
	out := make(map[string][]float64, len(m.Gaps))
	for _, g := range m.Gaps {
		out[g.Relation] = g.Quantiles
	}
	return out
}

const (
	// gapShare is the share of rho (after the row count) each order
	// relation's gap histogram gets, up to gapMaxShare for all of them.
	gapShare    = 0.05
	gapMaxShare = 0.15
	// gapPerOctave is the finest gap grid: buckets of 2^(1/4), about 19%
	// wide; a table with fewer rows per noise deviation than gapFineRows
	// gets 2 buckets an octave, under gapCoarseRows one (gapOctave).
	gapPerOctave  = 4
	gapFineRows   = 100
	gapCoarseRows = 30
	// gapQuantiles is how many quantiles a measured gap keeps.
	gapQuantiles = 65
	// gapThreshold (sigma) is what a bucket next to the gap's range must
	// reach to widen it (low, as for bounds: a tail cut off is worse than
	// a bucket of noise, whose clipped count is small); gapJump (sigma)
	// lets the range jump up to gapMaxJump empty buckets.
	gapThreshold = 1
	gapJump      = 4
	gapMaxJump   = 4
)

// The gap grid is public: bucket 0 holds gaps under 2^minExp (read as
// zero), bucket b >= 1 holds [2^(minExp+(b-1)/q), 2^(minExp+b/q)) for q
// buckets an octave, up to 2^maxExp.
func gapBucket(g float64, q int) int {
	if g < math.Ldexp(1, minExp) {
		return 0
	}
	b := int(math.Floor((math.Log2(g)-minExp)*float64(q))) + 1
	return min(b, gapBuckets(q)-1)
}

func gapBuckets(q int) int { return (maxExp-minExp)*q + 1 }

func gapRange(b, q int) (lo, hi float64) {
	if b == 0 {
		return 0, 0
	}
	return math.Exp2(minExp + float64(b-1)/float64(q)), math.Exp2(minExp + float64(b)/float64(q))
}

// gapOctave is the grid's buckets an octave for a table of rows (noisy)
// under noise of deviation sigma: coarser when the noise would drown
// narrow buckets. It reads public input and noisy outputs only.
func gapOctave(rows, sigma float64) int {
	switch r := rows / sigma; {
	case r >= gapFineRows:
		return gapPerOctave
	case r >= gapCoarseRows:
		return gapPerOctave / 2
	}
	return 1
}

// orderRelations lists the order relations of the profile between two
// numeric or two datetime columns, whose gaps the fit measures.
func (f *fitter) orderRelations() []relations.Relation {
	var out []relations.Relation
	for _, r := range f.p.Relations {
		if r.Kind != relations.Order || len(r.Columns) != 2 {
			continue
		}
		a, b := f.p.Col(r.Columns[0]), f.p.Col(r.Columns[1])
		if a == nil || b == nil || a.Kind != b.Kind || (a.Kind != profile.Numeric && a.Kind != profile.Datetime) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// measureGaps measures, for each order relation, a noisy histogram of its
// non-negative gaps on the public gap grid: each row adds 1 to one bucket
// of each histogram at most, so each is a Gaussian measurement of L2
// sensitivity 1, and the k histograms share rhoGaps. The quantiles are
// post-processing: the run of buckets around the largest noisy one whose
// counts pass gapThreshold sigma, negative counts clipped, log-uniform
// within a bucket.
func (f *fitter) measureGaps() error {
	rels := f.orderRelations()
	if len(rels) == 0 || f.plan.rhoGaps <= 0 {
		return nil
	}
	g, err := NewDiscreteGaussian(float64(len(rels)) / (2 * f.plan.rhoGaps))
	if err != nil {
		return err
	}
	f.steps = append(f.steps, Step{Name: "relation gaps", Rho: float64(len(rels)) * g.Rho(), Sigma2: g.Sigma2(), Count: len(rels),
		Note: "a histogram of each order relation's gap on a public grid of log-spaced buckets"})
	sigma := math.Sqrt(g.Sigma2())
	q := gapOctave(f.plan.rows, sigma)
	for _, r := range rels {
		if err := f.ctx.Err(); err != nil {
			return err
		}
		ja, jb := colIndex(f.p, r.Columns[0]), colIndex(f.p, r.Columns[1])
		ca, cb := &f.p.Columns[ja], &f.p.Columns[jb]
		counts := make([]int64, gapBuckets(q))
		for _, row := range f.t.Rows {
			if profile.IsMissing(row[ja], ca) || profile.IsMissing(row[jb], cb) {
				continue
			}
			a, ok1 := parseValue(ca.Kind, ca.Format, row[ja])
			b, ok2 := parseValue(cb.Kind, cb.Format, row[jb])
			if ok1 && ok2 && b >= a {
				counts[gapBucket(b-a, q)]++
			}
		}
		if err := g.AddNoise(counts); err != nil {
			return err
		}
		qs := gapQuantilesFrom(counts, sigma, q)
		if qs == nil {
			f.warnings = append(f.warnings, fmt.Sprintf("relation %s: no bucket of the gap histogram stands out of the noise (sigma %.0f rows), so the order is kept by swapping values", r, sigma))
			continue
		}
		f.m.Gaps = append(f.m.Gaps, RelationGap{Relation: r.String(), Quantiles: qs})
	}
	return nil
}

// gapQuantilesFrom reads gapQuantiles quantiles from a noisy gap
// histogram, or nil when even its largest bucket is under warnThreshold
// sigma.
func gapQuantilesFrom(counts []int64, sigma float64, perOctave int) []float64 {
	best := 0
	for b, c := range counts {
		if c > counts[best] {
			best = b
		}
	}
	if float64(counts[best]) < warnThreshold*sigma {
		return nil
	}
	grow := func(cur, step int) int {
		for {
			next := -1
			for j := 1; j <= gapMaxJump; j++ {
				b := cur + j*step
				if b < 0 || b >= len(counts) {
					break
				}
				c := float64(counts[b])
				if (j == 1 && c >= gapThreshold*sigma) || c >= gapJump*sigma {
					next = b
					break
				}
			}
			if next < 0 {
				return cur
			}
			cur = next
		}
	}
	lo, hi := grow(best, -1), grow(best, 1)
	w := make([]float64, hi-lo+1)
	total := 0.0
	for b := lo; b <= hi; b++ {
		w[b-lo] = math.Max(float64(counts[b]), 0)
		total += w[b-lo]
	}
	q := make([]float64, gapQuantiles)
	k, acc := 0, 0.0
	for i := range q {
		target := total * float64(i) / float64(gapQuantiles-1)
		for k < len(w)-1 && acc+w[k] < target {
			acc += w[k]
			k++
		}
		blo, bhi := gapRange(lo+k, perOctave)
		t := 0.0
		if w[k] > 0 {
			t = math.Min(1, math.Max(0, (target-acc)/w[k]))
		}
		switch {
		case bhi == 0:
			q[i] = 0
		default:
			q[i] = blo * math.Pow(bhi/blo, t)
		}
		if i > 0 && q[i] < q[i-1] {
			q[i] = q[i-1]
		}
	}
	return q
}

// colIndex is the index of the named column in p (the relation was
// checked to name one).
func colIndex(p *profile.Profile, name string) int {
	for j := range p.Columns {
		if p.Columns[j].Name == name {
			return j
		}
	}
	return -1
}
