package ensemble

import (
	"slices"

	"synthos.dev/synthos/shared/table"
)

// OutputColumns are the columns of a scored table: the input's, as text,
// then OutputNames (class probabilities as floats, the class as an
// integer), so the prediction is the last column. The CLI's `models
// predict` and the API's table predictions write this shape.
func (m *Model) OutputColumns(input []string) []table.Column {
	cols := make([]table.Column, 0, len(input)+m.Outputs+1)
	for _, c := range input {
		cols = append(cols, table.Column{Name: c, Kind: table.String})
	}
	for i, n := range m.OutputNames() {
		k := table.Float
		if m.Outputs > 1 && i == m.Outputs {
			k = table.Int
		}
		cols = append(cols, table.Column{Name: n, Kind: k})
	}
	return cols
}

// Scorer predicts table rows in batches: Add binds a row's cells and keeps
// them; Flush predicts the kept rows with one PredictBatch and hands each
// row's cells followed by its outputs (FormatOutputs) to emit. Its buffers
// are reused, so memory stays at one batch.
type Scorer struct {
	m     *Model
	b     *Binder
	rows  [][]string
	x     []float64
	pred  []float64
	batch int
}

// NewScorer returns a Scorer of up to batch rows bound by b.
func (m *Model) NewScorer(b *Binder, batch int) *Scorer {
	batch = max(batch, 1)
	return &Scorer{m: m, b: b, batch: batch, rows: make([][]string, 0, batch),
		x: make([]float64, 0, batch*len(m.Features)), pred: make([]float64, batch*m.Outputs)}
}

// Add binds one row (row is its 1-based number, for errors) and keeps a
// copy of its cells with room for the outputs.
func (s *Scorer) Add(cells []string, row int) error {
	nf := len(s.m.Features)
	// Adding past a full batch grows it rather than failing.
	s.x = slices.Grow(s.x, nf)[:len(s.x)+nf]
	if err := s.b.Row(cells, s.x[len(s.x)-nf:], row); err != nil {
		s.x = s.x[:len(s.x)-nf]
		return err
	}
	s.rows = append(s.rows, append(make([]string, 0, len(cells)+s.m.Outputs+1), cells...))
	return nil
}

// Len is the number of rows kept; Full reports whether the batch is full
// (Add still takes more: the batch grows).
func (s *Scorer) Len() int   { return len(s.rows) }
func (s *Scorer) Full() bool { return len(s.rows) >= s.batch }

// Flush predicts the kept rows and emits them in order.
func (s *Scorer) Flush(emit func(cells []string) error) error {
	if len(s.rows) == 0 {
		return nil
	}
	o := s.m.Outputs
	if len(s.pred) < len(s.rows)*o {
		s.pred = make([]float64, len(s.rows)*o)
	}
	if err := s.m.PredictBatch(s.x, s.pred[:len(s.rows)*o]); err != nil {
		return err
	}
	for i, r := range s.rows {
		if err := emit(s.m.FormatOutputs(s.pred[i*o:(i+1)*o], r)); err != nil {
			return err
		}
	}
	s.rows, s.x = s.rows[:0], s.x[:0]
	return nil
}
