package synth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cespare/xxhash/v2"
	"synthos.dev/synthos/internal/benchsample"
	"synthos.dev/synthos/shared/table"
)

// textOf samples with SampleParallel on workers goroutines and returns the
// rows as comma-joined lines.
func textOf(t *testing.T, m Model, n int64, shard, shards, workers int, seed uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := rowFunc(func(row []string) error {
		for i, c := range row {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(c)
		}
		buf.WriteByte('\n')
		return nil
	})
	if err := SampleParallel(context.Background(), m, n, shard, shards, seed, SampleOptions{}, w, workers); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type rowFunc func([]string) error

func (f rowFunc) Write(row []string) error { return f(row) }

func fitAdultKind(t testing.TB, kind string) Model {
	t.Helper()
	train, _ := adult(t)
	m, err := Fit(context.Background(), train, adultProfile(), FitOptions{Kind: kind, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSampleParallelIdentical checks that any number of workers writes the
// bytes of m.Sample, for whole samples and for shards, with sizes that end
// mid-block and shards whose task layout starts at odd blocks.
func TestSampleParallelIdentical(t *testing.T) {
	for _, kind := range []string{KindTree, KindCopula} {
		m := fitAdultKind(t, kind)
		for _, tc := range []struct {
			n             int64
			shard, shards int
		}{
			{100_001, 0, 1},
			{300_001, 1, 3},
			{BlockRows*37 + 5, 2, 3},
			{BlockRows * 3, 0, 1}, // one task: falls back to Sample
			{0, 0, 1},
		} {
			t.Run(fmt.Sprintf("%s/n=%d/%d-of-%d", kind, tc.n, tc.shard, tc.shards), func(t *testing.T) {
				want := textOf(t, m, tc.n, tc.shard, tc.shards, 1, 42)
				for _, workers := range []int{2, 5} {
					got := textOf(t, m, tc.n, tc.shard, tc.shards, workers, 42)
					if !bytes.Equal(got, want) {
						t.Fatalf("workers=%d: %d bytes differ from 1 worker's %d", workers, len(got), len(want))
					}
				}
				lines := bytes.Count(want, []byte{'\n'})
				b0, b1 := shardBlocks(tc.n, tc.shard, tc.shards)
				if exp := min(int64(b1)*BlockRows, tc.n) - int64(b0)*BlockRows; int64(lines) != max(exp, 0) {
					t.Fatalf("%d rows, want %d", lines, exp)
				}
			})
		}
	}
}

// TestTaskCall checks the task layout against the shard arithmetic: every
// block range it returns is exactly what the Sample call covers, and tasks
// tile the shard.
func TestTaskCall(t *testing.T) {
	for _, n := range []int64{1, BlockRows, BlockRows*100 + 1, 1_000_000_000} {
		nb := (uint64(n) + BlockRows - 1) / BlockRows
		for _, want := range []uint64{1, 4, 7, 64} {
			for t0 := uint64(0); t0 < nb && t0 < 3000; {
				nn, i, k, t1 := taskCall(n, nb, t0, min(want, nb-t0))
				if t1 <= t0 || t1-t0 > want {
					t.Fatalf("n=%d t0=%d want=%d: t1=%d", n, t0, want, t1)
				}
				if lo, hi := shardBlocks(nn, i, k); lo != t0 || hi != t1 {
					t.Fatalf("n=%d: shard %d of %d of %d rows is [%d,%d), want [%d,%d)", n, i, k, nn, lo, hi, t0, t1)
				}
				if t1 == nb && nn != n {
					t.Fatalf("last task samples %d rows, want %d", nn, n)
				}
				if t0 > 100 && t1-t0 != min(want, nb-t0) {
					t.Fatalf("n=%d t0=%d: task of %d blocks, want %d", n, t0, t1-t0, want)
				}
				t0 = t1
			}
		}
	}
}

// failAt wraps a model and fails the Sample call covering block bad; it
// counts the calls that started.
type failAt struct {
	Model
	bad   uint64
	calls atomic.Int64
	// wait, when set, makes the call covering block waitAt wait for the
	// cancellation the failure causes.
	wait   bool
	waitAt uint64
}

var errInjected = errors.New("injected")

func (f *failAt) Sample(ctx context.Context, n int64, shard, shards int, seed uint64, opts SampleOptions, w RowWriter) error {
	f.calls.Add(1)
	b0, b1 := shardBlocks(n, shard, shards)
	if b0 <= f.bad && f.bad < b1 {
		return errInjected
	}
	if f.wait && b0 <= f.waitAt && f.waitAt < b1 {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.Model.Sample(ctx, n, shard, shards, seed, opts, w)
}

func TestSampleParallelErrorStops(t *testing.T) {
	m := &failAt{Model: fitAdultKind(t, KindCopula), bad: 8}
	var rows int64
	w := rowFunc(func([]string) error { rows++; return nil })
	n := int64(BlockRows * 4000) // 1,000 tasks of 4 blocks
	err := SampleParallel(context.Background(), m, n, 0, 1, 1, SampleOptions{}, w, 2)
	if !errors.Is(err, errInjected) {
		t.Fatalf("err = %v, want the injected error", err)
	}
	// Tasks are dispatched at most 2×workers ahead of the writer, so the
	// failure (in the third task: a wrapper gets tasks of 4 blocks) stops
	// the job a few tasks in, not 1,000.
	if c := m.calls.Load(); c > 12 {
		t.Fatalf("%d Sample calls after a failure in the third task (%d rows written)", c, rows)
	}
	if rows > 8*BlockRows {
		t.Fatalf("%d rows written, but block 8 failed", rows)
	}
}

// TestSampleParallelErrorNotCancel checks that the error returned is the
// failure, not the cancellation it caused in an earlier task the writer
// waits for.
func TestSampleParallelErrorNotCancel(t *testing.T) {
	m := &failAt{Model: fitAdultKind(t, KindCopula), bad: 8, wait: true, waitAt: 4}
	var rows int64
	err := SampleParallel(context.Background(), m, BlockRows*400, 0, 1, 1, SampleOptions{}, rowFunc(func([]string) error { rows++; return nil }), 2)
	if !errors.Is(err, errInjected) || errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the injected error", err)
	}
	if rows != 4*BlockRows {
		t.Fatalf("%d rows written, want the first task's %d", rows, 4*BlockRows)
	}
}

func TestSampleParallelWriterError(t *testing.T) {
	m := fitAdultKind(t, KindTree)
	var rows int
	w := rowFunc(func([]string) error {
		rows++
		if rows == 50_000 {
			return errInjected
		}
		return nil
	})
	err := SampleParallel(context.Background(), m, 10_000_000, 0, 1, 1, SampleOptions{}, w, 2)
	if !errors.Is(err, errInjected) || rows != 50_000 {
		t.Fatalf("err = %v after %d rows, want the writer's error at row 50000", err, rows)
	}
}

func TestSampleParallelCancel(t *testing.T) {
	m := fitAdultKind(t, KindTree)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rows int64
	var once sync.Once
	w := rowFunc(func([]string) error {
		rows++
		if rows == 100_000 {
			once.Do(cancel)
		}
		return nil
	})
	var progress []int64
	opts := SampleOptions{Progress: func(d int64) { progress = append(progress, d) }}
	err := SampleParallel(ctx, m, 1_000_000_000, 0, 1, 1, opts, w, 2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if rows > 2_000_000 {
		t.Fatalf("%d rows written after cancellation at 100,000", rows)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i] <= progress[i-1] {
			t.Fatalf("progress not increasing: %v", progress)
		}
	}
	if len(progress) == 0 || progress[len(progress)-1] != rows {
		t.Fatalf("progress %v, rows %d", progress, rows)
	}
}

// TestSampleParallelAcceptSequential checks that a stateful Accept is only
// ever called from one goroutine at a time, in row order: the fallback.
func TestSampleParallelAcceptSequential(t *testing.T) {
	m := fitAdultKind(t, KindCopula)
	var busy atomic.Int32
	seen := 0
	opts := SampleOptions{Accept: func([]string) bool {
		if busy.Add(1) != 1 {
			t.Error("Accept called concurrently")
		}
		seen++
		busy.Add(-1)
		return true
	}}
	if err := SampleParallel(context.Background(), m, 200_000, 0, 1, 1, opts, rowFunc(func([]string) error { return nil }), 4); err != nil {
		t.Fatal(err)
	}
	if seen != 200_000 {
		t.Fatalf("Accept saw %d rows", seen)
	}
}

// BenchmarkSampleParallel samples b.N rows of the tree and the copula
// fitted on adult with SampleParallel on one and two workers, with the
// scaffolding and metrics every model's parallel benchmark shares (package
// benchsample): rows/s over workers=1's is the speed-up; rows/cpu-s
// falling with more workers is the ordering's overhead.
func BenchmarkSampleParallel(b *testing.B) {
	for _, kind := range []string{KindTree, KindCopula} {
		m := fitAdultKind(b, kind)
		benchsample.Parallel(b, kind, m.Columns(), func(n int64, w table.Writer, workers int) error {
			return SampleParallel(context.Background(), m, n, 0, 1, 1, SampleOptions{}, w, workers)
		})
	}
}

// TestSampleParallelEncodedFormats checks that workers encoding rows for
// the table writers (table.Encoding) write the bytes the writer writes
// row by row, in every line format, for whole samples and shards.
func TestSampleParallelEncodedFormats(t *testing.T) {
	cases := []struct {
		kind          string
		format        table.Format
		n             int64
		shard, shards int
	}{
		{KindTree, table.CSV, 150_001, 0, 1},
		{KindCopula, table.CSV, 150_001, 0, 1},
		{KindTree, table.TSV, 200_000, 1, 3},
		{KindCopula, table.JSONL, 120_000, 0, 1},
		{KindTree, table.JSONL, 130_000, 2, 3},
	}
	models := map[string]Model{}
	for _, c := range cases {
		m := models[c.kind]
		if m == nil {
			m = fitAdultKind(t, c.kind)
			models[c.kind] = m
		}
		var want []byte
		for _, workers := range []int{1, 2, 3} {
			var buf bytes.Buffer
			w, err := table.NewWriter(&buf, c.format, m.Columns())
			if err != nil {
				t.Fatal(err)
			}
			if workers > 1 {
				if _, ok := w.(table.Encoding); !ok {
					t.Fatalf("%v writer does not implement table.Encoding", c.format)
				}
			}
			if err := SampleParallel(context.Background(), m, c.n, c.shard, c.shards, 5, SampleOptions{}, w, workers); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if workers == 1 {
				want = buf.Bytes()
				continue
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s %v n=%d shard %d/%d: workers=%d wrote %d bytes differing from workers=1's %d", c.kind, c.format, c.n, c.shard, c.shards, workers, buf.Len(), len(want))
			}
		}
	}
}

// pickyWriter is a CSV writer that refuses the rows refuse picks, both in
// Write and in its RowEncoder, counting rows as table's writers do.
type pickyWriter struct {
	w      table.Writer
	refuse func([]string) bool
	rows   int
}

func (p *pickyWriter) Write(row []string) error {
	p.rows++
	if p.refuse(row) {
		return fmt.Errorf("row %d refused", p.rows)
	}
	return p.w.Write(row)
}

func (p *pickyWriter) RowEncoder() table.RowEncoder {
	return pickyEncoder{p.w.(table.Encoding).RowEncoder(), p.refuse}
}

func (p *pickyWriter) WriteEncoded(b []byte, rows int) error {
	p.rows += rows
	return p.w.(table.Encoding).WriteEncoded(b, rows)
}

type pickyEncoder struct {
	enc    table.RowEncoder
	refuse func([]string) bool
}

func (e pickyEncoder) AppendRow(dst []byte, row []string, n int) ([]byte, error) {
	if e.refuse(row) {
		return dst, errors.New("refused")
	}
	return e.enc.AppendRow(dst, row, n)
}

// TestSampleParallelEncoderRefuses checks that a row the writer's encoder
// refuses fails the sample as Write fails it in m.Sample: same error, same
// row number, same bytes written before it.
func TestSampleParallelEncoderRefuses(t *testing.T) {
	m := fitAdultKind(t, KindCopula)
	// A stateless pick (encoders run out of order): about one row in 100,000,
	// so the first refused row lies in a later task.
	refuse := func(row []string) bool { return xxhash.Sum64String(strings.Join(row, ","))%100_000 == 1 }
	var wantErr string
	var want []byte
	for _, workers := range []int{1, 2, 3} {
		var buf bytes.Buffer
		tw, err := table.NewWriter(&buf, table.CSV, m.Columns())
		if err != nil {
			t.Fatal(err)
		}
		p := &pickyWriter{w: tw, refuse: refuse}
		err = SampleParallel(context.Background(), m, 600_000, 0, 1, 9, SampleOptions{}, p, workers)
		if err == nil {
			t.Fatalf("workers=%d: no row refused", workers)
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		msg := err.Error()
		msg = msg[strings.LastIndex(msg, "row "):]
		if workers == 1 {
			wantErr, want = msg, buf.Bytes()
			if p.rows <= int(taskBlocks(m, len(m.Columns())))*BlockRows {
				t.Fatalf("first refused row %d lies in the first task", p.rows)
			}
			continue
		}
		if msg != wantErr {
			t.Errorf("workers=%d: error %q, want %q", workers, msg, wantErr)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("workers=%d: wrote %d bytes before the refused row, workers=1 %d", workers, buf.Len(), len(want))
		}
	}
}
