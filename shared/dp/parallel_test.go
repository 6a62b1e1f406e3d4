package dp

import (
	"bytes"
	"context"
	"testing"

	"synthos.dev/synthos/shared/synth"
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
