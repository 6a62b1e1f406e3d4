package e2e

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/pipeline"
)

// TestBigShardedJob measures a 10,000,000-row job sampled in 10 shards of
// 1,000,000 on the embedded platform: wall time and peak resident memory,
// which the shard size bounds (shards stream to their parts; the output is
// stream-composed; the evaluation reads pipeline.DefaultEvalRows rows). It
// writes about 2 GB to the temporary directory and runs only with
// SYNTHOS_BIG=1.
func TestBigShardedJob(t *testing.T) {
	if os.Getenv("SYNTHOS_BIG") != "1" {
		t.Skip("SYNTHOS_BIG=1 runs the 10,000,000-row measurement")
	}
	const rows = 10_000_000
	e := startEmbedded(t, embeddedOptions{shardRows: 1_000_000})
	ds := upload(t, e.env, "acme", "ds-adult", "adult.csv", adult(t, 0))
	j := &jobs.Job{ID: "job-big", Tenant: "acme", Request: jobs.Request{
		Dataset: ds.ID, Rows: rows, Model: "tree", Seed: 3, Format: "csv", Target: "income"}}
	start := time.Now()
	submit(t, e.env, j)
	e.drain(t)
	elapsed := time.Since(start)

	got := loadJob(t, e.env, j.ID)
	if got.State != jobs.Succeeded {
		t.Fatalf("job is %s (%s; %v)", got.State, got.Error, got.Reasons)
	}
	if got.Shards != 10 {
		t.Errorf("shards = %d, want 10", got.Shards)
	}
	r, err := e.env.Objects.NewReader(t.Context(), got.Outputs[pipeline.OutputData], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lines, err := countLines(r)
	if err != nil {
		t.Fatal(err)
	}
	if lines != rows+1 {
		t.Errorf("output has %d lines, want a header and %d rows", lines, rows)
	}
	t.Logf("%d rows in %d shards: %s wall, %d bytes, peak RSS %s, GOMAXPROCS %d",
		rows, got.Shards, elapsed.Round(time.Millisecond), r.Size(), peakRSS(t, "self"), runtime.GOMAXPROCS(0))
}

func countLines(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	buf := make([]byte, 1<<20)
	n := 0
	for {
		k, err := br.Read(buf)
		n += bytes.Count(buf[:k], []byte("\n"))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// peakRSS is the peak resident memory (VmHWM) of process pid ("self" for
// this one).
func peakRSS(t testing.TB, pid string) string {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Logf("peak RSS unavailable: %v", err)
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
