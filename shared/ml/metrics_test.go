package ml

import (
	"errors"
	"math"
	"testing"
)

const eps = 1e-12

func TestAUC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scores []float64
		pos    []bool
		want   float64
		err    error
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1, nil},
		{"reversed", []float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0, nil},
		// Pairs (pos, neg): (0.8,0.1)=1 (0.8,0.9)=0 (0.3,0.1)=1 (0.3,0.9)=0 → 2/4.
		{"half", []float64{0.1, 0.9, 0.8, 0.3}, []bool{false, false, true, true}, 0.5, nil},
		// Tie between a positive and a negative counts ½: (0.5,0.5)=½ (0.5,0.1)=1 → 3/4.
		{"tie", []float64{0.5, 0.5, 0.1}, []bool{true, false, false}, 0.75, nil},
		{"all tied", []float64{1, 1, 1, 1}, []bool{true, false, true, false}, 0.5, nil},
		{"one class", []float64{1, 2}, []bool{true, true}, 0, ErrUndefined},
		{"length mismatch", []float64{1}, nil, 0, ErrInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := AUC(tc.scores, tc.pos)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && math.Abs(got-tc.want) > eps {
				t.Errorf("AUC = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMacroF1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		pred, truth []int
		classes     int
		want        float64
		err         error
	}{
		{"perfect", []int{0, 1, 2}, []int{0, 1, 2}, 3, 1, nil},
		// class 0: tp 1, predicted 2, true 1 → 2/3; class 1: tp 1, predicted 1,
		// true 2 → 2/3; class 2 absent everywhere → left out.
		{"one error", []int{0, 0, 1}, []int{0, 1, 1}, 3, 2.0 / 3, nil},
		// class 0: 0; class 1: 0 → 0.
		{"all wrong", []int{1, 0}, []int{0, 1}, 2, 0, nil},
		{"class out of range", []int{3}, []int{0}, 2, 0, ErrInput},
		{"empty", nil, nil, 2, 0, ErrInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := MacroF1(tc.pred, tc.truth, tc.classes)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && math.Abs(got-tc.want) > eps {
				t.Errorf("MacroF1 = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestR2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		pred, truth []float64
		want        float64
		err         error
	}{
		{"perfect", []float64{1, 2, 3}, []float64{1, 2, 3}, 1, nil},
		{"mean predictor", []float64{2, 2, 2}, []float64{1, 2, 3}, 0, nil},
		// SSres = 1 + 1 + 1 = 3, SStot = 2 → 1 − 1.5.
		{"off by one", []float64{2, 3, 4}, []float64{1, 2, 3}, -0.5, nil},
		// SSres = 0.25·3 = 0.75, SStot = 2 → 1 − 0.375.
		{"half off", []float64{1.5, 2.5, 2.5}, []float64{1, 2, 3}, 0.625, nil},
		{"constant truth", []float64{1, 2}, []float64{2, 2}, 0, ErrUndefined},
		{"length mismatch", []float64{1}, []float64{1, 2}, 0, ErrInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := R2(tc.pred, tc.truth)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && math.Abs(got-tc.want) > eps {
				t.Errorf("R2 = %v, want %v", got, tc.want)
			}
		})
	}
}
