package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

type rows struct{ out [][]string }

func (r *rows) Write(row []string) error {
	r.out = append(r.out, append([]string(nil), row...))
	return nil
}

func smallTable() *table.Table {
	t := &table.Table{Columns: []string{"age", "city", "smoker"}}
	cities := []string{"Berlin", "Paris", "Rome"}
	for i := range 300 {
		t.Rows = append(t.Rows, []string{fmt.Sprint(20 + i%50), cities[i%3], []string{"yes", "no"}[i%2]})
	}
	return t
}

func TestFitSaveLoadEveryKind(t *testing.T) {
	t.Parallel()
	tb := smallTable()
	p, err := profile.Infer(tb, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			m, err := Fit(context.Background(), tb, p, Options{Kind: kind, Seed: 3, Epsilon: 5})
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind() != kind {
				t.Errorf("kind = %s", m.Kind())
			}
			var buf bytes.Buffer
			if err := Save(&buf, m); err != nil {
				t.Fatal(err)
			}
			m2, err := Load(&buf)
			if err != nil {
				t.Fatal(err)
			}
			var a, b rows
			if err := m.Sample(context.Background(), 50, 0, 1, 9, synth.SampleOptions{}, &a); err != nil {
				t.Fatal(err)
			}
			if err := m2.Sample(context.Background(), 50, 0, 1, 9, synth.SampleOptions{}, &b); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(a.out) != fmt.Sprint(b.out) || len(a.out) != 50 {
				t.Errorf("loaded model samples differently")
			}
		})
	}
}

func TestFitErrors(t *testing.T) {
	t.Parallel()
	tb := smallTable()
	p, _ := profile.Infer(tb, profile.Options{})
	if _, err := Fit(context.Background(), tb, p, Options{Kind: "gan"}); !errors.Is(err, ErrKind) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := Fit(context.Background(), tb, p, Options{Kind: KindDP}); err == nil {
		t.Error("dp without a budget must fail")
	}
}

func TestFitWithReservedRhoWins(t *testing.T) {
	t.Parallel()
	tb := smallTable()
	p, _ := profile.Infer(tb, profile.Options{})
	m, err := Fit(context.Background(), tb, p, Options{Kind: KindDP, Epsilon: 5, Rho: 0.02, Seed: 1})
	if err != nil {
		t.Fatalf("epsilon and a reserved rho together: %v", err)
	}
	if got := m.(*dp.Model).Report.Rho; got > 0.02+1e-12 {
		t.Errorf("spent rho %v, more than the reserved 0.02", got)
	}
}
