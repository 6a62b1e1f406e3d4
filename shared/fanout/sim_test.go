package fanout

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"synthos.dev/synthos/internal/testdata"
	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// The local fan-out simulation: a job planned by Choose with the generate
// function's limits, each shard sampled by its own worker process (so its
// peak RSS is its own, as an instance's is) running with those limits
// (GOMAXPROCS = CPUs, GOMEMLIMIT = memory), as many at once as this
// machine has cores, each writing its part as the pipeline's sample step
// does (CSV, the header only in part 0, temp file then rename), then the
// parts composed in order and the output checked.

// fitAdultModel fits the default model on adult and saves it to dir.
func fitAdultModel(tb testing.TB, dir, kind string) (string, synth.Model) {
	tb.Helper()
	train := testdata.Table(tb, "adult.train.csv")
	p, err := profile.Infer(train, profile.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	m, err := model.Fit(context.Background(), train, p, model.Options{Kind: kind, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "model.bin")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := model.Save(f, m); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path, m
}

// writePart samples shard i of k of an n-row sample of the model at
// modelPath into path, as the pipeline's sample step writes a part.
func writePart(modelPath, path string, n int64, i, k int, seed uint64) error {
	f, err := os.Open(modelPath)
	if err != nil {
		return err
	}
	m, err := model.Load(bufio.NewReader(f))
	f.Close()
	if err != nil {
		return fmt.Errorf("load model: %w", err)
	}
	var hdr bytes.Buffer
	if i > 0 {
		hw, err := table.NewWriter(&hdr, table.CSV, m.Columns())
		if err != nil {
			return err
		}
		if err := hw.Close(); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	bw := bufio.NewWriterSize(out, 1<<20)
	tw, err := table.NewWriter(&skipWriter{w: bw, skip: int64(hdr.Len())}, table.CSV, m.Columns())
	if err != nil {
		out.Close()
		return err
	}
	if err := synth.SampleParallel(context.Background(), m, n, i, k, seed, synth.SampleOptions{}, tw, 0); err != nil {
		_ = tw.Abort()
		out.Close()
		return err
	}
	if err := tw.Close(); err != nil {
		out.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// skipWriter drops the first skip bytes written (a part's header).
type skipWriter struct {
	w    io.Writer
	skip int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	n := len(p)
	if s.skip > 0 {
		d := min(int64(len(p)), s.skip)
		s.skip -= d
		p = p[d:]
	}
	if len(p) == 0 {
		return n, nil
	}
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

// TestSimWorker is the worker process of TestFanoutSimulation; it runs
// only when that test starts it.
func TestSimWorker(t *testing.T) {
	spec := os.Getenv("SYNTHOS_SIM_WORKER")
	if spec == "" {
		t.Skip("started by TestFanoutSimulation")
	}
	var model, out string
	var n int64
	var i, k int
	if _, err := fmt.Sscanf(spec, "%s %s %d %d %d", &model, &out, &n, &i, &k); err != nil {
		t.Fatalf("SYNTHOS_SIM_WORKER %q: %v", spec, err)
	}
	if err := writePart(model, out, n, i, k, 7); err != nil {
		t.Fatal(err)
	}
}

// TestFanoutSimulation runs a SYNTHOS_SIM_ROWS-row job (default 100M)
// through the fan-out plan. SYNTHOS_BIG=1 only: minutes of CPU.
func TestFanoutSimulation(t *testing.T) {
	if os.Getenv("SYNTHOS_BIG") != "1" {
		t.Skip("set SYNTHOS_BIG=1 to run the fan-out simulation (SYNTHOS_SIM_ROWS rows, default 100,000,000)")
	}
	rows := int64(100_000_000)
	if s := os.Getenv("SYNTHOS_SIM_ROWS"); s != "" {
		var err error
		if rows, err = strconv.ParseInt(s, 10, 64); err != nil || rows < 1 {
			t.Fatalf("SYNTHOS_SIM_ROWS=%q: want a positive row count", s)
		}
	}
	shardRows := int64(1_000_000) // SYNTHOS_SHARD_ROWS's default
	if s := os.Getenv("SYNTHOS_SHARD_ROWS"); s != "" {
		var err error
		if shardRows, err = strconv.ParseInt(s, 10, 64); err != nil || shardRows < 1 {
			t.Fatalf("SYNTHOS_SHARD_ROWS=%q: want a positive row count", s)
		}
	}
	dir := t.TempDir()
	modelPath, m := fitAdultModel(t, dir, synth.KindTree)
	plan, err := Choose(Job{Rows: rows, Columns: len(m.Columns()), Format: table.CSV, MaxShardRows: shardRows}, Generate)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plan: %d shards of ≤ %d rows (bound: %s), est. %.1f s and %d MiB per shard", plan.Shards, plan.ShardRows, plan.Bound, plan.ShardSeconds, plan.PeakBytes>>20)

	parts := make([]string, plan.Shards)
	rss := make([]int64, plan.Shards) // KiB
	secs := make([]float64, plan.Shards)
	errs := make([]error, plan.Shards)
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	start := time.Now()
	for i := range plan.Shards {
		parts[i] = filepath.Join(dir, fmt.Sprintf("part-%05d.csv", i))
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			cmd := exec.Command(os.Args[0], "-test.run=^TestSimWorker$", "-test.count=1")
			cmd.Env = append(os.Environ(),
				fmt.Sprintf("SYNTHOS_SIM_WORKER=%s %s %d %d %d", modelPath, parts[i], rows, i, plan.Shards),
				fmt.Sprintf("GOMAXPROCS=%d", Generate.CPUs),
				fmt.Sprintf("GOMEMLIMIT=%dMiB", Generate.Memory>>20))
			t0 := time.Now()
			out, err := cmd.CombinedOutput()
			secs[i] = time.Since(t0).Seconds()
			if err != nil {
				errs[i] = fmt.Errorf("shard %d: %v: %s", i, err, out)
				return
			}
			rss[i] = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
		})
	}
	wg.Wait()
	wall := time.Since(start)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// Compose: the parts concatenated in order, checked as they stream.
	final := filepath.Join(dir, "out.csv")
	f, err := os.Create(final)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		in, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		os.Remove(p)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(final)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines, headers int64
	var header string
	for sc.Scan() {
		if lines == 0 {
			header = sc.Text()
		} else if sc.Text() == header {
			headers++
		}
		lines++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(final)
	if headers != 0 || lines != rows+1 {
		t.Fatalf("composed output: %d lines (want %d rows + 1 header), %d repeated headers", lines, rows, headers)
	}
	if rows <= 2_000_000 { // small runs also check the parts compose to the one-shard sample
		single := filepath.Join(dir, "single.csv")
		if err := writePart(modelPath, single, rows, 0, 1, 7); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(single)
		b, _ := os.ReadFile(final)
		if !bytes.Equal(a, b) {
			t.Fatalf("composed output (%d bytes) differs from the one-shard sample (%d bytes)", len(b), len(a))
		}
	}
	var maxRSS, sumSecs float64
	for i := range rss {
		maxRSS = max(maxRSS, float64(rss[i])/1024)
		sumSecs += secs[i]
	}
	t.Logf("simulated %d rows: %d shards, %d at once, wall %.1f s, %.0f rows/s; per shard mean %.1f s; peak RSS per worker %.0f MB (max over shards); output %d MB, header once, %d rows",
		rows, plan.Shards, runtime.NumCPU(), wall.Seconds(), float64(rows)/wall.Seconds(), sumSecs/float64(len(secs)), maxRSS, st.Size()>>20, lines-1)
	if maxRSS > 200 {
		t.Errorf("peak RSS per worker %.0f MB, over the 200 MB target", maxRSS)
	}
}
