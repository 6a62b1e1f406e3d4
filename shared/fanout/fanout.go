// Package fanout is the cost model that splits a generate job into shards:
// how many rows one function instance samples, and so how many instances a
// job fans out to, from the job's rows, columns and output format and the
// instance's memory, CPU and timeout limits.
//
// The model, per shard (one instance, sampling with synth.SampleParallel on
// its CPUs and streaming its part to the object store):
//
//	seconds(rows) = rows × columns × CellSeconds[format] / CPUs
//	peak memory   = BaseBytes + ModelBytes + window
//	window        = 2 × CPUs × max(synth.MaxTaskBytes, one block's cells)
//	                (0 on one CPU, where sampling runs on the caller)
//
// Sampling streams, so memory does not grow with the shard's rows: it is a
// feasibility check (a model too large for the instance fails the plan)
// while time sets the shard size. A shard gets TimeShare of the timeout, the
// rest being headroom for loading the model, finishing the upload, a slower
// or busier CPU than the one CellSeconds was measured on, and a retry's
// restart. The shard size is the smaller of that and the operator's cap
// (SYNTHOS_SHARD_ROWS); a job needing more than MaxShards shards at the cap
// gets larger shards, within the time bound, or is refused.
package fanout

import (
	"fmt"
	"math"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// Limits are one generate instance's resources.
type Limits struct {
	Memory  int64         // bytes
	CPUs    int           // vCPUs sampling runs on
	Timeout time.Duration // the function's timeout
}

// Generate is the generate function's limits as terraform/service_generate.tf
// sets them (available_memory 2Gi, available_cpu 1, timeout_seconds 540); a
// test reads that file and fails when the two drift apart.
var Generate = Limits{Memory: 2 << 30, CPUs: 1, Timeout: 540 * time.Second}

// Cost constants. CellSeconds is one core's time to sample and format one
// cell with the tree model (the default and slowest of the three): measured
// by BenchmarkShard as CPU time per row over 15 adult columns (README
// "Scale" lists the figures), rounded up. Parquet jobs sample JSON Lines
// parts (converted when the parts are composed), so they cost JSON Lines.
var CellSeconds = map[table.Format]float64{
	table.CSV:     300e-9,
	table.TSV:     300e-9,
	table.JSONL:   350e-9,
	table.Parquet: 350e-9,
}

const (
	// TimeShare is the share of the timeout a shard's sampling may take.
	TimeShare = 0.5
	// MaxShards bounds a job's shards: the job record lists the shards
	// done (a few bytes each, far below Firestore's 1 MiB document), and
	// composing goes 32 parts per call, so 10,000 parts take 3 levels.
	MaxShards = 10_000
	// BaseBytes is an instance's memory before the model: Go runtime,
	// clients, the object store's upload buffer (16 MiB chunks) and slack.
	BaseBytes = 96 << 20
	// DefaultModelBytes stands for the model's memory when the caller does
	// not know it: a tree model of adult is a few MB; this is generous.
	DefaultModelBytes = 64 << 20
)

// Job is what the model needs to know of a generate job.
type Job struct {
	Rows    int64
	Columns int
	Format  table.Format
	// MaxShardRows caps a shard's rows (SYNTHOS_SHARD_ROWS); 0 means no cap
	// but the time bound.
	MaxShardRows int64
	// ModelBytes is the fitted model's memory; 0 means DefaultModelBytes.
	ModelBytes int64
}

// Plan is how a job fans out.
type Plan struct {
	Shards    int
	ShardRows int64 // rows of the largest shard
	// ShardSeconds is the estimated sampling time of the largest shard;
	// PeakBytes the estimated peak memory of an instance sampling it.
	ShardSeconds float64
	PeakBytes    int64
	// Bound names what set the shard size: "rows" (one shard holds the
	// job), "SYNTHOS_SHARD_ROWS", "timeout" or "MaxShards".
	Bound string
}

// ErrTooLarge reports a job that no plan fits into the limits.
var ErrTooLarge = errs.New(errs.InvalidArgument, "fanout: job does not fit the generate function's limits")

// Choose plans job j on instances with limits l.
func Choose(j Job, l Limits) (Plan, error) {
	if j.Rows < 0 || j.Columns < 1 || l.CPUs < 1 || l.Timeout <= 0 || l.Memory <= 0 {
		return Plan{}, fmt.Errorf("fanout.Choose: rows=%d columns=%d cpus=%d timeout=%v memory=%d: %w", j.Rows, j.Columns, l.CPUs, l.Timeout, l.Memory, errs.New(errs.InvalidArgument, "bad plan input"))
	}
	cell, ok := CellSeconds[j.Format]
	if !ok {
		return Plan{}, fmt.Errorf("fanout.Choose: no cost for format %v: %w", j.Format, errs.New(errs.InvalidArgument, "unknown format"))
	}
	perRow := float64(j.Columns) * cell / float64(l.CPUs) // seconds
	model := j.ModelBytes
	if model <= 0 {
		model = DefaultModelBytes
	}
	var window int64
	if l.CPUs > 1 {
		window = int64(2*l.CPUs) * max(synth.MaxTaskBytes, synth.BlockRows*synth.BytesPerCell*int64(j.Columns))
	}
	peak := int64(BaseBytes) + model + window
	if peak > l.Memory {
		return Plan{}, fmt.Errorf("fanout.Choose: an instance needs about %d MiB (model %d MiB) but has %d MiB: %w", peak>>20, model>>20, l.Memory>>20, ErrTooLarge)
	}
	timeRows := int64(math.Floor(l.Timeout.Seconds() * TimeShare / perRow))
	if timeRows < 1 {
		return Plan{}, fmt.Errorf("fanout.Choose: one row of %d columns takes longer than %v: %w", j.Columns, l.Timeout, ErrTooLarge)
	}
	size, bound := timeRows, "timeout"
	if j.MaxShardRows > 0 && j.MaxShardRows < size {
		size, bound = j.MaxShardRows, "SYNTHOS_SHARD_ROWS"
	}
	if j.Rows <= size {
		size, bound = max(j.Rows, 0), "rows"
	}
	shards := int64(1)
	if size > 0 {
		shards = (j.Rows + size - 1) / size
	}
	if shards > MaxShards {
		size = (j.Rows + MaxShards - 1) / MaxShards
		if size > timeRows {
			return Plan{}, fmt.Errorf("fanout.Choose: %d rows need shards of %d rows, over the %d one instance samples in %v: %w", j.Rows, size, timeRows, l.Timeout, ErrTooLarge)
		}
		shards, bound = (j.Rows+size-1)/size, "MaxShards"
	}
	return Plan{
		Shards:       int(shards),
		ShardRows:    size,
		ShardSeconds: float64(size) * perRow,
		PeakBytes:    peak,
		Bound:        bound,
	}, nil
}
