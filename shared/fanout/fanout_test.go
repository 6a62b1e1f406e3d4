package fanout

import (
	"errors"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

func TestChoose(t *testing.T) {
	// Seconds per row of 15 CSV columns on one CPU, and the rows a shard
	// may take in half of 540 s.
	perRow := 15 * CellSeconds[table.CSV]
	timeRows := int64(270 / perRow)
	for _, tc := range []struct {
		name   string
		job    Job
		limits Limits
		shards int
		rows   int64
		bound  string
		err    error
	}{
		{"small job, one shard", Job{Rows: 1000, Columns: 15, Format: table.CSV, MaxShardRows: 1_000_000}, Generate, 1, 1000, "rows", nil},
		{"empty job", Job{Rows: 0, Columns: 15, Format: table.CSV, MaxShardRows: 1_000_000}, Generate, 1, 0, "rows", nil},
		{"cap binds", Job{Rows: 10_000_001, Columns: 15, Format: table.CSV, MaxShardRows: 1_000_000}, Generate, 11, 1_000_000, "SYNTHOS_SHARD_ROWS", nil},
		{"exact multiple", Job{Rows: 3000, Columns: 4, Format: table.CSV, MaxShardRows: 1000}, Generate, 3, 1000, "SYNTHOS_SHARD_ROWS", nil},
		{"timeout binds", Job{Rows: 1_000_000_000, Columns: 15, Format: table.CSV, MaxShardRows: 1_000_000_000}, Generate, int((1_000_000_000 + timeRows - 1) / timeRows), timeRows, "timeout", nil},
		{"no cap", Job{Rows: 1_000_000_000, Columns: 15, Format: table.CSV}, Generate, int((1_000_000_000 + timeRows - 1) / timeRows), timeRows, "timeout", nil},
		{"two CPUs double the time bound", Job{Rows: 1_000_000_000, Columns: 15, Format: table.CSV}, Limits{Memory: 4 << 30, CPUs: 2, Timeout: 540 * time.Second}, int((1_000_000_000 + 2*timeRows - 1) / (2 * timeRows)), 2 * timeRows, "timeout", nil},
		{"wider rows, smaller shards", Job{Rows: 1_000_000_000, Columns: 150, Format: table.CSV}, Generate, int((1_000_000_000 + timeRows/10 - 1) / (timeRows / 10)), timeRows / 10, "timeout", nil},
		{"JSON Lines costs more", Job{Rows: 1_000_000_000, Columns: 15, Format: table.JSONL}, Generate, 0, int64(270 / (15 * CellSeconds[table.JSONL])), "timeout", nil},
		{"parquet samples JSON Lines parts", Job{Rows: 1_000_000_000, Columns: 15, Format: table.Parquet}, Generate, 0, int64(270 / (15 * CellSeconds[table.JSONL])), "timeout", nil},
		{"too many shards at the cap: larger shards", Job{Rows: 100_000_000, Columns: 15, Format: table.CSV, MaxShardRows: 1000}, Generate, MaxShards, 10_000, "MaxShards", nil},
		{"too large for any plan", Job{Rows: 1 << 50, Columns: 15, Format: table.CSV}, Generate, 0, 0, "", ErrTooLarge},
		{"model larger than the instance", Job{Rows: 10, Columns: 15, Format: table.CSV, ModelBytes: 3 << 30}, Generate, 0, 0, "", ErrTooLarge},
		{"window of wide rows too large for two CPUs", Job{Rows: 10, Columns: 20_000, Format: table.CSV}, Limits{Memory: 2 << 30, CPUs: 2, Timeout: time.Hour}, 0, 0, "", ErrTooLarge},
		{"timeout shorter than a row", Job{Rows: 10, Columns: 15, Format: table.CSV}, Limits{Memory: 1 << 30, CPUs: 1, Timeout: time.Nanosecond}, 0, 0, "", ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Choose(tc.job, tc.limits)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || errs.CodeOf(err) != errs.InvalidArgument {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.shards == 0 { // computed from rows
				tc.shards = int((tc.job.Rows + tc.rows - 1) / tc.rows)
			}
			if p.Shards != tc.shards || p.ShardRows != tc.rows || p.Bound != tc.bound {
				t.Fatalf("plan %+v, want %d shards of %d rows bound by %s", p, tc.shards, tc.rows, tc.bound)
			}
			if int64(p.Shards)*p.ShardRows < tc.job.Rows || (p.Shards > 1 && int64(p.Shards-1)*p.ShardRows >= tc.job.Rows) {
				t.Fatalf("%d shards of %d rows do not tightly cover %d rows", p.Shards, p.ShardRows, tc.job.Rows)
			}
			if p.ShardSeconds > tc.limits.Timeout.Seconds()*TimeShare+1e-9 {
				t.Fatalf("a shard takes %.1f s of a %v timeout", p.ShardSeconds, tc.limits.Timeout)
			}
			if p.PeakBytes > tc.limits.Memory {
				t.Fatalf("peak %d over memory %d", p.PeakBytes, tc.limits.Memory)
			}
		})
	}
}

func TestChoosePeak(t *testing.T) {
	one, err := Choose(Job{Rows: 10, Columns: 15, Format: table.CSV}, Generate)
	if err != nil {
		t.Fatal(err)
	}
	if one.PeakBytes != BaseBytes+DefaultModelBytes {
		t.Fatalf("one CPU samples on the caller (no window): peak %d, want %d", one.PeakBytes, BaseBytes+DefaultModelBytes)
	}
	two, err := Choose(Job{Rows: 10, Columns: 15, Format: table.CSV, ModelBytes: 1 << 20}, Limits{Memory: 2 << 30, CPUs: 2, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(BaseBytes + 1<<20 + 4*synth.MaxTaskBytes); two.PeakBytes != want {
		t.Fatalf("two CPUs: peak %d, want %d (a window of 4 tasks)", two.PeakBytes, want)
	}
}

func TestChooseBadInput(t *testing.T) {
	for _, j := range []Job{{Rows: -1, Columns: 1, Format: table.CSV}, {Rows: 1, Columns: 0, Format: table.CSV}, {Rows: 1, Columns: 1, Format: table.Auto}} {
		if _, err := Choose(j, Generate); errs.CodeOf(err) != errs.InvalidArgument {
			t.Fatalf("%+v: err = %v, want InvalidArgument", j, err)
		}
	}
}

// TestGenerateLimitsMatchTerraform keeps Generate in step with the
// generate function's service_config in Terraform.
func TestGenerateLimitsMatchTerraform(t *testing.T) {
	b, err := os.ReadFile("../../terraform/service_generate.tf")
	if err != nil {
		t.Fatalf("read the generate function's Terraform: %v", err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s*` + name + `\s*=\s*"?([0-9A-Za-z]+)"?`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("service_generate.tf has no %s", name)
		}
		return string(m[1])
	}
	mem := field("available_memory")
	units := map[string]int64{"Gi": 1 << 30, "Mi": 1 << 20, "G": 1e9, "M": 1e6}
	m := regexp.MustCompile(`^([0-9]+)(Gi|Mi|G|M)$`).FindStringSubmatch(mem)
	if m == nil {
		t.Fatalf("available_memory %q: unknown unit", mem)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	if n*units[m[2]] != Generate.Memory {
		t.Errorf("Terraform gives generate %s, fanout.Generate.Memory is %d", mem, Generate.Memory)
	}
	if cpu, _ := strconv.Atoi(field("available_cpu")); cpu != Generate.CPUs {
		t.Errorf("Terraform gives generate %d CPUs, fanout.Generate.CPUs is %d", cpu, Generate.CPUs)
	}
	if s, _ := strconv.Atoi(field("timeout_seconds")); time.Duration(s)*time.Second != Generate.Timeout {
		t.Errorf("Terraform gives generate a %d s timeout, fanout.Generate.Timeout is %v", s, Generate.Timeout)
	}
}
