package ensemble

import (
	"math"
	"strconv"
	"strings"

	"synthos.dev/synthos/shared/errs"
)

// Binder turns table rows (string cells) into a model's feature vectors:
// it finds each feature's column by name, reads numbers, treats empty
// cells and the usual missing tokens as missing (NaN), and maps the
// categories of categorical features to the integer codes the model was
// trained on.
type Binder struct {
	m    *Model
	cols []int                // column index of each feature
	cats []map[string]float64 // per feature: category -> code (nil: cells are codes)
}

// missingTokens are read as missing values, like the profile's defaults.
var missingTokens = map[string]bool{"": true, "?": true, "na": true, "n/a": true, "nan": true, "null": true, "none": true}

// Bind maps the model's features to columns. categories gives, per
// categorical feature, its categories in code order (code i is
// categories[i], as pandas' category codes are); a categorical feature
// without a list takes integer codes. A category outside the list is
// missing.
func (m *Model) Bind(columns []string, categories map[string][]string) (*Binder, error) {
	at := map[string]int{}
	for i, c := range columns {
		at[c] = i
	}
	b := &Binder{m: m, cols: make([]int, len(m.Features)), cats: make([]map[string]float64, len(m.Features))}
	var missing []string
	for i, f := range m.Features {
		ci, ok := at[f.Name]
		if !ok {
			missing = append(missing, f.Name)
			continue
		}
		b.cols[i] = ci
		if list, ok := categories[f.Name]; ok && f.Kind == Categorical {
			b.cats[i] = make(map[string]float64, len(list))
			for code, c := range list {
				b.cats[i][c] = float64(code)
			}
		}
	}
	if len(missing) > 0 {
		return nil, errs.Errorf(errs.InvalidArgument, "the input lacks the model's features: %s", strings.Join(missing, ", "))
	}
	return b, nil
}

// Row fills out (one value per feature) from a row's cells; row is the
// 1-based data row for error messages.
func (b *Binder) Row(cells []string, out []float64, row int) error {
	for i, ci := range b.cols {
		if ci >= len(cells) {
			return errs.Errorf(errs.InvalidArgument, "row %d has %d cells, feature %s is column %d", row, len(cells), b.m.Features[i].Name, ci+1)
		}
		cell := strings.TrimSpace(cells[ci])
		if missingTokens[strings.ToLower(cell)] {
			out[i] = math.NaN()
			continue
		}
		if cats := b.cats[i]; cats != nil {
			code, ok := cats[cell]
			if !ok {
				code = math.NaN()
			}
			out[i] = code
			continue
		}
		v, err := strconv.ParseFloat(cell, 64)
		if err != nil {
			what := "a number"
			if b.m.Features[i].Kind == Categorical {
				what = "an integer category code (or give the feature's categories)"
			}
			return errs.Errorf(errs.InvalidArgument, "row %d, column %s: %q is not %s", row, b.m.Features[i].Name, cell, what)
		}
		out[i] = v
	}
	return nil
}

// OutputNames are the column names of a row's outputs: "prediction" for
// one output; for class probabilities "p_0".."p_k-1" and then
// "prediction", the most likely class, so the prediction is always last.
func (m *Model) OutputNames() []string {
	if m.Outputs == 1 {
		return []string{"prediction"}
	}
	names := make([]string, 0, m.Outputs+1)
	for k := 0; k < m.Outputs; k++ {
		names = append(names, "p_"+strconv.Itoa(k))
	}
	return append(names, "prediction")
}

// FormatOutputs renders one row's outputs as OutputNames' cells.
func (m *Model) FormatOutputs(out []float64, cells []string) []string {
	for _, v := range out[:m.Outputs] {
		cells = append(cells, strconv.FormatFloat(v, 'g', -1, 64))
	}
	if m.Outputs > 1 {
		cells = append(cells, strconv.Itoa(Argmax(out[:m.Outputs])))
	}
	return cells
}
