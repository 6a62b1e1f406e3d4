package cputime

import (
	"runtime"
	"testing"
)

// TestProcessGrows checks the figure moves with work done on this process.
func TestProcessGrows(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no getrusage on " + runtime.GOOS)
	}
	before := Process()
	x := 0
	for i := range 50_000_000 {
		x ^= i * i
	}
	after := Process()
	if after <= before {
		t.Errorf("CPU time %v then %v after a busy loop (%d)", before, after, x)
	}
}
