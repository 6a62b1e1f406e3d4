package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// oneNumber is the profile of a table with a single numeric column x.
func oneNumber() *profile.Profile {
	return &profile.Profile{Version: 1, Columns: []profile.Column{{Name: "x", Kind: profile.Numeric}}}
}

func column(name string, vals ...string) *table.Table {
	t := &table.Table{Columns: []string{name}}
	for _, v := range vals {
		t.Rows = append(t.Rows, []string{v})
	}
	return t
}

// all is Options that query every row, so small results are exact.
var all = Options{MaxQueries: -1}

// TestDCRHandComputed checks the DCR shares, DCR and NNDR on one numeric
// column with range 8, where every distance is a multiple of 1/16 and ties
// are exact.
func TestDCRHandComputed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		train, holdout       []string
		synth                []string
		raw, adjusted, equal float64
		ties                 int
		median, p5           float64
		nndrMedian           float64
	}{
		{
			// 0 sits on train, 1 on holdout, 2.5 ties (2 vs 3), 6 is 2 from
			// train (4, 8) and 1 from holdout (5, 7).
			name:  "equal sizes",
			train: []string{"0", "2", "4", "8"}, holdout: []string{"1", "3", "5", "7"},
			synth: []string{"0", "1", "2.5", "6"},
			raw:   0.375, adjusted: 0.375, equal: 0.375, ties: 1,
			// d1 = 0, 1/8, 1/16, 2/8; median of sorted (0, 1/16, 1/8, 1/4)
			median: (1.0/16 + 1.0/8) / 2, p5: 0.15 * 1.0 / 16,
			// ratios 0, 1 (0 and 2 both 1 away), 1/3, 1 (4 and 8)
			nndrMedian: (1.0/3 + 1) / 2,
		},
		{
			// Train has 5 rows, holdout 3: a share of 5/8 is what unseen
			// records give, and adjusts to 0.5.
			name:  "unequal sizes",
			train: []string{"0", "2", "4", "6", "8"}, holdout: []string{"1", "3", "5"},
			synth: []string{"0", "1", "2.5", "7"},
			raw:   0.625, adjusted: 0.5, equal: -1,
			// d1 = 0, 1/8, 1/16, 1/8
			median: (1.0/16 + 1.0/8) / 2, p5: 0.15 * 1.0 / 16,
			// 0: 0/(2/8); 1: 1/8 vs 1/8; 2.5: (1/16)/(3/16); 7: 1/8 vs 1/8
			nndrMedian: (1.0/3 + 1) / 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Evaluate(context.Background(), column("x", tt.train...), column("x", tt.holdout...),
				column("x", tt.synth...), oneNumber(), all)
			if err != nil {
				t.Fatal(err)
			}
			d := r.DCR
			if !near(d.RawShare, tt.raw) || !near(d.CloserToTrainShare, tt.adjusted) {
				t.Errorf("raw share %v, adjusted %v; want %v, %v", d.RawShare, d.CloserToTrainShare, tt.raw, tt.adjusted)
			}
			if tt.equal >= 0 && (!near(d.EqualSizeShare, tt.equal) || d.Ties != tt.ties) {
				t.Errorf("equal-size share %v with %d ties, want %v with %d", d.EqualSizeShare, d.Ties, tt.equal, tt.ties)
			}
			if !near(d.SyntheticMedian, tt.median) || !near(d.SyntheticP5, tt.p5) {
				t.Errorf("DCR median %v, p5 %v; want %v, %v", d.SyntheticMedian, d.SyntheticP5, tt.median, tt.p5)
			}
			if !near(r.NNDR.SyntheticMedian, tt.nndrMedian) {
				t.Errorf("NNDR median %v, want %v", r.NNDR.SyntheticMedian, tt.nndrMedian)
			}
		})
	}
}

// TestAdjustShare checks the size correction at its fixed points.
func TestAdjustShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p      float64
		nt, nh int
		want   float64
	}{
		{0.8, 4, 1, 0.5}, {1, 4, 1, 1}, {0, 4, 1, 0}, {0.5, 3, 3, 0.5}, {0.75, 3, 3, 0.75},
	}
	for _, tt := range tests {
		if got := adjustShare(tt.p, tt.nt, tt.nh); !near(got, tt.want) {
			t.Errorf("adjustShare(%v, %d, %d) = %v, want %v", tt.p, tt.nt, tt.nh, got, tt.want)
		}
	}
}

// TestIdentical counts exact copies, duplicates and all.
func TestIdentical(t *testing.T) {
	t.Parallel()
	p := &profile.Profile{Version: 1, Columns: []profile.Column{{Name: "c", Kind: profile.Categorical}}}
	r, err := Evaluate(context.Background(), column("c", "a", "b", "b", "c"), column("c", "b", "d"),
		column("c", "a", "a", "e"), p, all)
	if err != nil {
		t.Fatal(err)
	}
	want := Identical{SyntheticMatches: 2, SyntheticShare: 2.0 / 3, HoldoutMatches: 1, HoldoutShare: 0.5}
	if r.Identical != want {
		t.Errorf("got %+v, want %+v", r.Identical, want)
	}
}

// TestAttackScores checks the AUC and advantage of the membership attack on
// hand-counted cases.
func TestAttackScores(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		members, others []float32
		auc, adv        float64
	}{
		// Pairs won: 0<1, 0<3, 1=1 (half), 1<3, 2<3 → 4.5 of 6. Best
		// threshold 2: TPR 1, FPR 1/2.
		{"mixed", []float32{0, 1, 2}, []float32{1, 3}, 0.75, 0.5},
		{"separated", []float32{0, 0}, []float32{1, 2}, 1, 1},
		{"inverted", []float32{5, 6}, []float32{1, 2}, 0, 0},
		{"all equal", []float32{1, 1}, []float32{1, 1, 1}, 0.5, 0},
		{"empty", nil, []float32{1}, 0.5, 0},
	}
	for _, tt := range tests {
		auc, adv := attackScores(tt.members, tt.others)
		if !near(auc, tt.auc) || !near(adv, tt.adv) {
			t.Errorf("%s: AUC %v, advantage %v; want %v, %v", tt.name, auc, adv, tt.auc, tt.adv)
		}
	}
}

// TestMembershipCopies checks the attack end to end: a synthetic table that
// copies the training rows gives every member distance 0.
func TestMembershipCopies(t *testing.T) {
	t.Parallel()
	train := column("x", "0", "2", "4", "6")
	r, err := Evaluate(context.Background(), train, column("x", "1", "3", "5", "7"), train, oneNumber(), all)
	if err != nil {
		t.Fatal(err)
	}
	want := Membership{Members: 4, NonMembers: 4, AUC: 1, Advantage: 1}
	if r.Membership != want {
		t.Errorf("got %+v, want %+v", r.Membership, want)
	}
}

// TestAttributeInference checks attribute inference on a hand-computed
// case: the attacker knows q and guesses s (the most common synthetic value
// for that q) and n (the median; range 8, so 5% tolerance is 0.4).
func TestAttributeInference(t *testing.T) {
	t.Parallel()
	p := &profile.Profile{Version: 1, Columns: []profile.Column{
		{Name: "q", Kind: profile.Categorical},
		{Name: "s", Kind: profile.Categorical},
		{Name: "n", Kind: profile.Numeric},
	}}
	train := tbl("q,s,n", "a,x,4", "b,y,8", "c,z,0")
	holdout := tbl("q,s,n", "a,y,5", "b,x,0", "c,x,1")
	// Guesses: q=a → s=x (2 of 3), n=4 (median of 0, 4, 8); q=b → y, 8.
	// q=c is at distance 1 from both groups; the tie goes to the first, a.
	synth := tbl("q,s,n", "a,x,0", "a,x,4", "a,y,8", "b,y,8")
	tests := []struct {
		name string
		tol  float64
		want []AttributeRisk
	}{
		{"default tolerance", 0, []AttributeRisk{
			{Column: "s", TrainAccuracy: 2.0 / 3, HoldoutAccuracy: 1.0 / 3, Risk: 1.0 / 3},
			{Column: "n", TrainAccuracy: 2.0 / 3, HoldoutAccuracy: 0, Risk: 2.0 / 3},
		}},
		// 5 vs a guess of 4 is 1/8 away: right within 0.2.
		{"wide tolerance", 0.2, []AttributeRisk{
			{Column: "s", TrainAccuracy: 2.0 / 3, HoldoutAccuracy: 1.0 / 3, Risk: 1.0 / 3},
			{Column: "n", TrainAccuracy: 2.0 / 3, HoldoutAccuracy: 1.0 / 3, Risk: 1.0 / 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := Options{MaxQueries: -1, Sensitive: []string{"s", "n"}, Quasi: []string{"q"}, NumericTolerance: tt.tol}
			r, err := Evaluate(context.Background(), train, holdout, synth, p, opts)
			if err != nil {
				t.Fatal(err)
			}
			ai := r.AttributeInference
			if ai == nil || ai.Records != 3 || len(ai.Columns) != len(tt.want) {
				t.Fatalf("got %+v", ai)
			}
			for k, w := range tt.want {
				g := ai.Columns[k]
				if g.Column != w.Column || !near(g.TrainAccuracy, w.TrainAccuracy) ||
					!near(g.HoldoutAccuracy, w.HoldoutAccuracy) || !near(g.Risk, w.Risk) {
					t.Errorf("column %d: got %+v, want %+v", k, g, w)
				}
			}
		})
	}
}

// TestPIILeakage checks that real identifiers found in the output are
// counted per column and located, and that the report never holds them.
func TestPIILeakage(t *testing.T) {
	t.Parallel()
	p := &profile.Profile{Version: 1, Columns: []profile.Column{
		{Name: "email", Kind: profile.PII, PII: profile.Email},
		{Name: "id", Kind: profile.ID},
		{Name: "notes", Kind: profile.Text},
		{Name: "x", Kind: profile.Numeric},
	}}
	train := tbl("email,id,notes,x", "a@x.com,1,hello,1", "b@x.com,2,,2")
	holdout := tbl("email,id,notes,x", "c@x.com,3,,1")
	synth := tbl("email,id,notes,x",
		"a@x.com,2,b@x.com,2", // two emails and an id leak
		"c@x.com,9,1,1",       // c was never trained on; "1" is in notes, not id
		" a@x.com ,10,,1",     // trimmed
	)
	r, err := Evaluate(context.Background(), train, holdout, synth, p, all)
	if err != nil {
		t.Fatal(err)
	}
	got := r.PII
	if got.LeakedCells != 5 || len(got.Columns) != 2 {
		t.Fatalf("got %+v, want 5 leaked cells in 2 columns", got)
	}
	email, id := got.Columns[0], got.Columns[1]
	if email.Column != "email" || email.LeakedCells != 3 || email.LeakedValues != 2 || email.HoldoutOnlyValues != 1 ||
		strings.Join(email.FoundIn, ",") != "email,notes" {
		t.Errorf("email: %+v", email)
	}
	// id "1" appears in notes; "2" in id.
	if id.Column != "id" || id.LeakedCells != 2 || id.LeakedValues != 2 || strings.Join(id.FoundIn, ",") != "id,notes" {
		t.Errorf("id: %+v", id)
	}
	js, _ := json.Marshal(r)
	if strings.Contains(string(js), "@x.com") {
		t.Errorf("report holds an identifier value: %s", js)
	}
}

// TestKAnonymity checks class sizes and unique matches on two
// quasi-identifiers.
func TestKAnonymity(t *testing.T) {
	t.Parallel()
	p := &profile.Profile{Version: 1, Columns: []profile.Column{
		{Name: "q1", Kind: profile.Categorical},
		{Name: "q2", Kind: profile.Numeric},
		{Name: "s", Kind: profile.Categorical},
	}}
	train := tbl("q1,q2,s", "c,2,x", "d,3,x", "d,3,y", "a,1,x")
	synth := tbl("q1,q2,s", "a,1,x", "a,1,x", "a,1,y", "a,1,x", "a,1,x", "b,1,x", "b,1,y", "c,2,x", "d,3,x")
	r, err := Evaluate(context.Background(), train, train, synth, p, Options{MaxQueries: -1, Quasi: []string{"q1", "q2"}})
	if err != nil {
		t.Fatal(err)
	}
	want := KAnonymity{Quasi: []string{"q1", "q2"}, K: 5, Classes: 4, MinClassSize: 1,
		ShareBelowK: 4.0 / 9, Unique: 2, UniqueMatchShare: 0.5}
	got := r.KAnonymity
	if got == nil || strings.Join(got.Quasi, ",") != "q1,q2" || got.K != want.K || got.Classes != want.Classes ||
		got.MinClassSize != want.MinClassSize || !near(got.ShareBelowK, want.ShareBelowK) ||
		got.Unique != want.Unique || !near(got.UniqueMatchShare, want.UniqueMatchShare) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestEvaluateErrors checks that bad input is rejected with the right
// sentinel and a message that names the problem.
func TestEvaluateErrors(t *testing.T) {
	t.Parallel()
	p := oneNumber()
	x := column("x", "1", "2", "3")
	mixed := mixedProfile()
	mt := tbl("num,day,color,flag,id", "1,2024-01-01,red,yes,A", "2,2024-01-02,red,no,B")
	ragged := &table.Table{Columns: []string{"x"}, Rows: [][]string{{"1"}, {"2", "3"}}}
	tests := []struct {
		name                  string
		train, holdout, synth *table.Table
		p                     *profile.Profile
		opts                  Options
		err                   error
		msg                   string
	}{
		{"nil profile", x, x, x, nil, Options{}, ErrInput, "nil profile"},
		{"nil train", nil, x, x, p, Options{}, ErrInput, "nil train table"},
		{"nil synthetic", x, x, nil, p, Options{}, ErrInput, "nil synthetic table"},
		{"one training row", column("x", "1"), x, x, p, Options{}, ErrInput, "train table has 1 rows"},
		{"empty holdout", x, column("x"), x, p, Options{}, ErrInput, "holdout table has 0 rows"},
		{"columns differ", x, column("y", "1"), x, p, Options{}, ErrSchema, "holdout columns"},
		{"profiled column missing", x, x, x, mixed, Options{}, ErrSchema, `profiled column "num"`},
		{"ragged row", x, x, ragged, p, Options{}, ErrSchema, "synthetic table row 2 has 2 cells"},
		{"nothing modelled", x, x, x, &profile.Profile{Columns: []profile.Column{{Name: "x", Kind: profile.ID}}},
			Options{}, ErrInput, "no numeric, datetime, categorical or boolean column"},
		{"unknown sensitive", x, x, x, p, Options{Sensitive: []string{"y"}}, ErrInput, `sensitive column "y"`},
		{"sensitive id", mt, mt, mt, mixed, Options{Sensitive: []string{"id"}}, ErrInput, `sensitive column "id" is not a modelled`},
		{"sensitive twice", mt, mt, mt, mixed, Options{Sensitive: []string{"num", "num"}}, ErrInput, "listed twice"},
		{"sensitive and quasi", mt, mt, mt, mixed, Options{Sensitive: []string{"num"}, Quasi: []string{"num"}},
			ErrInput, "both sensitive and a quasi-identifier"},
		{"all sensitive", x, x, x, p, Options{Sensitive: []string{"x"}}, ErrInput, "no known columns"},
		{"max queries 1", x, x, x, p, Options{MaxQueries: 1}, ErrInput, "MaxQueries 1"},
		{"negative k", x, x, x, p, Options{K: -1}, ErrInput, "K -1"},
		{"tolerance above 1", x, x, x, p, Options{NumericTolerance: 2}, ErrInput, "NumericTolerance 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Evaluate(context.Background(), tt.train, tt.holdout, tt.synth, tt.p, tt.opts)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.msg)
			}
		})
	}
}

// TestEvaluateCancelled checks that a cancelled context aborts the
// evaluation with the context's error.
func TestEvaluateCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x := column("x", "1", "2", "3")
	if _, err := Evaluate(ctx, x, x, x, oneNumber(), Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestEvaluateDeterministic checks that one seed gives one report.
func TestEvaluateDeterministic(t *testing.T) {
	t.Parallel()
	train := column("x", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
	holdout := column("x", "0.5", "1.5", "2.5", "3.5")
	synth := column("x", "0.2", "4.4", "8.8", "9", "3")
	opts := Options{Seed: 3, MaxQueries: 4}
	a, err := Evaluate(context.Background(), train, holdout, synth, oneNumber(), opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Evaluate(context.Background(), train, holdout, synth, oneNumber(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("two runs differ:\n%s\n%s", ja, jb)
	}
	if a.Version != ReportVersion || a.DCR.Queries != 4 || a.Membership.Members != 2 {
		t.Errorf("version %d, queries %d, members %d; want 1, 4, 2", a.Version, a.DCR.Queries, a.Membership.Members)
	}
}
