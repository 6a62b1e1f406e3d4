package privacy

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
)

// evaluation carries what the distance-based metrics share: the encoded
// tables, the seeded sampler and the query budget.
type evaluation struct {
	ctx  context.Context
	e    *encoded
	rng  *rand.Rand
	maxQ int // < 0: every row
}

// sample returns k distinct row indices of n, in increasing order, or all of
// them when k is negative or at least n.
func sample(rng *rand.Rand, n, k int) []int {
	if k < 0 || k >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := rng.Perm(n)[:k]
	slices.Sort(out)
	return out
}

// rows returns a matrix holding the given rows of m.
func (m *matrix) rows(idx []int) *matrix {
	s := &matrix{n: len(idx), nNum: m.nNum, nCat: m.nCat,
		num: make([]float32, 0, len(idx)*m.nNum), cat: make([]int32, 0, len(idx)*m.nCat),
		hash: make([]uint64, 0, len(idx))}
	for _, i := range idx {
		s.num = append(s.num, m.numRow(i)...)
		s.cat = append(s.cat, m.catRow(i)...)
		s.hash = append(s.hash, m.hash[i])
	}
	return s
}

// dcr computes the DCR shares and the DCR and NNDR of synthetic and holdout
// rows against the whole train.
//
// Two shares are reported because an equal-size subsample of train, the
// usual way to make 0.5 the ideal, dilutes memorisation: a copied training
// row whose original was left out of the subsample looks unseen, so with
// train four times the holdout even a table of pure copies scores only
// about (1 + 1/4) / 2. The size-adjusted share compares against the whole
// train and the whole holdout and corrects for their sizes instead (see
// adjustShare); it reaches 1 for copies and is 0.5 for unseen records.
func (ev *evaluation) dcr() (DCR, NNDR, error) {
	e, w := ev.e, float64(ev.e.s.width())
	var out DCR
	var nn NNDR
	q := sample(ev.rng, e.synth.n, ev.maxQ)
	size := min(e.train.n, e.holdout.n)
	trainRef := e.train.rows(sample(ev.rng, e.train.n, size))
	holdRef := e.holdout
	if size < e.holdout.n {
		holdRef = e.holdout.rows(sample(ev.rng, e.holdout.n, size))
	}
	out.Queries, out.ReferenceRows = len(q), size

	full := newVPTree(e.train, ev.rng)
	syn, err := full.batch(ev.ctx, e.synth, q, 2)
	if err != nil {
		return out, nn, err
	}
	holdTree := newVPTree(e.holdout, ev.rng)
	toHold, err := holdTree.batch(ev.ctx, e.synth, q, 1)
	if err != nil {
		return out, nn, err
	}
	toSub, err := newVPTree(trainRef, ev.rng).batch(ev.ctx, e.synth, q, 1)
	if err != nil {
		return out, nn, err
	}
	toSubHold := toHold
	if holdRef != e.holdout {
		if toSubHold, err = newVPTree(holdRef, ev.rng).batch(ev.ctx, e.synth, q, 1); err != nil {
			return out, nn, err
		}
	}
	raw, _ := closerShare(syn, toHold)
	out.RawShare = raw
	out.RawShareIdeal = float64(e.train.n) / float64(e.train.n+e.holdout.n)
	out.CloserToTrainShare = adjustShare(raw, e.train.n, e.holdout.n)
	out.EqualSizeShare, out.Ties = closerShare(toSub, toSubHold)

	hq := sample(ev.rng, e.holdout.n, ev.maxQ)
	hold, err := full.batch(ev.ctx, e.holdout, hq, 2)
	if err != nil {
		return out, nn, err
	}
	out.HoldoutQueries = len(hq)
	d1, r := firstAndRatio(syn, w)
	out.SyntheticMedian, out.SyntheticP5 = quantile(d1, 0.5), quantile(d1, 0.05)
	nn.SyntheticMedian, nn.SyntheticP5 = quantile(r, 0.5), quantile(r, 0.05)
	d1, r = firstAndRatio(hold, w)
	out.HoldoutMedian, out.HoldoutP5 = quantile(d1, 0.5), quantile(d1, 0.05)
	nn.HoldoutMedian, nn.HoldoutP5 = quantile(r, 0.5), quantile(r, 0.05)
	return out, nn, nil
}

// closerShare returns the share of queries whose nearest neighbour in a is
// closer than in b, ties counting one half, and the number of ties.
func closerShare(a, b []neighbours) (float64, int) {
	if len(a) == 0 {
		return 0.5, 0
	}
	var closer float64
	ties := 0
	for j := range a {
		switch da, db := a[j].d[0], b[j].d[0]; {
		case da < db:
			closer++
		case da == db:
			closer += 0.5
			ties++
		}
	}
	return closer / float64(len(a)), ties
}

// adjustShare maps the share p of queries closer to a train of nt rows than
// to a holdout of nh rows onto the scale of equal sizes: the train's wins
// per training row against the holdout's wins per holdout row,
// (p/nt) / (p/nt + (1-p)/nh). For queries independent of both (a model that
// memorised nothing) every one of the nt+nh real rows is equally likely to be
// the nearest, so p is nt/(nt+nh) on average and the adjusted share 0.5;
// when every query sits on a training row p is 1 and so is the result.
func adjustShare(p float64, nt, nh int) float64 {
	a, b := p/float64(nt), (1-p)/float64(nh)
	if a+b == 0 {
		return 0.5
	}
	return a / (a + b)
}

// firstAndRatio returns, sorted, the closest distances divided by the column
// count w and the ratios d1/d2 (1 when d2 is 0).
func firstAndRatio(nb []neighbours, w float64) (d1, ratio []float64) {
	d1 = make([]float64, len(nb))
	ratio = make([]float64, len(nb))
	for j, h := range nb {
		d1[j] = float64(h.d[0]) / w
		ratio[j] = nndr(h.d[0], h.d[1])
	}
	slices.Sort(d1)
	slices.Sort(ratio)
	return d1, ratio
}

// nndr is d1/d2, with 0/0 taken as 1 (the row is equally close to two
// training rows, so it singles neither out) and 1 when there is no second
// neighbour.
func nndr(d1, d2 float32) float64 {
	if d2 == 0 || math.IsInf(float64(d2), 1) {
		return 1
	}
	return float64(d1) / float64(d2)
}

// quantile returns the q-quantile of sorted xs by linear interpolation
// between order statistics (NumPy's default), or 0 for no data.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	pos := q * float64(len(xs)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(xs)-1)
	return xs[lo] + (pos-float64(lo))*(xs[hi]-xs[lo])
}

// identical counts synthetic and holdout rows equal to some training row.
func identical(train, holdout, synth *matrix) Identical {
	g := groupRows(train)
	count := func(m *matrix) int {
		n := 0
		for i := 0; i < m.n; i++ {
			if g.find(train, m, i) >= 0 {
				n++
			}
		}
		return n
	}
	out := Identical{SyntheticMatches: count(synth), HoldoutMatches: count(holdout)}
	out.SyntheticShare = float64(out.SyntheticMatches) / float64(synth.n)
	out.HoldoutShare = float64(out.HoldoutMatches) / float64(holdout.n)
	return out
}

// candidates samples the attacker's records: equally many training members
// and holdout non-members, half the query budget each.
func (ev *evaluation) candidates() (members, nonMembers []int) {
	n := min(ev.e.train.n, ev.e.holdout.n)
	if ev.maxQ > 0 {
		n = min(n, ev.maxQ/2)
	}
	return sample(ev.rng, ev.e.train.n, n), sample(ev.rng, ev.e.holdout.n, n)
}

// membership runs the distance-based membership-inference attack.
func (ev *evaluation) membership(members, nonMembers []int) (Membership, error) {
	t := newVPTree(ev.e.synth, ev.rng)
	in, err := t.batch(ev.ctx, ev.e.train, members, 1)
	if err != nil {
		return Membership{}, err
	}
	out, err := t.batch(ev.ctx, ev.e.holdout, nonMembers, 1)
	if err != nil {
		return Membership{}, err
	}
	din := make([]float32, len(in))
	for j, h := range in {
		din[j] = h.d[0]
	}
	dout := make([]float32, len(out))
	for j, h := range out {
		dout[j] = h.d[0]
	}
	auc, adv := attackScores(din, dout)
	return Membership{Members: len(din), NonMembers: len(dout), AUC: auc, Advantage: adv}, nil
}

// attackScores scores an attack that calls a record a member when its
// distance is at most a threshold. auc is the probability that a random
// member lies closer than a random non-member, ties counting one half (the
// Mann–Whitney statistic); adv is the largest TPR − FPR over thresholds (0
// for the threshold below every distance).
func attackScores(members, nonMembers []float32) (auc, adv float64) {
	if len(members) == 0 || len(nonMembers) == 0 {
		return 0.5, 0
	}
	type scored struct {
		d      float32
		member bool
	}
	all := make([]scored, 0, len(members)+len(nonMembers))
	for _, d := range members {
		all = append(all, scored{d, true})
	}
	for _, d := range nonMembers {
		all = append(all, scored{d, false})
	}
	slices.SortFunc(all, func(a, b scored) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return 0
	})
	nm, nn := float64(len(members)), float64(len(nonMembers))
	var seenM, seenN, pairs float64
	for i := 0; i < len(all); {
		j := i
		var a, b float64
		for ; j < len(all) && all[j].d == all[i].d; j++ {
			if all[j].member {
				a++
			} else {
				b++
			}
		}
		// Members here beat every non-member further away and tie with
		// the b here.
		pairs += a*(nn-seenN-b) + 0.5*a*b
		seenM += a
		seenN += b
		adv = max(adv, seenM/nm-seenN/nn)
		i = j
	}
	return pairs / (nm * nn), adv
}

// attributes runs attribute inference for the sensitive columns from the
// known ones on the attacker's training and holdout records.
func (ev *evaluation) attributes(sens, known colSet, members, nonMembers []int, tol float64) (*AttributeInference, error) {
	e := ev.e
	ksyn := e.synth.project(known.num, known.cat)
	t := newVPTree(ksyn, ev.rng)
	guess := newGuesses(e.synth, t.g, sens)
	acc := func(m *matrix, rows []int) ([]float64, error) {
		km := m.rows(rows).project(known.num, known.cat)
		all := make([]int, len(rows))
		for i := range all {
			all[i] = i
		}
		nb, err := t.batch(ev.ctx, km, all, 1)
		if err != nil {
			return nil, err
		}
		right := make([]float64, len(sens.names))
		for j, h := range nb {
			r := rows[j]
			for k, c := range sens.num {
				if closeEnough(guess.num[int(h.group[0])*len(sens.num)+k], m.numRow(r)[c], tol) {
					right[k]++
				}
			}
			for k, c := range sens.cat {
				if guess.cat[int(h.group[0])*len(sens.cat)+k] == m.catRow(r)[c] {
					right[len(sens.num)+k]++
				}
			}
		}
		for k := range right {
			right[k] /= float64(len(rows))
		}
		return right, nil
	}
	tr, err := acc(e.train, members)
	if err != nil {
		return nil, err
	}
	ho, err := acc(e.holdout, nonMembers)
	if err != nil {
		return nil, err
	}
	out := &AttributeInference{Known: known.names, Records: len(members), NumericTolerance: tol}
	// tr and ho list the numeric sensitive columns first, then the
	// categorical ones; the report follows the order the caller gave.
	for _, name := range sens.names {
		for k := range tr {
			if sensName(e.s, sens, k) == name {
				out.Columns = append(out.Columns, AttributeRisk{Column: name,
					TrainAccuracy: tr[k], HoldoutAccuracy: ho[k], Risk: tr[k] - ho[k]})
			}
		}
	}
	return out, nil
}

// sensName is the name of the k-th sensitive column in numeric-then-
// categorical order.
func sensName(s *schema, sens colSet, k int) string {
	if k < len(sens.num) {
		return s.num[sens.num[k]].col.Name
	}
	return s.cat[sens.cat[k-len(sens.num)]].col.Name
}

// closeEnough reports whether a numeric guess is right: both missing, or
// both present and at most tol apart on the scaled axis.
func closeEnough(guess, truth float32, tol float64) bool {
	gm, tm := guess != guess, truth != truth
	if gm || tm {
		return gm && tm
	}
	return math.Abs(float64(guess-truth)) <= tol+1e-6
}

// guesses holds, per group of synthetic rows identical on the known columns,
// the attacker's guess of each sensitive column: the most common category
// (the lowest code on a tie) or the median of the present numbers (missing
// when none is present).
type guesses struct {
	num []float32 // group-major, len(sens.num) per group
	cat []int32   // group-major, len(sens.cat) per group
}

func newGuesses(synth *matrix, g *groups, sens colSet) guesses {
	ng := len(g.rep)
	members := make([][]int32, ng)
	for i, gi := range g.of {
		members[gi] = append(members[gi], int32(i))
	}
	out := guesses{num: make([]float32, ng*len(sens.num)), cat: make([]int32, ng*len(sens.cat))}
	var vals []float32
	counts := map[int32]int{}
	for gi, rows := range members {
		for k, c := range sens.num {
			vals = vals[:0]
			for _, r := range rows {
				if v := synth.numRow(int(r))[c]; v == v {
					vals = append(vals, v)
				}
			}
			out.num[gi*len(sens.num)+k] = median32(vals)
		}
		for k, c := range sens.cat {
			clear(counts)
			best, bestN := int32(0), -1
			for _, r := range rows {
				counts[synth.catRow(int(r))[c]]++
			}
			for code, n := range counts {
				if n > bestN || n == bestN && code < best {
					best, bestN = code, n
				}
			}
			out.cat[gi*len(sens.cat)+k] = best
		}
	}
	return out
}

// median32 returns the median of vals (the lower middle for an even count),
// or nan32 for none. It reorders vals.
func median32(vals []float32) float32 {
	if len(vals) == 0 {
		return nan32
	}
	slices.Sort(vals)
	return vals[(len(vals)-1)/2]
}
