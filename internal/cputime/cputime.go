// Package cputime reads the CPU time this process has used, so benchmarks
// can report work per CPU-second: on a machine shared with other work, wall
// time per op measures the queue for a core as much as the work.
package cputime

import "time"

// Process returns the user and system CPU time the process has used so
// far, or 0 where the platform does not report it (benchmarks then report
// no CPU figure rather than a wrong one).
func Process() time.Duration { return process() }
