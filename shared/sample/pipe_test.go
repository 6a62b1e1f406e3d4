package sample

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"synthos.dev/synthos/internal/cputime"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// messyCSV is a CSV of rows rows with quoted cells holding delimiters,
// quotes and newlines, missing cells ("" and NA) and, when badRow > 0, a
// ragged row there (a row of two cells, which the reader reports with its
// line).
func messyCSV(rows, badRow int) string {
	var b strings.Builder
	b.WriteString("id,city,note,x,when\n")
	cities := []string{"Paris", "\"Lyon, Rhône\"", "", "NA", "\"New\nYork\"", "Oslo"}
	for i := 1; i <= rows; i++ {
		if i == badRow {
			b.WriteString("oops,only\n")
			continue
		}
		note := ""
		switch i % 7 {
		case 1:
			note = fmt.Sprintf("\"line one\nline two %d\"", i%50)
		case 2:
			note = "\"she said \"\"hi\"\"\""
		case 3:
			note = "plain"
		}
		x := fmt.Sprint((i * 7919) % 100_003)
		if i%13 == 0 {
			x = ""
		}
		fmt.Fprintf(&b, "r%d,%s,%s,%s,2024-%02d-%02d\n", i, cities[i%len(cities)], note, x, i%12+1, i%28+1)
	}
	return b.String()
}

func drawCSV(t *testing.T, ctx context.Context, text string, o Options) (*Result, error) {
	t.Helper()
	r, err := table.OpenReader(strings.NewReader(text), table.CSV, table.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Draw(ctx, r, o)
}

// TestDrawPipeMatchesSerial: the pipelined read of a sampled table gives
// the serial read's sample, holdout, row count and profile, and the same
// error (row and line) for a bad row mid-file, for tables ending at, just
// past and far past the switch to sampling and on batch boundaries.
func TestDrawPipeMatchesSerial(t *testing.T) {
	t.Parallel()
	const k = 3000
	for _, tc := range []struct {
		rows, bad int
	}{
		{k + 1, 0}, {k + 2, 0}, {k + 1 + batchRows, 0}, {k + 1 + 3*batchRows + 17, 0}, {40_000, 0},
		{40_000, k + 2}, {40_000, k + 1 + batchRows}, {40_000, k + 2 + 2*batchRows}, {40_000, 39_999},
	} {
		t.Run(fmt.Sprintf("%d rows, bad %d", tc.rows, tc.bad), func(t *testing.T) {
			t.Parallel()
			text := messyCSV(tc.rows, tc.bad)
			o := Options{Budget: int64(k) * 6 * BytesPerCell, Seed: 9, HoldoutShare: 0.2, HoldoutMax: 500,
				Quota: 5, Tail: 10, Profile: &profile.Options{Seed: 9, Sample: 1000}}
			serial := o
			serial.serial = true
			want, wantErr := drawCSV(t, context.Background(), text, serial)
			got, gotErr := drawCSV(t, context.Background(), text, o)
			if tc.bad > 0 {
				var we, ge *table.Error
				if wantErr == nil || gotErr == nil || !errors.As(wantErr, &we) || !errors.As(gotErr, &ge) {
					t.Fatalf("errors: serial %v, pipelined %v; want table errors", wantErr, gotErr)
				}
				if gotErr.Error() != wantErr.Error() || *ge != *we || ge.Line <= tc.bad {
					t.Fatalf("pipelined error %v (%+v), serial %v (%+v)", gotErr, *ge, wantErr, *we)
				}
				if got != nil {
					t.Fatalf("a failed read returned a result")
				}
				return
			}
			if wantErr != nil || gotErr != nil {
				t.Fatalf("errors: serial %v, pipelined %v", wantErr, gotErr)
			}
			if !want.Sampled || want.Total != int64(tc.rows) {
				t.Fatalf("serial read: sampled %v, %d rows; want a sample of %d", want.Sampled, want.Total, tc.rows)
			}
			if !reflect.DeepEqual(got.Train, want.Train) || !reflect.DeepEqual(got.Holdout, want.Holdout) {
				t.Errorf("pipelined sample differs: %d+%d rows, serial %d+%d", len(got.Train.Rows), len(got.Holdout.Rows), len(want.Train.Rows), len(want.Holdout.Rows))
			}
			if got.Total != want.Total || got.Sampled != want.Sampled {
				t.Errorf("pipelined: %d rows sampled %v, serial %d %v", got.Total, got.Sampled, want.Total, want.Sampled)
			}
			if !reflect.DeepEqual(got.Profile, want.Profile) {
				t.Errorf("pipelined profile differs:\n%+v\nserial:\n%+v", got.Profile, want.Profile)
			}
		})
	}
}

// endless yields rows forever and cancels its context after cancelAt rows;
// a read after closed is set (after Draw returned) is recorded, and under
// -race is a race: the reading goroutine must be gone by then.
type endless struct {
	n, cancelAt int
	cancel      func()
	row         []string
	closed      bool
	late        bool
}

func (e *endless) Columns() []string { return []string{"id", "cat"} }
func (e *endless) Read() ([]string, error) {
	if e.closed {
		e.late = true
	}
	e.n++
	if e.n == e.cancelAt {
		e.cancel()
	}
	e.row = append(e.row[:0], fmt.Sprint(e.n), fmt.Sprint(e.n%5))
	return e.row, nil
}

// TestDrawPipeCancel: canceling the context stops the pipelined read,
// before or after the switch, and Draw returns only once the reading
// goroutine has stopped.
func TestDrawPipeCancel(t *testing.T) {
	t.Parallel()
	for _, at := range []int{10, 2500, 3001, 3002, 20_000, 20_000 + batchRows/2} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &endless{cancelAt: at, cancel: cancel}
			res, err := Draw(ctx, r, Options{Budget: 3000 * 3 * BytesPerCell, Seed: 1, Profile: &profile.Options{Sample: 500}})
			r.closed = true
			if !errors.Is(err, context.Canceled) || res != nil {
				t.Fatalf("Draw after cancel: %v, %v", res, err)
			}
			if r.late {
				t.Fatalf("the reader was read after Draw returned")
			}
		})
	}
}

// BenchmarkDrawCSV draws, as the CLI does (default budget, profiled), from
// the CSV at $SYNTHOS_DRAW_CSV (e.g. TestBigFit's table), serially and
// pipelined, reporting the process CPU seconds per draw beside the wall.
func BenchmarkDrawCSV(b *testing.B) {
	path := os.Getenv("SYNTHOS_DRAW_CSV")
	if path == "" {
		b.Skip("SYNTHOS_DRAW_CSV names the CSV to draw from")
	}
	for _, serial := range []bool{true, false} {
		b.Run(map[bool]string{true: "serial", false: "pipe"}[serial], func(b *testing.B) {
			cpu := cputime.Process()
			for b.Loop() {
				r, err := table.Open(path, table.Options{})
				if err != nil {
					b.Fatal(err)
				}
				_, err = Draw(context.Background(), r, Options{Seed: 1, HoldoutShare: 0.2, Profile: &profile.Options{Seed: 1}, serial: serial})
				r.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cputime.Process()-cpu).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// TestDrawPipeProfileError: a row the profile rejects (a reader's ragged
// row) fails the pipelined read with the serial read's error.
func TestDrawPipeProfileError(t *testing.T) {
	t.Parallel()
	for _, bad := range []int{3005, 3001 + batchRows, 9999} {
		src := synthetic(10_000)
		src.Rows[bad-1] = src.Rows[bad-1][:2]
		o := Options{Budget: budgetFor(3000), Seed: 2, Profile: &profile.Options{Sample: 500}}
		serial := o
		serial.serial = true
		_, wantErr := Draw(context.Background(), &rowsReader{t: src}, serial)
		res, err := Draw(context.Background(), &rowsReader{t: src}, o)
		if wantErr == nil || err == nil || err.Error() != wantErr.Error() || res != nil {
			t.Errorf("bad row %d: pipelined %v, %v; serial error %v", bad, res, err, wantErr)
		}
	}
}

// TestDrawProfileIDsKeepTheSample: with a profile, the strata are found by
// the profile's cell identifiers (serially and in the pipe); the sample
// and holdout are the ones found by the cells alone (no profile), for a
// table with more cells than the profile caches and more values than a
// column may stratify.
func TestDrawProfileIDsKeepTheSample(t *testing.T) {
	t.Parallel()
	const k = 3000
	var b strings.Builder
	b.WriteString("id,few,many,mixed\n")
	for i := range 60_000 {
		// many: 5,000 values (over the cache's 4,096 and the 1,000 a
		// stratum allows); mixed: few values early, many later.
		mixed := fmt.Sprint(i % 7)
		if i > 20_000 {
			mixed = fmt.Sprint(i % 2_500)
		}
		fmt.Fprintf(&b, "r%d,%d,v%d,%s\n", i, i%11, (i*7919)%5000, mixed)
	}
	text := b.String()
	base := Options{Budget: int64(k) * 5 * BytesPerCell, Seed: 4, HoldoutShare: 0.1, HoldoutMax: 700, Quota: 3, Tail: 5}
	want, err := drawCSV(t, context.Background(), text, base)
	if err != nil {
		t.Fatal(err)
	}
	for _, serial := range []bool{true, false} {
		o := base
		o.serial = serial
		o.Profile = &profile.Options{Seed: 4, Sample: 1000}
		got, err := drawCSV(t, context.Background(), text, o)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Train.Rows, want.Train.Rows) || !reflect.DeepEqual(got.Holdout.Rows, want.Holdout.Rows) {
			t.Errorf("serial %v: with a profile, %d training and %d holdout rows; without, %d and %d, or they differ",
				serial, len(got.Train.Rows), len(got.Holdout.Rows), len(want.Train.Rows), len(want.Holdout.Rows))
		}
	}
}

// TestDrawSameOnAnyCoreCount: a file read with table.Open (parsed on
// several goroutines with more than one core) and drawn with a profile
// gives the same sample, holdout and profile with GOMAXPROCS 1 and 2.
func TestDrawSameOnAnyCoreCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messy.csv")
	if err := os.WriteFile(path, []byte(messyCSV(40_000, 0)), 0o600); err != nil {
		t.Fatal(err)
	}
	draw := func(procs int) *Result {
		prev := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(prev)
		r, err := table.Open(path, table.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		res, err := Draw(context.Background(), r, Options{Budget: 3000 * 6 * BytesPerCell, Seed: 9, HoldoutShare: 0.2,
			HoldoutMax: 500, Quota: 5, Tail: 10, Profile: &profile.Options{Seed: 9, Sample: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	one, two := draw(1), draw(2)
	if !one.Sampled || !reflect.DeepEqual(one.Train, two.Train) || !reflect.DeepEqual(one.Holdout, two.Holdout) || one.Total != two.Total {
		t.Errorf("1 core: %d training and %d holdout rows of %d; 2 cores: %d, %d of %d, or they differ",
			len(one.Train.Rows), len(one.Holdout.Rows), one.Total, len(two.Train.Rows), len(two.Holdout.Rows), two.Total)
	}
	if !reflect.DeepEqual(one.Profile, two.Profile) {
		t.Errorf("the profile differs between 1 and 2 cores")
	}
}
