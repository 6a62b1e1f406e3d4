package dp

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// lines is a RowWriter joining rows into comma-separated lines.
type lines struct{ bytes.Buffer }

func (l *lines) Write(row []string) error {
	for i, c := range row {
		if i > 0 {
			l.WriteByte(',')
		}
		l.WriteString(c)
	}
	l.WriteByte('\n')
	return nil
}

// TestSampleParallelIdentical checks that synth.SampleParallel writes the
// bytes of a DP model's Sample whatever the number of workers.
func TestSampleParallelIdentical(t *testing.T) {
	train := loadTable(t, "adult.train.csv")
	m, err := Fit(context.Background(), train, inferProfile(t, train), Options{Epsilon: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n             int64
		shard, shards int
	}{{200_003, 0, 1}, {200_003, 1, 2}} {
		var want lines
		if err := m.Sample(context.Background(), tc.n, tc.shard, tc.shards, 9, synth.SampleOptions{}, &want); err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 2, 5} {
			var got lines
			if err := synth.SampleParallel(context.Background(), m, tc.n, tc.shard, tc.shards, 9, synth.SampleOptions{}, &got, workers); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("n=%d shard %d of %d, workers=%d: output differs from Sample's", tc.n, tc.shard, tc.shards, workers)
			}
		}
	}
}

// mixedTable has a column of every kind dp samples: keys, datetimes, PII,
// free text, decimals with missing cells, small integers, booleans and
// categories a CSV writer escapes.
func mixedTable() *table.Table {
	tab := &table.Table{Columns: []string{"ref", "when", "email", "note", "price", "qty", "flag", "band"}}
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3000 {
		price := fmt.Sprintf("%.2f", float64(i%997)*1.37+0.5)
		if i%17 == 0 {
			price = ""
		}
		tab.Rows = append(tab.Rows, []string{
			fmt.Sprintf("R-%05d", i+1),
			t0.Add(time.Duration(i*i%100000) * time.Minute).Format("2006-01-02 15:04:05"),
			fmt.Sprintf("user%d@example%d.com", i, i%5),
			fmt.Sprintf("free text number %d with words, and \"quotes\" %d", i, i*7%13),
			price,
			fmt.Sprint(i % 40),
			[]string{"true", "false"}[i%3%2],
			[]string{"low", "mid", "high", "=x", "-1"}[i%5],
		})
	}
	return tab
}

// TestSampleParallelWriters checks that synth.SampleParallel, whose
// workers encode rows with the table writers' RowEncoder, writes the bytes
// of a DP model's Sample into the same writer, in every line format,
// whatever the number of workers, for whole samples and shards.
func TestSampleParallelWriters(t *testing.T) {
	adult := loadTable(t, "adult.train.csv")
	for _, src := range []*table.Table{adult, mixedTable()} {
		m, err := Fit(context.Background(), src, inferProfile(t, src), Options{Epsilon: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			format        table.Format
			n             int64
			shard, shards int
		}{{table.CSV, 150_001, 0, 1}, {table.JSONL, 150_001, 1, 3}, {table.TSV, 90_000, 0, 1}} {
			var want bytes.Buffer
			w, err := table.NewWriter(&want, tc.format, m.Columns())
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Sample(context.Background(), tc.n, tc.shard, tc.shards, 9, synth.SampleOptions{}, w); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{1, 2, 3} {
				var got bytes.Buffer
				w, err := table.NewWriter(&got, tc.format, m.Columns())
				if err != nil {
					t.Fatal(err)
				}
				if err := synth.SampleParallel(context.Background(), m, tc.n, tc.shard, tc.shards, 9, synth.SampleOptions{}, w, workers); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("%d columns, %v, n=%d shard %d of %d, workers=%d: %d bytes differing from Sample's %d",
						len(src.Columns), tc.format, tc.n, tc.shard, tc.shards, workers, got.Len(), want.Len())
				}
			}
		}
	}
}

// TestSampleKeptRowsStayValid checks that the cells Sample hands a
// RowWriter stay as they were when the writer keeps them: cells are
// formatted into shared chunks (see arena), which must never be rewritten.
func TestSampleKeptRowsStayValid(t *testing.T) {
	src := mixedTable()
	m, err := Fit(context.Background(), src, inferProfile(t, src), Options{Epsilon: 1})
	if err != nil {
		t.Fatal(err)
	}
	const n = 60_000
	var kept collect
	var now lines
	both := writerFunc(func(row []string) error {
		if err := kept.Write(row); err != nil {
			return err
		}
		return now.Write(row)
	})
	if err := m.Sample(context.Background(), n, 0, 1, 4, synth.SampleOptions{}, both); err != nil {
		t.Fatal(err)
	}
	var later lines
	for _, row := range kept.rows {
		if err := later.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(later.Bytes(), now.Bytes()) {
		t.Fatal("cells kept by the writer changed after they were written")
	}
}
