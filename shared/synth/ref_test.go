package synth

import (
	"context"
	"strings"
	"testing"
)

func TestRefTmp(t *testing.T) {
	train, hold := adult(t)
	p := adultProfile()
	orders := [][]string{
		nil,
		strings.Split("native-country,education,occupation,workclass,marital-status,relationship,race,sex,income,age,education-num,hours-per-week,capital-gain,capital-loss,fnlwgt", ","),
		strings.Split("sex,race,age,marital-status,relationship,education,education-num,occupation,workclass,hours-per-week,income,capital-gain,capital-loss,native-country,fnlwgt", ","),
	}
	for i, o := range orders {
		for _, seed := range []uint64{7, 8} {
			m, err := Fit(context.Background(), train, p, FitOptions{Order: o})
			if err != nil {
				t.Fatal(err)
			}
			synth := sampleTable(t, m, int64(len(train.Rows)), seed)
			t.Logf("order %d seed %d %+v", i, seed, measure(t, train, hold, synth, p))
		}
	}
}
