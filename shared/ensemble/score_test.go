package ensemble

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestScorer: scoring table rows in batches of any size gives each row's
// cells followed by the same outputs as predicting it alone, in order; a
// row that does not bind is refused and leaves the batch as it was.
func TestScorer(t *testing.T) {
	t.Parallel()
	m := load(t, filepath.Join("testdata", "xgb_insurance_multiclass.json"))
	header := []string{"age", "sex", "bmi", "children", "smoker", "charges"}
	var rows [][]string
	for i := 0; i < 10; i++ {
		rows = append(rows, []string{strconv.Itoa(20 + 3*i), strconv.Itoa(i % 2), "27.5", strconv.Itoa(i % 3), strconv.Itoa((i / 2) % 2), strconv.Itoa(2000 + 900*i)})
	}
	b, err := m.Bind(header, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]string, len(rows))
	for i, r := range rows {
		x := make([]float64, len(m.Features))
		if err := b.Row(r, x, i+1); err != nil {
			t.Fatal(err)
		}
		out := make([]float64, m.Outputs)
		if err := m.Predict(x, out); err != nil {
			t.Fatal(err)
		}
		want[i] = m.FormatOutputs(out, append([]string(nil), r...))
	}
	if cols := m.OutputColumns(header); len(cols) != len(header)+m.Outputs+1 || cols[len(cols)-1].Name != "prediction" {
		t.Fatalf("columns %v", cols)
	}
	for _, batch := range []int{1, 3, 10, 64} {
		t.Run(strconv.Itoa(batch), func(t *testing.T) {
			sc := m.NewScorer(b, batch)
			var got [][]string
			emit := func(c []string) error { got = append(got, c); return nil }
			for i, r := range rows {
				if err := sc.Add(r, i+1); err != nil {
					t.Fatal(err)
				}
				if i == 4 {
					if err := sc.Add([]string{"x", "0", "1", "1", "1", "1"}, 99); err == nil || !strings.Contains(err.Error(), "row 99") {
						t.Errorf("bad row: %v", err)
					}
				}
				if sc.Full() {
					if err := sc.Flush(emit); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := sc.Flush(emit); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows scored, want %d", len(got), len(want))
			}
			for i := range want {
				if strings.Join(got[i], ",") != strings.Join(want[i], ",") {
					t.Errorf("row %d: %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}
