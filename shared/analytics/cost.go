package analytics

import (
	"fmt"
	"math"

	"synthos.dev/synthos/shared/jobs"
)

// Prices turn a job's run time into an estimated compute cost: one
// instance of VCPUs and GiB for every second from admission to the end,
// at Cloud Run functions' request-based list prices (README, "A billion
// rows on Cloud Functions"). It is an estimate: the job's record holds its
// run time, not the instance-seconds of its steps, so time spent queued
// counts and a sharded job's parallel instances count once.
type Prices struct {
	VCPUSecond float64 // US dollars per vCPU-second
	GiBSecond  float64 // US dollars per GiB-second
	VCPUs      float64 // vCPUs of the instance a job runs on
	GiB        float64 // memory of that instance
}

// DefaultPrices are the README's cost model: $0.000024 per vCPU-second,
// $0.0000025 per GiB-second, on an instance of 1 vCPU and 2 GiB, so
// $0.000029 per second.
var DefaultPrices = Prices{VCPUSecond: 0.000024, GiBSecond: 0.0000025, VCPUs: 1, GiB: 2}

// Validate rejects negative or non-finite prices and sizes.
func (p Prices) Validate() error {
	for _, v := range []float64{p.VCPUSecond, p.GiBSecond, p.VCPUs, p.GiB} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("analytics: prices %+v: every price and size must be a finite number ≥ 0", p)
		}
	}
	return nil
}

// PerSecond is the cost of one instance-second.
func (p Prices) PerSecond() float64 { return p.VCPUs*p.VCPUSecond + p.GiB*p.GiBSecond }

// Compute is the estimated cost of seconds of run time.
func (p Prices) Compute(seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return seconds * p.PerSecond()
}

// AICost is what j's model calls cost in US dollars (its AI use is kept in
// millionths of a dollar).
func AICost(j *jobs.Job) float64 {
	if j.AI == nil {
		return 0
	}
	return float64(j.AI.CostMicros) / 1e6
}
