package dp

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// tiny builds a small mixed table and its profile.
func tiny(tb testing.TB, n int) (*table.Table, *profile.Profile) {
	tb.Helper()
	t := &table.Table{Columns: []string{"id", "age", "color", "member", "joined", "email"}}
	colors := []string{"red", "green", "blue"}
	for i := range n {
		age := strconv.Itoa(20 + (i*7)%50)
		color := colors[i%3]
		if i%10 == 9 {
			color = ""
		}
		member := "yes"
		if (i*7)%50 < 20 {
			member = "no"
		}
		joined := "2020-0" + strconv.Itoa(1+i%9) + "-1" + strconv.Itoa(i%10)
		t.Rows = append(t.Rows, []string{"C-" + strconv.Itoa(1000+i), age, color, member, joined, "u" + strconv.Itoa(i) + "@example.com"})
	}
	p := inferProfile(tb, t)
	return t, p
}

func TestFitTiny(t *testing.T) {
	t.Parallel()
	tb, p := tiny(t, 2000)
	kinds := map[string]profile.Kind{}
	for _, c := range p.Columns {
		kinds[c.Name] = c.Kind
	}
	m, err := Fit(context.Background(), tb, p, Options{Epsilon: 4})
	if err != nil {
		t.Fatal(err)
	}
	r := m.Report
	sum := 0.0
	for _, s := range r.Steps {
		sum += s.Rho
	}
	want, _ := Rho(4, 0.9e-9)
	if math.Abs(sum-r.Rho) > 1e-12 || r.Rho > want*(1+1e-9) || r.Epsilon > 4*(1+1e-9) || r.Delta > 1e-9*(1+1e-12) {
		t.Errorf("report %+v: steps sum %v, budget %v; kinds %v", r, sum, want, kinds)
	}
	if !strings.Contains(r.Statement, "differentially private") {
		t.Errorf("statement %q", r.Statement)
	}
	// Deterministic and shardable.
	whole := sample(t, m, 9000, 7)
	again := sample(t, m, 9000, 7)
	var parts [][]string
	for s := range 3 {
		var c collect
		if err := m.Sample(context.Background(), 9000, s, 3, 7, synth.SampleOptions{}, &c); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, c.rows...)
	}
	if !equalRows(whole.Rows, again.Rows) || !equalRows(whole.Rows, parts) {
		t.Fatal("sampling is not deterministic or the shards do not concatenate to the whole")
	}
	// Every modelled value parses as its kind; keys are fresh and unique.
	// Age is never missing in the data, but whether it is missing is itself
	// measured with noise: the missing bin's noisy count can come out above
	// zero, so a few missing ages are the mechanism working, not a fault.
	seen := map[string]bool{}
	missingAge := 0
	for _, row := range whole.Rows {
		if seen[row[0]] {
			t.Fatalf("duplicate key %q", row[0])
		}
		seen[row[0]] = true
		if row[1] == "" {
			missingAge++
		} else if _, ok := profile.ParseNumber(row[1]); !ok {
			t.Fatalf("age %q", row[1])
		}
		if _, ok := profile.ParseTime(row[4], p.Columns[4].Format); !ok && row[4] != "" {
			t.Fatalf("joined %q (format %q)", row[4], p.Columns[4].Format)
		}
		if !strings.Contains(row[5], "@") {
			t.Fatalf("email %q", row[5])
		}
	}
	if share := float64(missingAge) / float64(len(whole.Rows)); share > 0.02 {
		t.Errorf("%.1f%% of ages missing; the data has none and the noise at eps 4 should add at most a trace", 100*share)
	}
	// The member/age relation (member iff age >= 40) survives at eps 4.
	agree := 0
	for _, row := range whole.Rows {
		a, _ := strconv.Atoi(row[1])
		if (a >= 40) == (row[3] == "yes") {
			agree++
		}
	}
	if frac := float64(agree) / float64(len(whole.Rows)); frac < 0.8 {
		t.Errorf("age/member agreement %.3f < 0.8; tree %v", frac, r.Tree)
	}
	// Save and Load round trip to the same sample.
	var buf bytes.Buffer
	if err := Save(&buf, m); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !equalRows(sample(t, m2, 9000, 7).Rows, whole.Rows) {
		t.Error("loaded model samples differently")
	}
	if _, err := Load(strings.NewReader("garbage")); !errors.Is(err, ErrFormat) {
		t.Errorf("Load garbage: %v", err)
	}
	if _, err := Load(bytes.NewReader(bytes.Replace(buf.Bytes(), []byte(`"Order":[`), []byte(`"Order":[99,`), 1))); !errors.Is(err, ErrFormat) {
		t.Errorf("Load corrupt order: %v", err)
	}
}

func equalRows(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x1f") != strings.Join(b[i], "\x1f") {
			return false
		}
	}
	return true
}

func TestSampleFixed(t *testing.T) {
	t.Parallel()
	tb, p := tiny(t, 3000)
	m, err := Fit(context.Background(), tb, p, Options{Epsilon: 4})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		fixed map[string]string
		err   error
	}{
		{name: "member", fixed: map[string]string{"member": "no"}},
		{name: "color", fixed: map[string]string{"color": "blue", "member": "yes"}},
		{name: "unknown column", fixed: map[string]string{"nope": "x"}, err: synth.ErrInvalid},
		{name: "generated column", fixed: map[string]string{"email": "x"}, err: synth.ErrInvalid},
		{name: "unreleased category", fixed: map[string]string{"color": "purple"}, err: synth.ErrImpossible},
	}
	for _, c := range cases {
		var out collect
		err := m.Sample(context.Background(), 2000, 0, 1, 3, synth.SampleOptions{Fixed: c.fixed}, &out)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: %v, want %v", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		young := 0
		for _, row := range out.rows {
			for k, v := range c.fixed {
				if row[tb.Col(k)] != v {
					t.Fatalf("%s: row %v breaks %s=%s", c.name, row, k, v)
				}
			}
			if a, _ := strconv.Atoi(row[1]); a < 40 {
				young++
			}
		}
		// Conditioning reaches through the tree: members are mostly 40+,
		// non-members mostly younger.
		frac := float64(young) / float64(len(out.rows))
		if c.fixed["member"] == "no" && frac < 0.7 || c.fixed["member"] == "yes" && frac > 0.3 {
			t.Errorf("%s: share under 40 is %.3f", c.name, frac)
		}
	}
	// Accept rejecting everything fails with ErrRejected.
	err = m.Sample(context.Background(), 10, 0, 1, 3, synth.SampleOptions{Accept: func([]string) bool { return false }, MaxTriesPerRow: 5}, &collect{})
	if !errors.Is(err, synth.ErrRejected) {
		t.Errorf("Accept rejecting all: %v", err)
	}
}

func TestFitInvalid(t *testing.T) {
	t.Parallel()
	tb, p := tiny(t, 50)
	other := &table.Table{Columns: []string{"x"}, Rows: [][]string{{"1"}}}
	cases := []struct {
		name string
		t    *table.Table
		p    *profile.Profile
		opts Options
	}{
		{"nil table", nil, p, Options{Epsilon: 1}},
		{"empty table", &table.Table{Columns: tb.Columns}, p, Options{Epsilon: 1}},
		{"profile mismatch", other, p, Options{Epsilon: 1}},
		{"no budget", tb, p, Options{}},
		{"both budgets", tb, p, Options{Epsilon: 1, Rho: 0.1}},
		{"bad delta", tb, p, Options{Epsilon: 1, Delta: 1}},
		{"bad bins", tb, p, Options{Epsilon: 1, MaxBins: 1}},
		{"levels on numeric", tb, p, Options{Epsilon: 1, Levels: map[string][]string{"age": {"1"}}}},
		{"ragged row", &table.Table{Columns: tb.Columns, Rows: [][]string{{"1"}}}, p, Options{Epsilon: 1}},
	}
	for _, c := range cases {
		if _, err := Fit(context.Background(), c.t, c.p, c.opts); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", c.name, err)
		}
	}
}

// TestNeighbouringCount checks the guarantee end to end on a tiny table: for
// a dataset D and D' = D plus one row, the fitted model's share of "yes"
// crosses a threshold with probabilities p and p' such that p <= e^eps p' +
// delta and p' <= e^eps p + delta, within sampling error.
func TestNeighbouringCount(t *testing.T) {
	t.Parallel()
	col := []profile.Column{{Name: "member", Kind: profile.Boolean, TrueToken: "yes", FalseToken: "no"}}
	prof := &profile.Profile{Columns: col}
	d := &table.Table{Columns: []string{"member"}}
	for _, v := range []string{"yes", "yes", "no", "yes", "no", "no", "yes", "no"} {
		d.Rows = append(d.Rows, []string{v})
	}
	d2 := &table.Table{Columns: d.Columns, Rows: append(append([][]string(nil), d.Rows...), []string{"yes"})}
	const trials = 3000
	shares := func(tb *table.Table) ([]float64, Report) {
		out := make([]float64, trials)
		var rep Report
		for i := range out {
			// Rho 0.045: one third (0.015) is spent on the one 1-way marginal.
			m, err := Fit(context.Background(), tb, prof, Options{Rho: 0.045})
			if err != nil {
				t.Fatal(err)
			}
			rep = m.Report
			yes := 0.0
			for k, g := range m.Attrs[0].Groups {
				for _, fb := range g {
					if fb == 1 {
						yes += m.Marginal[0][k] / float64(len(g))
					}
				}
			}
			tot := 0.0
			for _, v := range m.Marginal[0] {
				tot += v
			}
			out[i] = yes / tot
		}
		return out, rep
	}
	a, rep := shares(d)
	b, _ := shares(d2)
	eps, delta := rep.Epsilon, rep.Delta
	if !(eps > 0.5 && eps < 1.5) {
		t.Fatalf("report eps %v for rho %v", eps, rep.Rho)
	}
	bound := math.Exp(eps)
	for _, thr := range []float64{0.3, 0.45, 0.5, 0.55, 0.7} {
		p, q := 0.0, 0.0
		for i := range trials {
			if a[i] >= thr {
				p++
			}
			if b[i] >= thr {
				q++
			}
		}
		p, q = p/trials, q/trials
		// Five standard errors of each estimate, scaled by the bound.
		tol := 5 * (math.Sqrt(p*(1-p)/trials) + bound*math.Sqrt(q*(1-q)/trials) + 1.0/trials)
		if p > bound*q+delta+tol || q > bound*p+delta+tol {
			t.Errorf("threshold %.2f: P_D %.4f, P_D' %.4f break e^%.3f bound (tolerance %.4f)", thr, p, q, eps, tol)
		}
	}
}

func BenchmarkMSTFitAdult(b *testing.B) {
	train := loadTable(b, "adult.train.csv")
	p := inferProfile(b, train)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Fit(context.Background(), train, p, Options{Epsilon: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write([]string) error { return nil }

func BenchmarkMSTSample(b *testing.B) {
	train := loadTable(b, "adult.train.csv")
	p := inferProfile(b, train)
	m, err := Fit(context.Background(), train, p, Options{Epsilon: 1})
	if err != nil {
		b.Fatal(err)
	}
	n := int64(len(train.Rows))
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Sample(context.Background(), n, 0, 1, 1, synth.SampleOptions{}, discard{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOtherWrittenAsReleased: a categorical column with released categories
// writes only them — a row the model puts in Other gets one drawn from the
// column's marginal, so the released proportions hold — and a column none
// of whose categories passes the threshold writes the other label.
func TestOtherWrittenAsReleased(t *testing.T) {
	t.Parallel()
	// c: a on 1800 rows, b on 900, and 30 rare values on 10 rows each
	// (far below any release threshold); z: a distinct value per row.
	tb := &table.Table{Columns: []string{"c", "z", "n"}}
	for i := range 3000 {
		c := "a"
		switch {
		case i >= 2700:
			c = "r" + strconv.Itoa(i%30)
		case i%3 == 2:
			c = "b"
		}
		tb.Rows = append(tb.Rows, []string{c, "z" + strconv.Itoa(i), strconv.Itoa(i % 40)})
	}
	p := inferProfile(t, tb)
	for j := range p.Columns[:2] {
		p.Columns[j].Kind = profile.Categorical
	}
	m, err := Fit(context.Background(), tb, p, Options{Epsilon: 1})
	if err != nil {
		t.Fatal(err)
	}
	syn := sample(t, m, 6000, 3)
	count := map[string]int{}
	for _, r := range syn.Rows {
		count[r[0]]++
		if r[1] != DefaultOtherLabel {
			t.Fatalf("z: %q written, want %q (no category of z can be released)", r[1], DefaultOtherLabel)
		}
	}
	if count["a"]+count["b"] != len(syn.Rows) {
		t.Fatalf("c: wrote %v, want only the released a and b", count)
	}
	// The real share of a among a and b is 2/3; the noise of a fit at
	// epsilon 1 on 3,000 rows moves it by about 0.01, sampling 6,000 rows
	// by 0.006.
	if share := float64(count["a"]) / float64(len(syn.Rows)); math.Abs(share-2.0/3) > 0.05 {
		t.Errorf("c: share of a %.3f, want 2/3 ± 0.05", share)
	}
}

// TestPairRoundsStop: the rounds of pairs end at the first measured pair
// that shows no more than its noise, and their unspent budget measures the
// 1-way marginals again, so the fit spends its whole budget either way. On
// independent columns of a small table no pair is kept; a column that
// copies another on a large one keeps its pair.
func TestPairRoundsStop(t *testing.T) {
	t.Parallel()
	build := func(n int, copyCol bool) (*table.Table, *profile.Profile) {
		tb := &table.Table{Columns: []string{"a", "b", "c"}}
		for i := range n {
			// Three columns of different periods, independent of one
			// another (up to the last, incomplete period).
			a := strconv.Itoa(i % 4)
			b := strconv.Itoa((i / 4) % 5)
			c := []string{"x", "y", "z"}[(i/20)%3]
			if copyCol {
				b = a
			}
			tb.Rows = append(tb.Rows, []string{a, b, c})
		}
		return tb, inferProfile(t, tb)
	}
	tests := []struct {
		name     string
		n        int
		copyCol  bool
		eps      float64
		wantKept bool
	}{
		{"independent, small", 600, false, 1, false},
		{"b copies a, large", 20000, true, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, p := build(tt.n, tt.copyCol)
			m, err := Fit(context.Background(), tb, p, Options{Epsilon: tt.eps, SchemaBounds: true, Levels: map[string][]string{"c": {"x", "y", "z"}}})
			if err != nil {
				t.Fatal(err)
			}
			budget, err := Rho(tt.eps, 1e-9)
			if err != nil {
				t.Fatal(err)
			}
			// The discrete Gaussian's variance is rounded up a little, so
			// a step spends a hair under its share.
			if m.Report.Rho > budget*(1+1e-9) || m.Report.Rho < budget*(1-1e-4) {
				t.Errorf("spent rho %v of %v: %+v", m.Report.Rho, budget, m.Report.Steps)
			}
			kept := len(m.Report.Tree) > 0
			if kept != tt.wantKept {
				t.Errorf("tree %v, want a pair kept: %v", m.Report.Tree, tt.wantKept)
			}
			if tt.copyCol {
				agree := 0
				syn := sample(t, m, 2000, 1)
				for _, r := range syn.Rows {
					if r[0] == r[1] {
						agree++
					}
				}
				if agree < 1900 {
					t.Errorf("a = b in %d of 2000 sampled rows", agree)
				}
			}
		})
	}
}
