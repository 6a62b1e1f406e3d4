//go:build unix

package main

import "syscall"

// cpuSeconds is the process's user and system CPU time so far, for the
// per-phase figures generate reports (wall time alone misleads on a
// loaded machine); -1 when the system cannot tell.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
