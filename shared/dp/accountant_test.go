package dp

import (
	"errors"
	"math"
	"testing"
)

func TestRhoReference(t *testing.T) {
	t.Parallel()
	// Reference values of private-pgm's cdp_rho (Canonne–Kamath–Steinke).
	cases := []struct {
		eps, delta, rho, tol float64
	}{
		{eps: 1, delta: 1e-9, rho: 0.01497, tol: 0.00001},
		{eps: 10, delta: 1e-9, rho: 1.09, tol: 0.005},
	}
	for _, c := range cases {
		rho, err := Rho(c.eps, c.delta)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(rho-c.rho) > c.tol {
			t.Errorf("Rho(%v, %v) = %.6f, want %v ± %v", c.eps, c.delta, rho, c.rho, c.tol)
		}
		// Round trips: the rho spends no more than eps at delta.
		eps, err := Epsilon(rho, c.delta)
		if err != nil {
			t.Fatal(err)
		}
		if eps > c.eps*(1+1e-9) || eps < c.eps*(1-1e-6) {
			t.Errorf("Epsilon(Rho(%v)) = %v", c.eps, eps)
		}
		d, err := Delta(rho, c.eps)
		if err != nil {
			t.Fatal(err)
		}
		if d > c.delta*(1+1e-9) {
			t.Errorf("Delta(%v, %v) = %v exceeds %v", rho, c.eps, d, c.delta)
		}
	}
}

func TestConversionTighterThanStandard(t *testing.T) {
	t.Parallel()
	for _, rho := range []float64{0.001, 0.015, 0.5, 3} {
		eps, err := Epsilon(rho, 1e-6)
		if err != nil {
			t.Fatal(err)
		}
		std := rho + 2*math.Sqrt(rho*math.Log(1e6))
		if !(eps > 0 && eps < std) {
			t.Errorf("rho %v: eps %v, want in (0, %v)", rho, eps, std)
		}
	}
}

func TestAccountantInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		f    func() error
	}{
		{"rho zero eps", func() error { _, err := Rho(0, 1e-9); return err }},
		{"rho delta one", func() error { _, err := Rho(1, 1); return err }},
		{"rho nan", func() error { _, err := Rho(math.NaN(), 1e-9); return err }},
		{"eps negative rho", func() error { _, err := Epsilon(-1, 1e-9); return err }},
		{"eps zero delta", func() error { _, err := Epsilon(1, 0); return err }},
		{"delta inf", func() error { _, err := Delta(math.Inf(1), 1); return err }},
	}
	for _, c := range cases {
		if err := c.f(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", c.name, err)
		}
	}
}
