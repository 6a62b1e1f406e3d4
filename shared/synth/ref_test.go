package synth

import (
	"context"
	"testing"
)

func TestRefTmp(t *testing.T) {
	train, hold := adult(t)
	p := adultProfile()
	for _, o := range []FitOptions{{MinLeaf: 40}, {MinLeaf: 60}, {MinLeaf: 100}, {MinLeaf: 60, Smoothing: 0.5}} {
		m, err := Fit(context.Background(), train, p, o)
		if err != nil {
			t.Fatal(err)
		}
		synth := sampleTable(t, m, int64(len(train.Rows)), 7)
		t.Logf("%+v %+v", o, measure(t, train, hold, synth, p))
	}
}
