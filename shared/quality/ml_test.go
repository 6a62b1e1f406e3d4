package quality

import (
	"context"
	"errors"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

func insuranceProfile() *profile.Profile {
	return &profile.Profile{Columns: []profile.Column{
		{Name: "age", Kind: profile.Numeric}, {Name: "sex", Kind: profile.Categorical},
		{Name: "bmi", Kind: profile.Numeric}, {Name: "children", Kind: profile.Numeric},
		{Name: "smoker", Kind: profile.Boolean}, {Name: "region", Kind: profile.Categorical},
		{Name: "charges", Kind: profile.Numeric},
	}}
}

func creditProfile() *profile.Profile {
	p := &profile.Profile{}
	for _, n := range []string{"checking_balance", "months_loan_duration", "credit_history", "purpose", "amount",
		"savings_balance", "employment_length", "installment_rate", "personal_status", "other_debtors",
		"residence_history", "property", "age", "installment_plan", "housing", "existing_credits", "default",
		"dependents", "telephone", "foreign_worker", "job"} {
		k := profile.Categorical
		switch n {
		case "months_loan_duration", "amount", "installment_rate", "residence_history", "age", "existing_credits", "dependents":
			k = profile.Numeric
		}
		p.Columns = append(p.Columns, profile.Column{Name: n, Kind: k})
	}
	return p
}

// halves splits t's rows into two tables.
func halves(t *table.Table) (*table.Table, *table.Table) {
	h := len(t.Rows) / 2
	return &table.Table{Columns: t.Columns, Rows: t.Rows[:h]}, &table.Table{Columns: t.Columns, Rows: t.Rows[h:]}
}

// TestAdultDiscriminator: the holdout is indistinguishable from training
// rows; independently shuffled columns are easy to tell apart.
func TestAdultDiscriminator(t *testing.T) {
	t.Parallel()
	train, hold := loadCSV(t, "adult.train.csv"), loadCSV(t, "adult.holdout.csv")
	p := adultProfile()
	tests := []struct {
		name     string
		synth    *table.Table
		min, max float64
	}{
		{"holdout", hold, 0.4, 0.6},
		{"shuffled columns", shuffledColumns(train, 3), 0.9, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, note, err := discriminate(context.Background(), train, tc.synth, p, Options{Seed: 5})
			if err != nil || note != "" {
				t.Fatalf("discriminate: %v %q", err, note)
			}
			t.Logf("%s: AUC %.4f folds %.4f rows/side %d", tc.name, d.AUC, d.FoldAUC, d.RowsPerSide)
			if d.AUC < tc.min || d.AUC > tc.max || d.Folds != 5 || d.RowsPerSide != min(len(tc.synth.Rows), DefaultDiscriminatorRows) {
				t.Errorf("discriminator %+v, want AUC in [%v, %v]", d, tc.min, tc.max)
			}
		})
	}
}

// TestDiscriminateColumns: the exported discriminator on a subset of the
// columns sees only them (shuffling a column outside the subset is
// invisible, inside it is not), and refuses what it cannot cross-validate.
func TestDiscriminateColumns(t *testing.T) {
	t.Parallel()
	train := loadCSV(t, "adult.train.csv")
	p := adultProfile()
	// shuffled permutes one column's cells, breaking its relation to
	// every other column while keeping its marginal.
	shuffled := func(col string) *table.Table {
		j := train.Col(col)
		out := &table.Table{Columns: train.Columns, Rows: make([][]string, len(train.Rows))}
		n := len(train.Rows)
		for i, r := range train.Rows {
			nr := append([]string(nil), r...)
			nr[j] = train.Rows[(i*7919+13)%n][j]
			out.Rows[i] = nr
		}
		return out
	}
	sub := func(cols ...string) *profile.Profile {
		sp := &profile.Profile{}
		for _, c := range cols {
			sp.Columns = append(sp.Columns, *p.Col(c))
		}
		return sp
	}
	tests := []struct {
		name     string
		synth    *table.Table
		p        *profile.Profile
		opts     Options
		min, max float64
		err      bool
	}{
		{"shuffled outside the subset", shuffled("age"), sub("education", "education-num"), Options{Seed: 1, Folds: 3}, 0.4, 0.6, false},
		{"shuffled inside the subset", shuffled("education-num"), sub("education", "education-num"), Options{Seed: 1, Folds: 3}, 0.9, 1, false},
		{"one fold", train, sub("age"), Options{Folds: 1}, 0, 0, true},
		{"fewer rows than folds", &table.Table{Columns: train.Columns, Rows: train.Rows[:3]}, sub("age"), Options{Folds: 5}, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := Discriminate(context.Background(), train, tc.synth, tc.p, tc.opts)
			if tc.err {
				if !errors.Is(err, ErrInput) {
					t.Fatalf("Discriminate = %+v, %v; want ErrInput", d, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("AUC %.4f", d.AUC)
			if d.AUC < tc.min || d.AUC > tc.max || d.Folds != tc.opts.Folds {
				t.Errorf("discriminator %+v, want AUC in [%v, %v]", d, tc.min, tc.max)
			}
		})
	}
}

// TestAdultEfficacy: half of the training rows are as useful as the other
// half; shuffled columns carry no signal about income.
func TestAdultEfficacy(t *testing.T) {
	t.Parallel()
	train, hold := loadCSV(t, "adult.train.csv"), loadCSV(t, "adult.holdout.csv")
	a, b := halves(train)
	p := adultProfile()
	opts := Options{Target: "income", Seed: 1}
	good, notes, err := efficacy(context.Background(), a, b, hold, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	bad, _, err := efficacy(context.Background(), a, shuffledColumns(b, 4), hold, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("halves: %+v notes %q", good, notes)
	t.Logf("shuffled: %+v", bad)
	if good.Task != TaskBinary || good.Metric != "auc" || good.PositiveClass != ">50K" || good.HoldoutRows != len(hold.Rows) {
		t.Errorf("task = %+v", good)
	}
	if good.Real < 0.9 || good.Ratio < 0.97 {
		t.Errorf("halves: real AUC %.4f ratio %.4f, want ≥ 0.9 and ≥ 0.97", good.Real, good.Ratio)
	}
	if bad.Synthetic > 0.65 || bad.Real < 0.9 {
		t.Errorf("shuffled: synthetic AUC %.4f (want ≤ 0.65), real %.4f", bad.Synthetic, bad.Real)
	}
}

func TestEfficacyTasks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, target string
		p                  *profile.Profile
		task, metric       string
		min                float64
	}{
		{"regression", "insurance", "charges", insuranceProfile(), TaskRegression, "r2", 0.75},
		{"multiclass", "credit", "checking_balance", creditProfile(), TaskMulticlass, "macro_f1", 0.2},
		{"boolean target", "insurance", "smoker", insuranceProfile(), TaskBinary, "auc", 0.9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			train, hold := loadCSV(t, tc.data+".train.csv"), loadCSV(t, tc.data+".holdout.csv")
			a, b := halves(train)
			e, _, err := efficacy(context.Background(), a, b, hold, tc.p, Options{Target: tc.target})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", e)
			if e.Task != tc.task || e.Metric != tc.metric || e.Real < tc.min || e.Synthetic < tc.min {
				t.Errorf("efficacy %+v, want task %s metric %s, scores ≥ %v", e, tc.task, tc.metric, tc.min)
			}
		})
	}
}

func TestEfficacyErrors(t *testing.T) {
	t.Parallel()
	p := &profile.Profile{Columns: []profile.Column{
		{Name: "x", Kind: profile.Numeric}, {Name: "one", Kind: profile.Categorical},
		{Name: "id", Kind: profile.ID}, {Name: "c", Kind: profile.Categorical, MissingTokens: []string{"?"}},
	}}
	tb := &table.Table{Columns: []string{"x", "one", "id", "c"}, Rows: [][]string{{"1", "k", "a", "u"}, {"2", "k", "b", "v"}}}
	onlyMissing := &table.Table{Columns: tb.Columns, Rows: [][]string{{"1", "k", "a", "?"}}}
	tests := []struct {
		name, target string
		synth        *table.Table
		want         error
	}{
		{"unknown column", "nope", tb, ErrTarget},
		{"id kind", "id", tb, ErrTarget},
		{"single class", "one", tb, ErrTarget},
		{"no usable synthetic rows", "c", onlyMissing, ErrTarget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Evaluate(context.Background(), tb, tc.synth, tb, p, Options{Target: tc.target, DiscriminatorRows: -1})
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// A holdout with one class has no AUC: efficacy is skipped with a note.
	hold := &table.Table{Columns: tb.Columns, Rows: [][]string{{"1", "k", "a", "u"}}}
	rep, err := Evaluate(context.Background(), tb, tb, hold, p, Options{Target: "c", DiscriminatorRows: -1})
	if err != nil || rep.Efficacy != nil || len(rep.Notes) == 0 {
		t.Errorf("one-class holdout: err %v, efficacy %+v, notes %q", err, rep.Efficacy, rep.Notes)
	}
}

// TestEvaluateAdultEndToEnd runs every family on Adult with the shuffled
// training table as the synthetic one.
func TestEvaluateAdultEndToEnd(t *testing.T) {
	t.Parallel()
	train, hold := loadCSV(t, "adult.train.csv"), loadCSV(t, "adult.holdout.csv")
	rep, err := Evaluate(context.Background(), train, shuffledColumns(train, 11), hold, adultProfile(), Options{Target: "income", Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Discriminator == nil || rep.Efficacy == nil || rep.HoldoutRows != len(hold.Rows) || rep.RealRows != len(train.Rows) {
		t.Fatalf("report lacks a family: %+v", rep)
	}
	if rep.Discriminator.AUC < 0.9 || rep.Efficacy.Synthetic > 0.65 || rep.ColumnShapes < 0.95 {
		t.Errorf("shuffled adult: discriminator %.4f, TSTR AUC %.4f, shapes %.4f", rep.Discriminator.AUC, rep.Efficacy.Synthetic, rep.ColumnShapes)
	}
}

// TestDiscriminatorSmall: too few rows to cross-validate is a note, not an
// error.
func TestDiscriminatorSmall(t *testing.T) {
	t.Parallel()
	tb := &table.Table{Columns: []string{"x", "c", "id"}, Rows: [][]string{{"1", "a", "1"}, {"2", "b", "2"}}}
	rep, err := Evaluate(context.Background(), tb, tb, nil, smallProfile(), Options{})
	if err != nil || rep.Discriminator != nil || len(rep.Notes) == 0 {
		t.Errorf("err %v, discriminator %+v, notes %q", err, rep.Discriminator, rep.Notes)
	}
}
