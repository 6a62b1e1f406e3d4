package dp

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"

	"synthos.dev/synthos/shared/quality"
)

// TestFidelityAdult fits at epsilon 1, delta 1e-9 on adult.train and scores
// a sample of the training size against the holdout with shared/quality.
func TestFidelityAdult(t *testing.T) {
	if testing.Short() {
		t.Skip("fits adult")
	}
	train := loadTable(t, "adult.train.csv")
	holdout := loadTable(t, "adult.holdout.csv")
	p := inferProfile(t, train)
	// The noise is drawn from crypto/rand and cannot be seeded, so one fit's
	// score is a random variable (observed 0.923–0.939 for pair trends over
	// 14 fits). The test holds the mean of three independent fits to the
	// targets: the mean's spread is a third of a single fit's, so a correct
	// mechanism passes reliably and a broken one still fails.
	const fits = 3
	var biv, cpt float64
	for i := range fits {
		m, err := Fit(context.Background(), train, p, Options{Epsilon: 1, Delta: 1e-9})
		if err != nil {
			t.Fatal(err)
		}
		syn := sample(t, m, int64(len(train.Rows)), uint64(i+1))
		rep, err := quality.Evaluate(context.Background(), holdout, syn, nil, p, quality.Options{Triples: -1, DiscriminatorRows: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("fit %d: eps %.4f delta %.3g rho %.6f; bivariate accuracy %.4f, column pair trends %.4f, column shapes %.4f",
			i, m.Report.Epsilon, m.Report.Delta, m.Report.Rho, rep.Accuracy.Bivariate, rep.ColumnPairTrends, rep.ColumnShapes)
		for _, pr := range rep.Pairs {
			if pr.Trend < 0.9 || pr.Accuracy < 0.9 {
				t.Logf("  pair %s × %s: %s trend %.3f accuracy %.3f", pr.A, pr.B, pr.Metric, pr.Trend, pr.Accuracy)
			}
		}
		biv += rep.Accuracy.Bivariate / fits
		cpt += rep.ColumnPairTrends / fits
	}
	if biv < 0.93 {
		t.Errorf("mean bivariate accuracy %.4f < 0.93", biv)
	}
	if cpt < 0.92 {
		t.Errorf("mean column pair trends %.4f < 0.92", cpt)
	}
}

// TestFidelitySmallTables holds the small tables of issue 11 to floors at
// epsilon 1, delta 1e-9: the mean of three fits' column shapes and pair
// trends against the holdout, with the domain declared public (the figures
// private-pgm's MST reaches: credit 0.879 / 0.788, insurance 0.922 / 0.839)
// and discovered under DP. The floors sit about three standard deviations
// of a three-fit mean below what the model measures (README's table), so a
// correct fit passes and a regression in binning, domain or estimation
// fails (credit discovered, with the categories released in two rounds:
// 60 three-fit means gave shapes 0.852, sd 0.007, trends 0.751, sd 0.011;
// one round gave 0.831 / 0.712).
func TestFidelitySmallTables(t *testing.T) {
	tests := []struct {
		table, mode    string
		shapes, trends float64
	}{
		{"credit", "public", 0.88, 0.80},
		{"insurance", "public", 0.90, 0.83},
		{"credit", "discovered", 0.825, 0.715},
		{"insurance", "discovered", 0.88, 0.81},
	}
	for _, tt := range tests {
		t.Run(tt.table+"/"+tt.mode, func(t *testing.T) {
			u := measureUtility(t, tt.table, tt.mode, 1, 3)
			t.Logf("shapes %.3f trends %.3f bivariate %.3f", u.shapes, u.trends, u.bivariate)
			if u.shapes < tt.shapes {
				t.Errorf("mean column shapes %.3f < %.2f", u.shapes, tt.shapes)
			}
			if u.trends < tt.trends {
				t.Errorf("mean column pair trends %.3f < %.2f", u.trends, tt.trends)
			}
		})
	}
}

// TestSampleKeepsTheSourceDomain: a sample invents no missing cell in a
// column without any, writes integer columns as integers, writes only
// categories the data holds (public domain) or released ones and the other
// label (discovered), and keeps numbers inside the declared bounds or, when
// discovered, near the data's.
func TestSampleKeepsTheSourceDomain(t *testing.T) {
	train := loadTable(t, "credit.train.csv")
	p := inferProfile(t, train)
	for _, mode := range []string{"public", "discovered"} {
		t.Run(mode, func(t *testing.T) {
			fp := p
			if mode == "public" {
				fp = publicDomain(t, p, loadTable(t, "credit.csv"))
			}
			m, err := Fit(context.Background(), train, fp, Options{Epsilon: 1})
			if err != nil {
				t.Fatal(err)
			}
			syn := sample(t, m, 5000, 7)
			for j, c := range fp.Columns {
				seen := map[string]bool{}
				for _, r := range train.Rows {
					seen[r[j]] = true
				}
				for _, r := range syn.Rows {
					cell := r[j]
					if profile.IsMissing(cell, &c) && len(c.MissingTokens) == 0 || cell == "" {
						t.Fatalf("%s: blank cell in a column without missing values", c.Name)
					}
					switch c.Kind {
					case profile.Numeric:
						v, err := strconv.ParseFloat(cell, 64)
						if err != nil {
							t.Fatalf("%s: %q is not a number", c.Name, cell)
						}
						if c.Integer && v != math.Trunc(v) || c.Integer && strings.Contains(cell, ".") {
							t.Fatalf("%s: %q in an integer column", c.Name, cell)
						}
						if mode == "public" && (v < c.Min || v > c.Max) {
							t.Fatalf("%s: %v outside the public bounds [%v, %v]", c.Name, v, c.Min, c.Max)
						}
					case profile.Categorical:
						// The Other label only for a column none of whose
						// categories was released.
						released := len(m.Attrs[m.Cols[j].Attr].Levels) > 0
						if !seen[cell] && (mode == "public" || cell != DefaultOtherLabel || released) {
							t.Fatalf("%s: %q is not a category of the data", c.Name, cell)
						}
					}
				}
			}
			// default holds 1 and 2 only: its discovered range may be
			// [1, 4], and the trimmed bins must not be drawn. About one
			// fit in sixty keeps a noise-only end bin (its noisy count
			// passes 2 sigma), so the bound is on three fits together;
			// TestCompressRangeTrims checks the rule exactly.
			if mode == "discovered" {
				j := slices.Index(train.Columns, "default")
				other := 0
				for k := range 3 {
					if k > 0 {
						if m, err = Fit(context.Background(), train, fp, Options{Epsilon: 1}); err != nil {
							t.Fatal(err)
						}
						syn = sample(t, m, 5000, 7)
					}
					for _, r := range syn.Rows {
						if r[j] != "1" && r[j] != "2" {
							other++
						}
					}
				}
				if other > 15000/10 {
					t.Errorf("default: %d of 15000 sampled values in three fits are neither 1 nor 2", other)
				}
			}
		})
	}
}

// TestDatetimeRangeFollowsTheData: a table spanning one month gets a
// sample inside that month, not the decades a power-of-two grid of Unix
// seconds spans (2004–2038 for 2024).
func TestDatetimeRangeFollowsTheData(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tb := &table.Table{Columns: []string{"ts", "kind"}}
	start := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for range 2000 {
		ts := start.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
		tb.Rows = append(tb.Rows, []string{ts.Format(time.DateTime), []string{"a", "b", "c"}[rng.IntN(3)]})
	}
	p := inferProfile(t, tb)
	if p.Columns[0].Kind != profile.Datetime {
		t.Fatalf("ts inferred as %s", p.Columns[0].Kind)
	}
	m, err := Fit(context.Background(), tb, p, Options{Epsilon: 1})
	if err != nil {
		t.Fatal(err)
	}
	syn := sample(t, m, 2000, 1)
	// The range is found under DP, so a neighbouring year can join it
	// (noise passing yearThreshold: about one fit in a few hundred); the
	// 1-way step then leaves it few rows. Rows outside the year must stay
	// rare, not impossible.
	in, outside := 0, 0
	for _, r := range syn.Rows {
		ts, err := time.Parse(time.DateTime, r[0])
		if err != nil {
			t.Fatal(err)
		}
		if ts.Year() != 2024 {
			outside++
		}
		if ts.Month() == time.June {
			in++
		}
	}
	if outside > len(syn.Rows)/100 {
		t.Errorf("%d of %d sampled times outside 2024, the year the data spans", outside, len(syn.Rows))
	}
	// Noise-level mass in the trimmed year's other bins is a few percent.
	if in < len(syn.Rows)*85/100 {
		t.Errorf("%d of %d sampled times in June 2024", in, len(syn.Rows))
	}
}

// TestSchemaDeclaresDomainPublic: a schema's categories and min/max reach
// the fit through the profile: no budget is spent on those columns, the
// report lists them as public, and the sample stays inside them.
func TestSchemaDeclaresDomainPublic(t *testing.T) {
	train := loadTable(t, "insurance.train.csv")
	p := inferProfile(t, train)
	s, err := profile.ParseSchema([]byte(`{"columns": {
		"region": {"categories": ["northeast", "northwest", "southeast", "southwest", "antarctica"]},
		"age": {"min": 18, "max": 64}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(p); err != nil {
		t.Fatal(err)
	}
	m, err := Fit(context.Background(), train, p, Options{Epsilon: 1})
	if err != nil {
		t.Fatal(err)
	}
	pub := strings.Join(m.Report.Public, "; ")
	if !strings.Contains(pub, "declared for age") || !strings.Contains(pub, "declared for region") {
		t.Errorf("report's public inputs %q do not name age and region", pub)
	}
	for _, st := range m.Report.Steps {
		// sex is the one categorical column left to discover; bmi and
		// charges, children the numeric ones.
		if st.Name == "domain: categories" && st.Count != 1 || st.Name == "domain: bounds" && st.Count != 3 {
			t.Errorf("step %s measured %d columns", st.Name, st.Count)
		}
	}
	syn := sample(t, m, 3000, 3)
	ja, jr := slices.Index(syn.Columns, "age"), slices.Index(syn.Columns, "region")
	for _, r := range syn.Rows {
		age, err := strconv.Atoi(r[ja])
		if err != nil || age < 18 || age > 64 {
			t.Fatalf("age %q outside the declared [18, 64]", r[ja])
		}
		if !slices.Contains([]string{"northeast", "northwest", "southeast", "southwest", "antarctica"}, r[jr]) {
			t.Fatalf("region %q is not a declared category", r[jr])
		}
	}
}

// TestWarnsWhenTheDomainIsLost: at a budget too small to discover
// anything on 800 rows the report says which columns to declare; with the
// domain declared it has nothing to say.
func TestWarnsWhenTheDomainIsLost(t *testing.T) {
	train := loadTable(t, "credit.train.csv")
	p := inferProfile(t, train)
	m, err := Fit(context.Background(), train, p, Options{Epsilon: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Report.Warnings) == 0 {
		t.Error("no warning at epsilon 0.05 on 800 rows")
	}
	m, err = Fit(context.Background(), train, publicDomain(t, p, loadTable(t, "credit.csv")), Options{Epsilon: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Report.Warnings) != 0 {
		t.Errorf("warnings with the domain declared: %q", m.Report.Warnings)
	}
}

// TestCompressRangeTrims checks the 1-way step's trim and merge on fixed
// noisy counts: end bins that look empty are not drawn and count with the
// nearest kept bin; large bins keep a group each; rare runs merge.
func TestCompressRangeTrims(t *testing.T) {
	perValue := Attr{Kind: profile.Numeric, Integer: true, NoMissing: true}
	perValue.setBins(1, 4, 8) // one bin per value 1..4
	interval := Attr{Kind: profile.Numeric, NoMissing: true}
	interval.setBins(1, 9, 8) // eight intervals
	tests := []struct {
		name   string
		a      Attr
		counts []int64
		trim   bool
		groups [][]int
		back   []int32
	}{
		{"a 1/2 column on [1, 4]", perValue, []int64{553, 247, 60, -20}, true, [][]int{{0}, {1}}, []int32{0, 1, 1, 1}},
		{"public bounds are not trimmed", perValue, []int64{553, 247, 60, -20}, false, [][]int{{0}, {1}, {2, 3}}, []int32{0, 1, 2, 2}},
		{"a value under 2 sigma at the end goes", perValue, []int64{100, 400, 300, 500}, true, [][]int{{1}, {2}, {3}}, []int32{0, 0, 1, 2}},
		// sigma 72, 3 sigma 216: the last two bins (70 together) look
		// like nothing; 50 more would not, so the tail from bin 5 stays,
		// and the rare bins 3 and 4 merge into one group.
		{"intervals keep a thin real tail", interval, []int64{-10, 400, 300, 200, 60, 50, 40, 30}, true,
			[][]int{{1}, {2}, {3, 4}, {5}}, []int32{0, 0, 1, 2, 2, 3, 3, 3}},
		{"intervals cut what sums to nothing", interval, []int64{-10, 400, 300, 200, 60, 20, -30, 10}, true,
			[][]int{{1}, {2}, {3}}, []int32{0, 0, 1, 2, 2, 2, 2, 2}},
		{"intervals cut empty ends", interval, []int64{5, -40, 400, 300, 200, 30, -20, 10}, true,
			[][]int{{2}, {3}, {4}}, []int32{0, 0, 0, 1, 2, 2, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.a
			a.Groups = nil
			m, back := compressRange(&a, tt.counts, 72*72, tt.trim)
			if !reflect.DeepEqual(a.Groups, tt.groups) {
				t.Errorf("groups %v, want %v", a.Groups, tt.groups)
			}
			if !reflect.DeepEqual(back, tt.back) {
				t.Errorf("back %v, want %v", back, tt.back)
			}
			if len(m.Y) != len(a.Groups) {
				t.Errorf("%d measurements for %d groups", len(m.Y), len(a.Groups))
			}
		})
	}
}
